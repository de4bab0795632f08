// The int8 dot products behind Conv2D and FullyConnected.
//
// The activations are first widened to int16 into a small "patch" (one output pixel's receptive
// field, or one FullyConnected input row), stored in SXTB16 order: every group of four values
// x0 x1 x2 x3 is laid out as x0 x2 x1 x3. A 32-bit word of four int8 weights w0 w1 w2 w3 then
// splits with SXTB16 into (w0, w2) and, rotated by 8, into (w1, w3): exactly the halfword pairs of
// the patch, so one SMLAD performs two multiply-accumulates. Where the DSP extension is absent
// (Cortex-M0+/M3, the host) and in constant evaluation the same patch is walked with plain
// multiply-adds; integer sums do not depend on their order, so every path gives the same bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "host_simd.hpp"
#include "target.hpp"

// Asks GCC to unroll the loop that follows (clang unrolls small constant-trip loops by itself).
#if defined(__GNUC__) && !defined(__clang__)
#define TINYNET_UNROLL _Pragma("GCC unroll 16")
#define TINYNET_UNROLL_8 _Pragma("GCC unroll 8")
#else
#define TINYNET_UNROLL
#define TINYNET_UNROLL_8
#endif

// Keeps a kernel loop out of its caller, where the caller's live values would push the loop's
// own out of registers.
#if defined(__GNUC__)
#define TINYNET_NOINLINE __attribute__((noinline))
#else
#define TINYNET_NOINLINE
#endif

namespace tinynet::kernels {

// Whether patches use SXTB16 order: on DSP cores at run time; never in constant evaluation.
constexpr bool sxtb16_layout() {
  if (std::is_constant_evaluated()) return false;
  return TINYNET_ARM_DSP != 0;
}

// Where element j of a patch of Count values is stored (only full groups of four are permuted).
template <int Count>
constexpr int patch_position(int j) {
  if (!sxtb16_layout() || j >= Count / 4 * 4) return j;
  const int in_group = j & 3;
  return (j & ~3) | (in_group == 1 ? 2 : in_group == 2 ? 1 : in_group);
}

#if TINYNET_ARM_DSP
inline std::uint32_t load_word(const void* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);  // one LDR: Cortex-M4/M7/M33 load unaligned words
  return v;
}
// SXTB16 of bytes 1 and 3: one instruction (GCC 12 does not fold the rotation by itself).
inline std::uint32_t sxtb16_ror8(std::uint32_t v) {
  std::uint32_t r;
  asm("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
  return r;
}
#endif

// acc[r] += sum_i weights[r * Stride + i] * patch[i], i < Count, for Rows weight rows Stride apart.
template <int Count, int Rows, class Acc, int Stride = Count>
constexpr void dot_rows(const std::int16_t* patch, const std::int8_t* weights, Acc* acc) {
#if TINYNET_ARM_DSP
  if constexpr (std::is_same_v<Acc, std::int32_t>) {
    if (!std::is_constant_evaluated()) {
      constexpr int groups = Count / 4;
      std::int32_t sums[Rows];
      for (int r = 0; r < Rows; ++r) sums[r] = acc[r];
      TINYNET_UNROLL
      for (int g = 0; g < groups; ++g) {
        const std::uint32_t even = load_word(patch + 4 * g);      // (x0, x2)
        const std::uint32_t odd = load_word(patch + 4 * g + 2);   // (x1, x3)
        for (int r = 0; r < Rows; ++r) {
          const std::uint32_t w = load_word(weights + r * Stride + 4 * g);
          sums[r] = static_cast<std::int32_t>(__smlad(even, __sxtb16(w), static_cast<std::uint32_t>(sums[r])));
          sums[r] = static_cast<std::int32_t>(__smlad(odd, sxtb16_ror8(w), static_cast<std::uint32_t>(sums[r])));
        }
      }
      for (int i = groups * 4; i < Count; ++i)
        for (int r = 0; r < Rows; ++r) sums[r] += static_cast<std::int32_t>(weights[r * Stride + i]) * patch[i];
      for (int r = 0; r < Rows; ++r) acc[r] = sums[r];
      return;
    }
  }
#endif
#if TINYNET_HOST_SIMD
  // Host (SSE2): sixteen weights per step, each byte moved to the high half of an int16 lane
  // (256 w, no sign extension needed) and multiplied with the patch by pmaddwd; the sums are
  // divided by 256 at the end (exact). A lane adds Count / 4 products of at most 2^22 in
  // magnitude, so it cannot overflow below 2048 values.
  if constexpr (std::is_same_v<Acc, std::int32_t> && Count >= 16 && Count < 2048) {
    if (!std::is_constant_evaluated()) {
      using namespace host;
      constexpr int vectorized = Count / 16 * 16;
      const i8x16 zero{};
      i32x4 sums[Rows] = {};
      for (int i = 0; i < vectorized; i += 16) {
        const i16x8 x0 = load<i16x8>(patch + i), x1 = load<i16x8>(patch + i + 8);
        for (int r = 0; r < Rows; ++r) {
          const i8x16 w = load<i8x16>(weights + r * Stride + i);
          const i16x8 w0 = reinterpret_cast<i16x8>(
              __builtin_shufflevector(zero, w, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
          const i16x8 w1 = reinterpret_cast<i16x8>(
              __builtin_shufflevector(zero, w, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
          sums[r] += madd(x0, w0) + madd(x1, w1);
        }
      }
      // (Each lane divided by 256 before the lanes are added: their sum could reach 2^31.)
      for (int r = 0; r < Rows; ++r) sums[r] >>= 8;
      const i32x4 totals = Rows == 2 ? sum4(sums[0], sums[Rows - 1], sums[0], sums[0]) : sum4(sums[0], sums[0], sums[0], sums[0]);
      for (int r = 0; r < Rows; ++r) {
        Acc sum = acc[r] + (r < 2 ? totals[r] : sum4(sums[r], sums[r], sums[r], sums[r])[0]);
        const std::int8_t* w = weights + r * Stride;
        for (int i = vectorized; i < Count; ++i) sum += static_cast<Acc>(w[i]) * patch[i];
        acc[r] = sum;
      }
      return;
    }
  }
#endif
  for (int r = 0; r < Rows; ++r) {
    Acc sum = acc[r];
    const std::int8_t* w = weights + r * Stride;
    for (int i = 0; i < Count; ++i) sum += static_cast<Acc>(w[i]) * patch[i];
    acc[r] = sum;
  }
}

// Two patches (two output pixels) against two weight rows (two output channels):
// acc = {pixel 0 row 0, pixel 0 row 1, pixel 1 row 0, pixel 1 row 1}. Each weight word is loaded and
// sign-extended once for both pixels, each patch word once for both rows.
template <int Count>
constexpr void dot_2x2(const std::int16_t* patch0, const std::int16_t* patch1, const std::int8_t* weights,
                       std::int32_t* acc) {
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) {
    constexpr int groups = Count / 4;
    std::uint32_t a00 = static_cast<std::uint32_t>(acc[0]), a01 = static_cast<std::uint32_t>(acc[1]);
    std::uint32_t a10 = static_cast<std::uint32_t>(acc[2]), a11 = static_cast<std::uint32_t>(acc[3]);
    const std::int8_t* w1 = weights + Count;
    // Each step handles four patch positions of both pixels and both rows. Unrolled by 16, GCC
    // keeps every word of a short (<= 64-deep) patch live across the channel loop and spills; 8
    // at a time keeps the accumulators in registers (kws pointwise layers: 1.75 instead of 1.89
    // instructions per MAC on Cortex-M4). Longer patches do better unrolled by 16.
    if constexpr (groups <= 16) {
      TINYNET_UNROLL_8
      for (int g = 0; g < groups; ++g) {
        const std::uint32_t w0 = load_word(weights + 4 * g), w1w = load_word(w1 + 4 * g);
        const std::uint32_t w0e = __sxtb16(w0), w0o = sxtb16_ror8(w0);
        const std::uint32_t w1e = __sxtb16(w1w), w1o = sxtb16_ror8(w1w);
        const std::uint32_t p0e = load_word(patch0 + 4 * g), p0o = load_word(patch0 + 4 * g + 2);
        a00 = __smlad(p0e, w0e, a00);
        a00 = __smlad(p0o, w0o, a00);
        a01 = __smlad(p0e, w1e, a01);
        a01 = __smlad(p0o, w1o, a01);
        const std::uint32_t p1e = load_word(patch1 + 4 * g), p1o = load_word(patch1 + 4 * g + 2);
        a10 = __smlad(p1e, w0e, a10);
        a10 = __smlad(p1o, w0o, a10);
        a11 = __smlad(p1e, w1e, a11);
        a11 = __smlad(p1o, w1o, a11);
      }
    } else {
      TINYNET_UNROLL
      for (int g = 0; g < groups; ++g) {
        const std::uint32_t w0 = load_word(weights + 4 * g), w1w = load_word(w1 + 4 * g);
        const std::uint32_t w0e = __sxtb16(w0), w0o = sxtb16_ror8(w0);
        const std::uint32_t w1e = __sxtb16(w1w), w1o = sxtb16_ror8(w1w);
        const std::uint32_t p0e = load_word(patch0 + 4 * g), p0o = load_word(patch0 + 4 * g + 2);
        a00 = __smlad(p0e, w0e, a00);
        a00 = __smlad(p0o, w0o, a00);
        a01 = __smlad(p0e, w1e, a01);
        a01 = __smlad(p0o, w1o, a01);
        const std::uint32_t p1e = load_word(patch1 + 4 * g), p1o = load_word(patch1 + 4 * g + 2);
        a10 = __smlad(p1e, w0e, a10);
        a10 = __smlad(p1o, w0o, a10);
        a11 = __smlad(p1e, w1e, a11);
        a11 = __smlad(p1o, w1o, a11);
      }
    }
    std::int32_t sums[4] = {static_cast<std::int32_t>(a00), static_cast<std::int32_t>(a01),
                            static_cast<std::int32_t>(a10), static_cast<std::int32_t>(a11)};
    for (int i = groups * 4; i < Count; ++i) {
      sums[0] += static_cast<std::int32_t>(weights[i]) * patch0[i];
      sums[1] += static_cast<std::int32_t>(w1[i]) * patch0[i];
      sums[2] += static_cast<std::int32_t>(weights[i]) * patch1[i];
      sums[3] += static_cast<std::int32_t>(w1[i]) * patch1[i];
    }
    for (int k = 0; k < 4; ++k) acc[k] = sums[k];
    return;
  }
#endif
  dot_rows<Count, 2>(patch0, weights, acc);
  dot_rows<Count, 2>(patch1, weights, acc + 2);
}

}  // namespace tinynet::kernels
