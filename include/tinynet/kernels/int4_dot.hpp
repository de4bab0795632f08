// Dot products over int4 weights that stay packed in flash (core/int4.hpp: TFLite's layout, two per
// byte, low nibble first), for the packed forms of FullyConnected and Conv2D; and DepthwiseConv2D's
// packed form on DSP cores (depthwise_int4_words, DepthwiseInt4, at the end).
//
// On DSP cores one word holds eight weights n0..n7 (nibble k at bits 4k..4k+3), stored by the
// compiler as u = n + 8 (0..15: core/int4.hpp flips each nibble's sign bit); masking with
// 0x000F000F after shifting right by 0, 4, 8, 12 gives the halfword pairs (u0, u4), (u1, u5),
// (u2, u6), (u3, u7), ready for SMLAD (one AND with a shifted operand each, no sign extension). The int16 patch of
// inputs is therefore stored, per group of eight, as x0 x4 x1 x5 x2 x6 x3 x7
// (int4_patch_position), and
//     sum n x = sum u x - 8 sum x,
// where 8 sum x (int4_patch_offset) is computed once per patch and shared by every row.
// Elsewhere, and in constant evaluation, the patch is in plain order and a loop reads the nibbles
// one by one (the offset is then 0 and unused).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../core/int4.hpp"
#include "../core/target.hpp"
#include "arm_dsp/depthwise_conv2d.hpp"
#include "arm_dsp/dot.hpp"
#include "dot.hpp"
#include "unroll.hpp"

namespace tinynet::kernels {

// Whether the int4 kernels read patches in their SIMD order (DSP cores at run time).
constexpr bool int4_simd() {
  if (std::is_constant_evaluated()) return false;
  return TINYNET_ARM_DSP != 0;
}

// Where element j of a patch of Count values is stored for the int4 kernels (only full groups of
// eight are permuted).
template <int Count>
constexpr int int4_patch_position(int j) {
  if (!int4_simd() || j >= Count / 8 * 8) return j;
  const int k = j & 7;  // 0..7 -> 0 2 4 6 1 3 5 7: the order x0 x4 x1 x5 x2 x6 x3 x7
  return (j & ~7) | ((k & 3) << 1) | (k >> 2);
}

#if TINYNET_ARM_DSP
namespace arm_dsp {
// The DSP forms of int4_patch_offset and widen_int4_patch below: out of line, per Count rather
// than per layer, and loops not unrolled by more than two. Inlined at each of a Conv2D's gathers,
// kws's int4 image took 9.7 KB more flash; unrolled by eight, 1.1 KB more (ad01's, with blocks of
// several sizes, 3.1 KB) for 0.5 % fewer instructions. The offset's loop, two groups per pass and
// its words loaded in pairs (LDRD), takes kws at 4 bits from 4,279,999 to 4,263,971 instructions
// for 76 bytes.
// The patch is 4-byte aligned (every caller's patch array is alignas(4), and a patch's size is
// even): its words come in pairs by LDRD.
template <int Count>
TINYNET_NOINLINE std::int32_t int4_patch_offset(const std::int16_t* patch) {
  std::uint32_t sum = 0, ones = 0x00010001u;
  asm("" : "+r"(ones));  // (in a register: GCC 12 set the constant again for each SMLAD)
  const auto* aligned = static_cast<const std::int16_t*>(__builtin_assume_aligned(patch, 4));
  TINYNET_UNROLL_2
  for (int g = 0; g < Count / 8; ++g) {
    // Four values per halfword (at most 512 in magnitude), then both halves at once.
    const std::int16_t* v = aligned + 8 * g;
    const std::uint32_t h = __sadd16(__sadd16(load_word(v), load_word(v + 2)), __sadd16(load_word(v + 4), load_word(v + 6)));
    sum = __smlad(h, ones, sum);
  }
  return 8 * static_cast<std::int32_t>(sum);
}

template <int Count>
TINYNET_NOINLINE void widen_int4_patch(const std::int8_t* src, std::int16_t* patch) {
  TINYNET_NO_UNROLL
  for (int g = 0; g < Count / 8; ++g) {
    const std::uint32_t a = load_word(src + 8 * g), b = load_word(src + 8 * g + 4);
    const std::uint32_t a02 = __sxtb16(a), a13 = sxtb16_ror8(a);
    const std::uint32_t b46 = __sxtb16(b), b57 = sxtb16_ror8(b);
    const std::uint32_t words[4] = {pack_bottoms(a02, b46), pack_bottoms(a13, b57), pack_tops(a02, b46), pack_tops(a13, b57)};
    std::memcpy(patch + 8 * g, words, 16);
  }
  for (int i = Count / 8 * 8; i < Count; ++i) patch[i] = src[i];
}
}  // namespace arm_dsp
#endif

// 8 * the sum of the patch's values in full groups of eight: what the offset nibbles add (see
// above); 0 where the kernels read the nibbles directly. On DSP cores eight values per two LDRD,
// three SADD16 and one SMLAD with (1, 1): 6 instructions per eight values, where a loop of one
// value per iteration took 32.
template <int Count>
constexpr std::int32_t int4_patch_offset(const std::int16_t* patch) {
  if (!int4_simd()) return 0;
#if TINYNET_ARM_DSP
  return arm_dsp::int4_patch_offset<Count>(patch);
#else
  std::int32_t sum = 0;
  for (int i = 0; i < Count / 8 * 8; ++i) sum += patch[i];
  return 8 * sum;
#endif
}

// Count int8 values (contiguous) widened into a patch in int4_patch_position's order. On DSP cores
// each group of eight is two words A = x0..x3, B = x4..x7: SXTB16 gives (x0, x2), (x1, x3),
// (x4, x6), (x5, x7), and four PKHBT/PKHTB pair them across the words into (x0, x4), (x1, x5),
// (x2, x6), (x3, x7): 14 instructions per eight values where a permuted store per value took
// about 13 per value. The last Count % 8 values in plain order.
template <int Count>
constexpr void widen_int4_patch(const std::int8_t* src, std::int16_t* patch) {
#if TINYNET_ARM_DSP
  if (int4_simd()) return arm_dsp::widen_int4_patch<Count>(src, patch);
#endif
  for (int j = 0; j < Count; ++j) patch[int4_patch_position<Count>(j)] = src[j];
}

#if TINYNET_ARM_DSP
namespace arm_dsp {
// One group of eight offset nibbles (a word u of a PackedInt4) splits into the halfword pairs
// (u0, u4), (u1, u5), (u2, u6), (u3, u7): `and x, mask, u, lsr #4k`. In the asm blocks below, a
// group of weights of both rows is read and multiplied with no instruction to spare (GCC 12
// compiling the same in C hoists the loads and spills the sums); two groups per iteration.

// acc[r] += sum_i w(r, i) * patch[i], i < Count, where row r's weights are the packed nibbles from
// byte `bytes + r * RowBytes` on (each row starts at a byte); offset = int4_patch_offset(patch).
// (dot_rows_int4 below: rows within the two-row asm's 12-bit offsets.)
template <int Count, int Rows, int RowBytes>
[[gnu::always_inline]] inline void dot_rows_int4_near(const std::int16_t* patch, const std::uint8_t* bytes, std::int32_t offset,
                                                      std::int32_t* acc) {
  static_assert(Count < (1 << 16), "tinynet: the int4 kernel's int32 sums of (w + 8) * x are exact below 2^16 terms");
  constexpr int groups = Count / 8;
  const std::uint32_t mask = 0x000F000Fu;
  std::uint32_t sums[2] = {0, 0};
  const std::int16_t* p = patch;
  const std::uint8_t* w = bytes;
  // One group: words at w + W (row 0) and w + W + RowBytes (row 1), patch words from p + P.
#define TINYNET_INT4_ROWS_GROUP(w0, w1, p0, p1, p2, p3)                                      \
  "ldr %[u0], [%[w], #" w0 "]\n\t"                                                           \
  "ldr %[q], [%[p], #" p0 "]\n\t"                                                            \
  "and %[x], %[m], %[u0]\n\t"                                                                \
  "smlad %[s0], %[q], %[x], %[s0]\n\t"                                                       \
  "ldr %[u1], [%[w], #" w1 "]\n\t"                                                           \
  "and %[x], %[m], %[u1]\n\t"                                                                \
  "smlad %[s1], %[q], %[x], %[s1]\n\t"                                                       \
  "ldr %[q], [%[p], #" p1 "]\n\t"                                                            \
  "and %[x], %[m], %[u0], lsr #4\n\t"                                                        \
  "smlad %[s0], %[q], %[x], %[s0]\n\t"                                                       \
  "and %[x], %[m], %[u1], lsr #4\n\t"                                                        \
  "smlad %[s1], %[q], %[x], %[s1]\n\t"                                                       \
  "ldr %[q], [%[p], #" p2 "]\n\t"                                                            \
  "and %[x], %[m], %[u0], lsr #8\n\t"                                                        \
  "smlad %[s0], %[q], %[x], %[s0]\n\t"                                                       \
  "and %[x], %[m], %[u1], lsr #8\n\t"                                                        \
  "smlad %[s1], %[q], %[x], %[s1]\n\t"                                                       \
  "ldr %[q], [%[p], #" p3 "]\n\t"                                                            \
  "and %[x], %[m], %[u0], lsr #12\n\t"                                                       \
  "smlad %[s0], %[q], %[x], %[s0]\n\t"                                                       \
  "and %[x], %[m], %[u1], lsr #12\n\t"                                                       \
  "smlad %[s1], %[q], %[x], %[s1]\n\t"
#define TINYNET_INT4_ROWS_ASM(text, step_w, step_p)                                          \
  do {                                                                                       \
    std::uint32_t u0, u1, q, x;                                                              \
    asm(text "adds %[w], %[w], #" step_w "\n\tadds %[p], %[p], #" step_p                     \
        : [s0] "+r"(sums[0]), [s1] "+r"(sums[1]), [w] "+r"(w), [p] "+r"(p), [u0] "=&r"(u0),   \
          [u1] "=&r"(u1), [q] "=&r"(q), [x] "=&r"(x)                                          \
        : [m] "r"(mask), [r0] "i"(RowBytes), [r1] "i"(RowBytes + 4),                         \
          "m"(*reinterpret_cast<const std::uint8_t(*)[static_cast<std::size_t>(RowBytes) + 4 * groups]>(bytes)), \
          "m"(*reinterpret_cast<const std::int16_t(*)[Count]>(patch))                         \
        : "cc");                                                                             \
  } while (false)
  if constexpr (Rows == 2) {
    static_assert(RowBytes + 4 <= 4095, "tinynet: the int4 kernel's offsets are 12-bit immediates");
    for (int g = 0; g + 2 <= groups; g += 2)
      TINYNET_INT4_ROWS_ASM(TINYNET_INT4_ROWS_GROUP("0", "%c[r0]", "0", "4", "8", "12")
                                TINYNET_INT4_ROWS_GROUP("4", "%c[r1]", "16", "20", "24", "28"), "8", "32");
    if constexpr (groups % 2 != 0) TINYNET_INT4_ROWS_ASM(TINYNET_INT4_ROWS_GROUP("0", "%c[r0]", "0", "4", "8", "12"), "4", "16");
  } else {
    static_assert(Rows == 1);
    for (int g = 0; g < groups; ++g) {
      const std::uint32_t u = load_word(bytes + 4 * g);
      const std::uint32_t p0 = load_word(patch + 8 * g), p1 = load_word(patch + 8 * g + 2);
      const std::uint32_t p2 = load_word(patch + 8 * g + 4), p3 = load_word(patch + 8 * g + 6);
      sums[0] = __smlad(p0, u & mask, sums[0]);
      sums[0] = __smlad(p1, (u >> 4) & mask, sums[0]);
      sums[0] = __smlad(p2, (u >> 8) & mask, sums[0]);
      sums[0] = __smlad(p3, (u >> 12) & mask, sums[0]);
    }
  }
#undef TINYNET_INT4_ROWS_ASM
#undef TINYNET_INT4_ROWS_GROUP
  for (int r = 0; r < Rows; ++r) {
    std::int32_t total = static_cast<std::int32_t>(sums[r]) - offset;
    if constexpr (Count % 8 != 0)
      for (int i = groups * 8; i < Count; ++i)
        total += static_cast<std::int32_t>(stored_int4_value(bytes[r * RowBytes + i / 2], i % 2)) * patch[i];
    acc[r] += total;
  }
}
// Rows further apart than the asm's 12-bit offsets reach (a FullyConnected deeper than 8182
// inputs) run one at a time.
template <int Count, int Rows, int RowBytes>
[[gnu::always_inline]] inline void dot_rows_int4(const std::int16_t* patch, const std::uint8_t* bytes, std::int32_t offset,
                                                 std::int32_t* acc) {
  if constexpr (Rows == 2 && RowBytes + 4 > 4095) {
    dot_rows_int4_near<Count, 1, RowBytes>(patch, bytes, offset, acc);
    dot_rows_int4_near<Count, 1, RowBytes>(patch, bytes + RowBytes, offset, acc + 1);
  } else {
    dot_rows_int4_near<Count, Rows, RowBytes>(patch, bytes, offset, acc);
  }
}

// Two patches (two output pixels, the second `Count` values after the first; offsets their
// int4_patch_offset) against two rows (two output channels, RowBytes apart):
// acc = {pixel 0 row 0, pixel 0 row 1, pixel 1 row 0, pixel 1 row 1}. Each weight word is split
// once for both pixels, each patch word loaded once for both rows.
template <int Count, int RowBytes>
[[gnu::always_inline]] inline void dot_2x2_int4_near(const std::int16_t* patches, const std::uint8_t* bytes,
                                                     const std::int32_t* offsets, std::int32_t* acc) {
  static_assert(Count < (1 << 16), "tinynet: the int4 kernel's int32 sums of (w + 8) * x are exact below 2^16 terms");
  static_assert(2 * Count + 28 <= 4095 && RowBytes + 4 <= 4095, "tinynet: the int4 kernel's offsets are 12-bit immediates");
  constexpr int groups = Count / 8;
  const std::uint32_t mask = 0x000F000Fu;
  std::uint32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0;
  const std::int16_t* p = patches;
  const std::uint8_t* w = bytes;
  // One group: words at w + W (row 0) and w + W + RowBytes (row 1); pixel 0's patch words at
  // p + P, pixel 1's at p + 2 * Count + P. x serves both rows.
#define TINYNET_INT4_2X2_STEP(shift, near, far)                                               \
  "ldr %[q0], [%[p], #" near "]\n\t"                                                         \
  "ldr %[q1], [%[p], #" far "]\n\t"                                                          \
  "and %[x], %[m], %[u0]" shift "\n\t"                                                       \
  "smlad %[a00], %[q0], %[x], %[a00]\n\t"                                                    \
  "smlad %[a10], %[q1], %[x], %[a10]\n\t"                                                    \
  "and %[x], %[m], %[u1]" shift "\n\t"                                                       \
  "smlad %[a01], %[q0], %[x], %[a01]\n\t"                                                    \
  "smlad %[a11], %[q1], %[x], %[a11]\n\t"
#define TINYNET_INT4_2X2_GROUP(w0, w1, n0, n1, n2, n3, f0, f1, f2, f3)                        \
  "ldr %[u0], [%[w], #" w0 "]\n\t"                                                           \
  "ldr %[u1], [%[w], #" w1 "]\n\t"                                                           \
  TINYNET_INT4_2X2_STEP("", n0, f0)                                                          \
  TINYNET_INT4_2X2_STEP(", lsr #4", n1, f1)                                                  \
  TINYNET_INT4_2X2_STEP(", lsr #8", n2, f2)                                                  \
  TINYNET_INT4_2X2_STEP(", lsr #12", n3, f3)
#define TINYNET_INT4_2X2_ASM(text, step_w, step_p)                                           \
  do {                                                                                       \
    std::uint32_t u0, u1, q0, q1, x;                                                         \
    asm(text "adds %[w], %[w], #" step_w "\n\tadds %[p], %[p], #" step_p                     \
        : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [w] "+r"(w),      \
          [p] "+r"(p), [u0] "=&r"(u0), [u1] "=&r"(u1), [q0] "=&r"(q0), [q1] "=&r"(q1),         \
          [x] "=&r"(x)                                                                        \
        : [m] "r"(mask), [r0] "i"(RowBytes), [r1] "i"(RowBytes + 4), [c0] "i"(2 * Count),      \
          [c1] "i"(2 * Count + 4), [c2] "i"(2 * Count + 8), [c3] "i"(2 * Count + 12),           \
          [c4] "i"(2 * Count + 16), [c5] "i"(2 * Count + 20), [c6] "i"(2 * Count + 24),         \
          [c7] "i"(2 * Count + 28),                                                           \
          "m"(*reinterpret_cast<const std::uint8_t(*)[static_cast<std::size_t>(RowBytes) + 4 * groups]>(bytes)), \
          "m"(*reinterpret_cast<const std::int16_t(*)[2 * Count]>(patches))                   \
        : "cc");                                                                             \
  } while (false)
#if defined(__OPTIMIZE__)
  for (int g = 0; g + 2 <= groups; g += 2)
    TINYNET_INT4_2X2_ASM(TINYNET_INT4_2X2_GROUP("0", "%c[r0]", "0", "4", "8", "12", "%c[c0]", "%c[c1]", "%c[c2]", "%c[c3]")
                             TINYNET_INT4_2X2_GROUP("4", "%c[r1]", "16", "20", "24", "28", "%c[c4]", "%c[c5]", "%c[c6]",
                                                    "%c[c7]"),
                         "8", "32");
  if constexpr (groups % 2 != 0)
    TINYNET_INT4_2X2_ASM(TINYNET_INT4_2X2_GROUP("0", "%c[r0]", "0", "4", "8", "12", "%c[c0]", "%c[c1]", "%c[c2]", "%c[c3]"),
                         "4", "16");
#else
  // Unoptimised builds (-O0) keep r7 as the frame pointer: too few registers are left for the
  // asm block's twelve operands and its memory operands. The same sums in C.
  (void)p;
  (void)w;
  for (int g = 0; g < groups; ++g) {
    const std::uint32_t u0 = load_word(bytes + 4 * g), u1 = load_word(bytes + RowBytes + 4 * g);
    for (int k = 0; k < 4; ++k) {
      const std::uint32_t q0 = load_word(patches + 8 * g + 2 * k), q1 = load_word(patches + Count + 8 * g + 2 * k);
      const std::uint32_t x0 = (u0 >> (4 * k)) & mask, x1 = (u1 >> (4 * k)) & mask;
      a00 = __smlad(q0, x0, a00);
      a10 = __smlad(q1, x0, a10);
      a01 = __smlad(q0, x1, a01);
      a11 = __smlad(q1, x1, a11);
    }
  }
#endif
#undef TINYNET_INT4_2X2_ASM
#undef TINYNET_INT4_2X2_GROUP
#undef TINYNET_INT4_2X2_STEP
  acc[0] += static_cast<std::int32_t>(a00) - offsets[0];
  acc[1] += static_cast<std::int32_t>(a01) - offsets[0];
  acc[2] += static_cast<std::int32_t>(a10) - offsets[1];
  acc[3] += static_cast<std::int32_t>(a11) - offsets[1];
  if constexpr (Count % 8 != 0) {
    const std::int16_t* patch1 = patches + Count;
    const std::uint8_t* row1 = bytes + RowBytes;
    for (int i = groups * 8; i < Count; ++i) {
      const std::int32_t v0 = stored_int4_value(bytes[i / 2], i % 2), v1 = stored_int4_value(row1[i / 2], i % 2);
      acc[0] += v0 * patches[i];
      acc[1] += v1 * patches[i];
      acc[2] += v0 * patch1[i];
      acc[3] += v1 * patch1[i];
    }
  }
}
// A second patch or row beyond the 12-bit offsets (a filter of more than 2033 values, such as
// 3x3x256): each pixel on its own.
template <int Count, int RowBytes>
[[gnu::always_inline]] inline void dot_2x2_int4(const std::int16_t* patches, const std::uint8_t* bytes,
                                                const std::int32_t* offsets, std::int32_t* acc) {
  if constexpr (2 * Count + 28 > 4095 || RowBytes + 4 > 4095) {
    dot_rows_int4<Count, 2, RowBytes>(patches, bytes, offsets[0], acc);
    dot_rows_int4<Count, 2, RowBytes>(patches + Count, bytes, offsets[1], acc + 2);
  } else {
    dot_2x2_int4_near<Count, RowBytes>(patches, bytes, offsets, acc);
  }
}

// Three patches (three output pixels, each `Count` values after the one before; offsets their
// int4_patch_offset) against two rows (two output channels, RowBytes apart):
// acc = {pixel 0 row 0, pixel 0 row 1, pixel 1 row 0, ..., pixel 2 row 1}. Per group of eight
// inputs: two weight words, eight AND (each serving three pixels), twelve patch words (each
// serving both rows) and 24 SMLAD: 46 instructions per 48 multiply-accumulates where dot_2x2_int4
// takes 34 per 32 (and its pointer steps 2 more per 64). Fourteen registers: six sums, the two
// weight words, two split pairs, a patch word, the mask and the two pointers; the end of the loop
// is read from memory (as dot_4x2_wide), and the pointer steps ride on the loads' writeback.
// Optimised builds only (at -O0 r7 is the frame pointer). Inlined: out of line (a call and the
// sums through memory per block) a kws pointwise layer took 19 k instructions more.
template <int Count, int RowBytes>
[[gnu::always_inline]] inline void dot_2x3_int4(const std::int16_t* patches, const std::uint8_t* bytes,
                                                const std::int32_t* offsets, std::int32_t* acc) {
  static_assert(Count < (1 << 16), "tinynet: the int4 kernel's int32 sums of (w + 8) * x are exact below 2^16 terms");
  static_assert(4 * Count + 12 <= 4095 && RowBytes <= 4095, "tinynet: the int4 kernel's offsets are 12-bit immediates");
  constexpr int groups = Count / 8;
  std::uint32_t a00 = 0, a01 = 0, a10 = 0, a11 = 0, a20 = 0, a21 = 0;
  if constexpr (groups > 0) {
    const std::uint32_t mask = 0x000F000Fu;
    const std::int16_t* p = patches;
    const std::uint8_t* w = bytes;
    // Four groups per loop pass where they divide the groups (the pointwise layers of kws: eight),
    // else two and an odd last one after the loop.
    constexpr int per_pass = groups % 4 == 0 ? 4 : 2;
    const std::uint8_t* const end = bytes + 4 * (groups / per_pass * per_pass);
    std::uint32_t u0, u1, x0, x1, q;
    // One shift of a group: the pairs of both rows, then the three pixels' patch words (the group's
    // first load steps p on by its 16 bytes, the others reach back).
#define TINYNET_INT4_2X3_SPLIT(shift)                                                          \
  "and %[x0], %[m], %[u0]" shift "\n\t"                                                        \
  "and %[x1], %[m], %[u1]" shift "\n\t"
#define TINYNET_INT4_2X3_FAR(at)                                                               \
  "ldr %[q], [%[p], #%c[c] + " at "]\n\t"                                                     \
  "smlad %[a10], %[q], %[x0], %[a10]\n\t"                                                     \
  "smlad %[a11], %[q], %[x1], %[a11]\n\t"                                                     \
  "ldr %[q], [%[p], #%c[d] + " at "]\n\t"                                                     \
  "smlad %[a20], %[q], %[x0], %[a20]\n\t"                                                     \
  "smlad %[a21], %[q], %[x1], %[a21]\n\t"
#define TINYNET_INT4_2X3_NEAR(load)                                                            \
  load "\n\t"                                                                                 \
  "smlad %[a00], %[q], %[x0], %[a00]\n\t"                                                     \
  "smlad %[a01], %[q], %[x1], %[a01]\n\t"
#define TINYNET_INT4_2X3_GROUP                                                                 \
  "ldr %[u1], [%[w], #%c[rb]]\n\t"                                                            \
  "ldr %[u0], [%[w]], #4\n\t"                                                                 \
  TINYNET_INT4_2X3_SPLIT("") TINYNET_INT4_2X3_NEAR("ldr %[q], [%[p]], #16")                     \
  TINYNET_INT4_2X3_FAR("-16")                                                                  \
  TINYNET_INT4_2X3_SPLIT(", lsr #4") TINYNET_INT4_2X3_NEAR("ldr %[q], [%[p], #-12]")            \
  TINYNET_INT4_2X3_FAR("-12")                                                                  \
  TINYNET_INT4_2X3_SPLIT(", lsr #8") TINYNET_INT4_2X3_NEAR("ldr %[q], [%[p], #-8]")             \
  TINYNET_INT4_2X3_FAR("-8")                                                                   \
  TINYNET_INT4_2X3_SPLIT(", lsr #12") TINYNET_INT4_2X3_NEAR("ldr %[q], [%[p], #-4]")            \
  TINYNET_INT4_2X3_FAR("-4")
#define TINYNET_INT4_2X3_OPERANDS                                                                          \
  : [a00] "+r"(a00), [a01] "+r"(a01), [a10] "+r"(a10), [a11] "+r"(a11), [a20] "+r"(a20), [a21] "+r"(a21), \
    [p] "+r"(p), [w] "+r"(w), [u0] "=&r"(u0), [u1] "=&r"(u1), [x0] "=&r"(x0), [x1] "=&r"(x1), [q] "=&r"(q) \
  : [m] "r"(mask), [end] "m"(end), [rb] "n"(RowBytes), [c] "n"(2 * Count), [d] "n"(4 * Count)               \
  : "cc", "memory"
    // Four or two groups per loop pass (the end test, 3 instructions, once per 192 or 96
    // multiply-accumulates; four: kws's pointwise layers 8 k instructions fewer each, for 370 bytes
    // of code), then an odd last group without a loop (kws's first layer, five groups: 12 k
    // instructions fewer than five passes of one).
    if constexpr (per_pass == 4) {
      asm volatile("1:\n\t" TINYNET_INT4_2X3_GROUP TINYNET_INT4_2X3_GROUP TINYNET_INT4_2X3_GROUP TINYNET_INT4_2X3_GROUP
                   "ldr %[q], %[end]\n\t"
                   "cmp %[w], %[q]\n\t"
                   "bne 1b\n\t" TINYNET_INT4_2X3_OPERANDS);
    } else if constexpr (groups >= 2) {
      asm volatile("1:\n\t" TINYNET_INT4_2X3_GROUP TINYNET_INT4_2X3_GROUP
                   "ldr %[q], %[end]\n\t"
                   "cmp %[w], %[q]\n\t"
                   "bne 1b\n\t" TINYNET_INT4_2X3_OPERANDS);
    }
    if constexpr (groups % 2 != 0) asm volatile(TINYNET_INT4_2X3_GROUP TINYNET_INT4_2X3_OPERANDS);
#undef TINYNET_INT4_2X3_OPERANDS
#undef TINYNET_INT4_2X3_GROUP
#undef TINYNET_INT4_2X3_NEAR
#undef TINYNET_INT4_2X3_FAR
#undef TINYNET_INT4_2X3_SPLIT
  }
  acc[0] += static_cast<std::int32_t>(a00) - offsets[0];
  acc[1] += static_cast<std::int32_t>(a01) - offsets[0];
  acc[2] += static_cast<std::int32_t>(a10) - offsets[1];
  acc[3] += static_cast<std::int32_t>(a11) - offsets[1];
  acc[4] += static_cast<std::int32_t>(a20) - offsets[2];
  acc[5] += static_cast<std::int32_t>(a21) - offsets[2];
  if constexpr (Count % 8 != 0) {
    for (int i = groups * 8; i < Count; ++i) {
      const std::int32_t v0 = stored_int4_value(bytes[i / 2], i % 2), v1 = stored_int4_value(bytes[RowBytes + i / 2], i % 2);
      for (int k = 0; k < 3; ++k) {
        acc[2 * k] += v0 * patches[k * Count + i];
        acc[2 * k + 1] += v1 * patches[k * Count + i];
      }
    }
  }
}

#if defined(__OPTIMIZE__)
// A packed int4 Conv2D's pass over all its output channels for Pixels pixels (3, 2 or 1: their
// patches one after the other, `offsets` their int4_patch_offset): out[k * OutC + c] for pixel k,
// requantized by the short output stage. Rows c and c + 1 of the weights are the Count / 2 bytes
// each from `bytes + c * Count / 2` on.
// The weights, folded biases and stage tables are arguments, not template constants: the function
// is keyed by the shapes, the bias type and the stage's offset and range, so that the layers of a
// model that share those share one copy (kws at 4 bits: four pointwise layers, one sweep of each
// pixel count). It is called once per block of pixels, not per pair of channels.
template <int Pixels, int Count, int OutC, class Bias, int StageCount, std::int32_t Offset, QuantizedRange Range>
[[gnu::noinline]] void int4_channel_sweep(const std::int16_t* patches, const std::int32_t* offsets, const std::uint8_t* bytes,
                                          const Bias* bias, const ShortOutputStage<StageCount>& stage, std::int8_t* __restrict out) {
  static_assert(Pixels >= 1 && Pixels <= 3 && Count % 2 == 0 && OutC % 2 == 0);
  constexpr auto entry = [](int c) { return static_cast<std::size_t>(StageCount == 1 ? 0 : c); };
  // (__restrict, and the offsets copied: an int8 store may alias anything, and each would
  // otherwise reload the stage's words and the offsets for every output.)
  std::int32_t patch_offsets[Pixels];
  TINYNET_UNROLL
  for (int k = 0; k < Pixels; ++k) patch_offsets[k] = offsets[k];
  for (int c = 0; c < OutC; c += 2, bytes += Count) {
    const std::int32_t b0 = bias[c], b1 = bias[c + 1];
    std::int32_t acc[2 * Pixels];
    TINYNET_UNROLL
    for (int k = 0; k < Pixels; ++k) acc[2 * k] = b0, acc[2 * k + 1] = b1;
    if constexpr (Pixels == 3) dot_2x3_int4<Count, Count / 2>(patches, bytes, patch_offsets, acc);
    else if constexpr (Pixels == 2) dot_2x2_int4<Count, Count / 2>(patches, bytes, patch_offsets, acc);
    else dot_rows_int4<Count, 2, Count / 2>(patches, bytes, patch_offsets[0], acc);
    // The two channels' stage words, loaded once; every result before the first store.
    const std::int32_t multiplier[2] = {stage.multiplier[entry(c)], stage.multiplier[entry(c + 1)]};
    const std::int32_t rounding[2] = {stage.rounding[entry(c)], stage.rounding[entry(c + 1)]};
    const int shift[2] = {stage.right_shift[entry(c)], stage.right_shift[entry(c + 1)]};
    std::int8_t result[2 * Pixels];
    TINYNET_UNROLL
    for (int i = 0; i < 2 * Pixels; ++i)
      result[i] = static_cast<std::int8_t>(
          after_short_scale<Offset, Range>(fixed::short_multiply(acc[i], multiplier[i % 2], rounding[i % 2], shift[i % 2])));
    TINYNET_UNROLL
    for (int i = 0; i < 2 * Pixels; ++i) out[i / 2 * OutC + c + i % 2] = result[i];
  }
}
#endif
}  // namespace arm_dsp
#endif

// acc[r] += sum_i Weights[first + r * Stride + i] * patch[i], i < Count, for Rows rows of the packed
// int4 weights (a PackedInt4); offset = int4_patch_offset<Count>(patch). `first` and Stride must be
// even (rows start at a byte).
template <int Count, int Rows, int Stride, const auto& Weights>
constexpr void dot_rows_int4(const std::int16_t* patch, int first, [[maybe_unused]] std::int32_t offset, std::int32_t* acc) {
  static_assert(is_packed_int4<std::remove_cvref_t<decltype(Weights)>>);
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) {
    static_assert(Stride % 2 == 0, "tinynet: packed int4 rows start at a byte");
    arm_dsp::dot_rows_int4<Count, Rows, Stride / 2>(patch, Weights.packed.data() + first / 2, offset, acc);
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

// Two patches (`patches`, and Count values later the second; offsets their int4_patch_offset)
// against rows `first` and `first + Stride` of packed int4 weights (as dot_2x2).
template <int Count, int Stride, const auto& Weights>
[[gnu::always_inline]] constexpr void dot_2x2_int4(const std::int16_t* patches, int first, const std::int32_t* offsets, std::int32_t* acc) {
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) {
    static_assert(Stride % 2 == 0, "tinynet: packed int4 rows start at a byte");
    arm_dsp::dot_2x2_int4<Count, Stride / 2>(patches, Weights.packed.data() + first / 2, offsets, acc);
    return;
  }
#endif
  dot_rows_int4<Count, 2, Stride, Weights>(patches, first, offsets[0], acc);
  dot_rows_int4<Count, 2, Stride, Weights>(patches + Count, first, offsets[1], acc + 2);
}

// Whether dot_2x3_int4 has a kernel of its own for Count values (DSP cores, optimised builds: it
// needs fourteen registers; the third patch's words within a 12-bit offset); the Conv2D layer then
// runs its pixels three at a time.
#if TINYNET_ARM_DSP && defined(__OPTIMIZE__)
template <int Count>
inline constexpr bool int4_2x3_kernel = 4 * Count + 12 <= 4095;
#else
template <int Count>
inline constexpr bool int4_2x3_kernel = false;
#endif

// Three patches (`patches`, Count and 2 * Count values later the others; offsets their
// int4_patch_offset) against rows `first` and `first + Stride` of packed int4 weights:
// acc = {pixel 0 row 0, pixel 0 row 1, pixel 1 row 0, pixel 1 row 1, pixel 2 row 0, pixel 2 row 1}.
template <int Count, int Stride, const auto& Weights>
[[gnu::always_inline]] constexpr void dot_2x3_int4(const std::int16_t* patches, int first, const std::int32_t* offsets, std::int32_t* acc) {
#if TINYNET_ARM_DSP && defined(__OPTIMIZE__)
  if (!std::is_constant_evaluated()) {
    static_assert(Stride % 2 == 0, "tinynet: packed int4 rows start at a byte");
    arm_dsp::dot_2x3_int4<Count, Stride / 2>(patches, Weights.packed.data() + first / 2, offsets, acc);
    return;
  }
#endif
  for (int k = 0; k < 3; ++k) dot_rows_int4<Count, 2, Stride, Weights>(patches + k * Count, first, offsets[k], acc + 2 * k);
}

// ---- DepthwiseConv2D -------------------------------------------------------------------------
// A depthwise layer multiplies each weight with one input, channel by channel: no dot product to
// pair in SMLAD, so its DSP kernel (kernels/arm_dsp/depthwise_conv2d.hpp) multiplies halfword
// pairs of channels (c, c+2) and (c+1, c+3) with SMLABB/SMLATT. The packed int4 form gives it
// the weights in that shape with one AND each: word (q, p) holds taps 2p and 2p+1 of channels
// 4q..4q+3, each nibble (two's complement, as TFLite's) at the top of a halfword,
//     bits 12-15 | 28-31   tap 2p,     channels c,   c+2   (u & 0xF000F000)
//     bits  8-11 | 24-27   tap 2p,     channels c+1, c+3   ((u << 4) & 0xF000F000)
//     bits  4-7  | 20-23   tap 2p + 1, channels c,   c+2   ((u << 8) & 0xF000F000)
//     bits  0-3  | 16-19   tap 2p + 1, channels c+1, c+3   ((u << 12) & 0xF000F000)
// so that each masked halfword is the signed value 4096 w: the sums are 4096 times the int8
// layer's, exact, and shifted back (acc >> 12) before the folded bias is added. An odd last tap's
// partner nibbles are 0 and never read. (The compiler derives the words from the PackedInt4; the
// TFLite bytes themselves are not stored.)
template <int Taps, int OutC>
inline constexpr int depthwise_int4_word_count = OutC / 4 * ((Taps + 1) / 2);

template <const auto& Weights, int Taps, int OutC>
constexpr std::array<std::uint32_t, static_cast<std::size_t>(depthwise_int4_word_count<Taps, OutC>)> depthwise_int4_words() {
  std::array<std::uint32_t, static_cast<std::size_t>(depthwise_int4_word_count<Taps, OutC>)> out{};
  constexpr int pairs = (Taps + 1) / 2;
  const auto nibble = [](int t, int c) -> std::uint32_t {
    return t < Taps ? static_cast<std::uint32_t>(Weights[static_cast<std::size_t>(t * OutC + c)]) & 0xFu : 0u;
  };
  for (int q = 0; q < OutC / 4; ++q)
    for (int p = 0; p < pairs; ++p) {
      const int c = 4 * q, t = 2 * p;
      out[static_cast<std::size_t>(q * pairs + p)] =
          nibble(t, c) << 12 | nibble(t, c + 2) << 28 | nibble(t, c + 1) << 8 | nibble(t, c + 3) << 24 |
          nibble(t + 1, c) << 4 | nibble(t + 1, c + 2) << 20 | nibble(t + 1, c + 1) | nibble(t + 1, c + 3) << 16;
    }
  return out;
}

#if TINYNET_ARM_DSP
namespace arm_dsp {
// Layer: a DepthwiseConv2D (layers/conv/depthwise_conv2d.hpp) with int8 input, depth multiplier 1
// and packed int4 weights (Layer::int4_words = depthwise_int4_words). One output pixel as the int8
// kernel computes it (four channels at a time, taps inner), two taps per weight word. Only for
// the layers the record kernels leave (kernels/arm_dsp/depthwise_conv2d.hpp, QuadTapsInt4): the
// long output stage, more than int4_quad_max_taps taps.
template <class Layer>
struct DepthwiseInt4 {
  using element = typename Layer::input_element;
  static constexpr int taps = Layer::taps, quads = Layer::quads, out_c = Layer::out_c, pairs = (taps + 1) / 2;
  // |sum 4096 w x| <= 4096 * 8 * 128 * taps must stay below 2^31.
  static_assert(taps < 512, "tinynet: the packed int4 depthwise kernel sums 4096 w x in int32: at most 511 taps");

  // The groups of four clamp with SSAT, and the pixel is compiled without GCC's scheduling before
  // register allocation, as in the int8 kernel (kernels/arm_dsp/depthwise_conv2d.hpp): each of
  // kws's int4 depthwise layers took 403,896 instructions, 370,892 with the scheduling off, and
  // 324,434 with SSAT as well (which pays only with that scheduling off, as the layer's
  // requantize notes).
  static element ssat(std::int32_t acc, int c) { return Layer::plan::template requantize<true>(acc, c); }

  template <bool Interior>
  [[TINYNET_NO_PRE_RA_SCHEDULING]] static void pixel(const element* image, element* out, int in_y0, int in_x0) {
    const element* tap_rows[Interior ? 1 : taps];
    const int origin = (in_y0 * Layer::in_w + in_x0) * Layer::in_c;
    if constexpr (!Interior) {
      for (int t = 0; t < taps; ++t) tap_rows[t] = Layer::template tap_row<false>(image, in_y0, in_x0, t);
    }
    // In a register, so that each pair is one `and x, mask, u, lsl #k` (GCC, seeing an encodable
    // immediate, would otherwise shift and mask in two instructions).
    std::uint32_t mask = 0xF000F000u;
    asm("" : "+r"(mask));
    for (int q = 0; q < quads; ++q) {
      const int c = 4 * q;
      const std::uint32_t* w = &Layer::int4_words[static_cast<std::size_t>(q * pairs)];
      std::int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      const auto tap = [&](int t, std::uint32_t w_even, std::uint32_t w_odd) {
        const std::uint32_t word = Interior ? load_word(image + origin + Layer::tap_offsets[static_cast<std::size_t>(t)] + c)
                                            : load_word(tap_rows[t] + c);
        const std::uint32_t even = __sxtb16(word), odd = sxtb16_ror8(word);   // (c, c+2), (c+1, c+3)
        a0 = __smlabb(even, w_even, a0);
        a2 = __smlatt(even, w_even, a2);
        a1 = __smlabb(odd, w_odd, a1);
        a3 = __smlatt(odd, w_odd, a3);
      };
      TINYNET_UNROLL
      for (int p = 0; p < pairs; ++p) {
        const std::uint32_t u = w[p];
        tap(2 * p, u & mask, (u << 4) & mask);
        if (2 * p + 1 < taps) tap(2 * p + 1, (u << 8) & mask, (u << 12) & mask);
      }
      out[c] = ssat(Layer::folded_bias[static_cast<std::size_t>(c)] + (a0 >> 12), c);
      out[c + 1] = ssat(Layer::folded_bias[static_cast<std::size_t>(c + 1)] + (a1 >> 12), c + 1);
      out[c + 2] = ssat(Layer::folded_bias[static_cast<std::size_t>(c + 2)] + (a2 >> 12), c + 2);
      out[c + 3] = ssat(Layer::folded_bias[static_cast<std::size_t>(c + 3)] + (a3 >> 12), c + 3);
    }
    // The channels left over (out_c not a multiple of 4): the nibbles read one by one.
    for (int c = quads * 4; c < out_c; ++c) {
      std::int32_t acc = Layer::folded_bias[static_cast<std::size_t>(c)];
      for (int t = 0; t < taps; ++t) {
        const element* row = Interior ? image + origin + Layer::tap_offsets[static_cast<std::size_t>(t)] : tap_rows[t];
        acc += static_cast<std::int32_t>(Layer::weights[static_cast<std::size_t>(t * out_c + c)]) * row[c];
      }
      out[c] = Layer::requantize(acc, c);
    }
  }
};
}  // namespace arm_dsp
#endif

}  // namespace tinynet::kernels
