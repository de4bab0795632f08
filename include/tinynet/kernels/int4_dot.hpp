// Dot products over int4 weights that stay packed in flash (core/int4.hpp: two per byte, low nibble
// first), for FullyConnected's packed form.
//
// On DSP cores one word holds eight weights n0..n7 (byte k = n(2k) | n(2k+1) << 4). Masking the high
// nibbles in place (w & 0xF0F0F0F0) and the low ones shifted up ((w << 4) & 0xF0F0F0F0) gives four
// bytes each of 16 * n, which SXTB16 splits into halfword pairs:
//   SXTB16(lo) = (16 n0, 16 n4)   SXTB16(lo, ror 8) = (16 n2, 16 n6)
//   SXTB16(hi) = (16 n1, 16 n5)   SXTB16(hi, ror 8) = (16 n3, 16 n7)
// so the int16 patch of inputs is stored, per group of eight, as x0 x4 x2 x6 x1 x5 x3 x7
// (int4_patch_position) and four SMLADs do eight multiply-accumulates. The sum is 16 times the dot
// product, exactly (every term is a multiple of 16): shifted right by 4 at the end. Elsewhere, and
// in constant evaluation, the patch is in plain order and a loop reads the nibbles one by one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../core/int4.hpp"
#include "../core/target.hpp"
#include "arm_dsp/dot.hpp"
#include "dot.hpp"
#include "unroll.hpp"

namespace tinynet::kernels {

// Where element j of a patch of Count values is stored for the int4 kernels (only full groups of
// eight are permuted; the permutation is its own inverse).
template <int Count>
constexpr int int4_patch_position(int j) {
  if (!sxtb16_layout() || j >= Count / 8 * 8) return j;
  constexpr int order[8] = {0, 4, 2, 6, 1, 5, 3, 7};
  return (j & ~7) | order[j & 7];
}

#if TINYNET_ARM_DSP
namespace arm_dsp {
// acc[r] += sum_i w(r, i) * patch[i], i < Count, where row r's weights are the int4 values from
// byte `bytes + r * RowBytes` on (each row starts at a byte: an even number of weights before it).
template <int Count, int Rows, int RowBytes>
inline void dot_rows_int4(const std::int16_t* patch, const std::uint8_t* bytes, std::int32_t* acc) {
  static_assert(Count < (1 << 17), "tinynet: the int4 kernel's int32 sums of 16 * w * x are exact below 2^17 terms");
  constexpr int groups = Count / 8;
  const std::uint32_t mask = 0xF0F0F0F0u;
  std::uint32_t sums[Rows]{};
  TINYNET_UNROLL_8
  for (int g = 0; g < groups; ++g) {
    const std::uint32_t p0 = load_word(patch + 8 * g), p1 = load_word(patch + 8 * g + 2);
    const std::uint32_t p2 = load_word(patch + 8 * g + 4), p3 = load_word(patch + 8 * g + 6);
    for (int r = 0; r < Rows; ++r) {
      const std::uint32_t w = load_word(bytes + r * RowBytes + 4 * g);
      const std::uint32_t lo = (w << 4) & mask, hi = w & mask;
      sums[r] = __smlad(p0, __sxtb16(lo), sums[r]);
      sums[r] = __smlad(p1, sxtb16_ror8(lo), sums[r]);
      sums[r] = __smlad(p2, __sxtb16(hi), sums[r]);
      sums[r] = __smlad(p3, sxtb16_ror8(hi), sums[r]);
    }
  }
  for (int r = 0; r < Rows; ++r) {
    std::int32_t total = static_cast<std::int32_t>(sums[r]) >> 4;
    for (int i = groups * 8; i < Count; ++i)
      total += static_cast<std::int32_t>(int4_value(bytes[r * RowBytes + i / 2], i % 2)) * patch[i];
    acc[r] += total;
  }
}

// Two patches (two output pixels, the second `Count` values after the first) against two rows
// (two output channels, RowBytes apart): acc = {pixel 0 row 0, pixel 0 row 1, pixel 1 row 0,
// pixel 1 row 1}. Each weight word is unpacked once for both pixels, each patch word loaded once
// for both rows. The fixed distances between the patches and between the rows keep to two
// pointers, so that the loop's values stay in registers.
template <int Count, int RowBytes>
inline void dot_2x2_int4(const std::int16_t* patches, const std::uint8_t* bytes, std::int32_t* acc) {
  static_assert(Count < (1 << 17), "tinynet: the int4 kernel's int32 sums of 16 * w * x are exact below 2^17 terms");
  constexpr int groups = Count / 8;
  std::uint32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
  const std::int16_t* p = patches;
  const std::uint8_t* w = bytes;
  const std::uint8_t* const end = bytes + 4 * groups;
#define TINYNET_INT4_2X2_STEP(k, x, y)                                                      \
  do {                                                                                      \
    const std::uint32_t q0 = load_word(p + 2 * (k)), q1 = load_word(p + Count + 2 * (k));  \
    const std::uint32_t wx = (x), wy = (y);                                                 \
    a00 = __smlad(q0, wx, a00);                                                             \
    a01 = __smlad(q0, wy, a01);                                                             \
    a10 = __smlad(q1, wx, a10);                                                             \
    a11 = __smlad(q1, wy, a11);                                                             \
  } while (false)
#pragma GCC unroll 1
  for (; w != end; w += 4, p += 8) {
    const std::uint32_t lo0 = (load_word(w) << 4) & 0xF0F0F0F0u, lo1 = (load_word(w + RowBytes) << 4) & 0xF0F0F0F0u;
    TINYNET_INT4_2X2_STEP(0, __sxtb16(lo0), __sxtb16(lo1));
    TINYNET_INT4_2X2_STEP(1, sxtb16_ror8(lo0), sxtb16_ror8(lo1));
    const std::uint32_t hi0 = load_word(w) & 0xF0F0F0F0u, hi1 = load_word(w + RowBytes) & 0xF0F0F0F0u;
    TINYNET_INT4_2X2_STEP(2, __sxtb16(hi0), __sxtb16(hi1));
    TINYNET_INT4_2X2_STEP(3, sxtb16_ror8(hi0), sxtb16_ror8(hi1));
  }
#undef TINYNET_INT4_2X2_STEP
  const std::int16_t* patch1 = patches + Count;
  const std::uint8_t* row1 = bytes + RowBytes;
  std::int32_t sums[4] = {static_cast<std::int32_t>(a00) >> 4, static_cast<std::int32_t>(a01) >> 4,
                          static_cast<std::int32_t>(a10) >> 4, static_cast<std::int32_t>(a11) >> 4};
  for (int i = groups * 8; i < Count; ++i) {
    const std::int32_t v0 = int4_value(bytes[i / 2], i % 2), v1 = int4_value(row1[i / 2], i % 2);
    sums[0] += v0 * patches[i];
    sums[1] += v1 * patches[i];
    sums[2] += v0 * patch1[i];
    sums[3] += v1 * patch1[i];
  }
  for (int k = 0; k < 4; ++k) acc[k] += sums[k];
}
}  // namespace arm_dsp
#endif

// acc[r] += sum_i Weights[first + r * Stride + i] * patch[i], i < Count, for Rows rows of the packed
// int4 weights (a PackedInt4). `first` and Stride must be even (rows start at a byte).
template <int Count, int Rows, int Stride, const auto& Weights>
constexpr void dot_rows_int4(const std::int16_t* patch, int first, std::int32_t* acc) {
  static_assert(is_packed_int4<std::remove_cvref_t<decltype(Weights)>>);
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) {
    static_assert(Stride % 2 == 0, "tinynet: packed int4 rows start at a byte");
    arm_dsp::dot_rows_int4<Count, Rows, Stride / 2>(patch, Weights.packed.data() + first / 2, acc);
    return;
  }
#endif
  for (int r = 0; r < Rows; ++r) {
    std::int32_t sum = 0;
    const int row = first + r * Stride;
    for (int i = 0; i < Count; ++i)
      sum += static_cast<std::int32_t>(Weights[static_cast<std::size_t>(row + i)]) * patch[i];
    acc[r] += sum;
  }
}

// Two patches (`patches`, and Count values later the second) against rows `first` and
// `first + Stride` of packed int4 weights (as dot_2x2).
template <int Count, int Stride, const auto& Weights>
constexpr void dot_2x2_int4(const std::int16_t* patches, int first, std::int32_t* acc) {
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) {
    static_assert(Stride % 2 == 0, "tinynet: packed int4 rows start at a byte");
    arm_dsp::dot_2x2_int4<Count, Stride / 2>(patches, Weights.packed.data() + first / 2, acc);
    return;
  }
#endif
  dot_rows_int4<Count, 2, Stride, Weights>(patches, first, acc);
  dot_rows_int4<Count, 2, Stride, Weights>(patches + Count, first, acc + 2);
}

}  // namespace tinynet::kernels
