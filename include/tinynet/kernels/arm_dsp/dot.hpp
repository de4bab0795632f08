// The int8 dot products on cores with Arm's DSP extension (Cortex-M4, M7, M33, M55), over an int16
// patch in SXTB16 order (kernels/dot.hpp): SXTB16 splits a word of four int8 weights w0 w1 w2 w3
// into (w0, w2) and, rotated by 8, (w1, w3), the halfword pairs of the patch, so one SMLAD
// performs two multiply-accumulates.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "../../core/target.hpp"
#include "../unroll.hpp"

#if TINYNET_ARM_DSP
namespace tinynet::kernels::arm_dsp {

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

// (bottom halfword of a, bottom of b) and (top of a, top of b), a's in the bottom half: one PKHBT
// or PKHTB each (GCC 12 writes the masks and shifts out in two and three instructions).
inline std::uint32_t pack_bottoms(std::uint32_t a, std::uint32_t b) {
  std::uint32_t r;
  asm("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}
inline std::uint32_t pack_tops(std::uint32_t a, std::uint32_t b) {
  std::uint32_t r;
  asm("pkhtb %0, %2, %1, asr #16" : "=r"(r) : "r"(a), "r"(b));
  return r;
}

// SXTAB16: a + the sign-extended bytes 0 and 2 of v, per halfword (ACLE __sxtab16), and its
// counterpart of bytes 1 and 3; one instruction each, like SXTB16.
inline std::uint32_t sxtab16(std::uint32_t a, std::uint32_t v) {
  std::uint32_t r;
  asm("sxtab16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(v));
  return r;
}
inline std::uint32_t sxtab16_ror8(std::uint32_t a, std::uint32_t v) {
  std::uint32_t r;
  asm("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(v));
  return r;
}

// Count int8 values widened into a patch in SXTB16 order: each word x0 x1 x2 x3 becomes the
// halfword pairs (x0, x2) and (x1, x3) by two SXTB16; the last Count % 4 values in plain order.
// Aligned: the caller guarantees a 4-byte aligned patch (where GCC cannot see it), and each pair
// goes out in one STRD (four instructions per four values); else two word stores (STR takes any
// alignment: five). One 8-byte memcpy without the alignment went through the stack.
template <int Count, bool Aligned = false>
inline void widen_sxtb16(const std::int8_t* src, std::int16_t* patch) {
  TINYNET_UNROLL_8
  for (int g = 0; g < Count / 4; ++g) {
    const std::uint32_t v = load_word(src + 4 * g);
    const std::uint32_t even = static_cast<std::uint32_t>(__sxtb16(v)), odd = sxtb16_ror8(v);
    if constexpr (Aligned) {
      const std::uint32_t pair[2] = {even, odd};
      std::memcpy(__builtin_assume_aligned(patch + 4 * g, 4), pair, 8);
    } else {
      std::memcpy(patch + 4 * g, &even, 4);
      std::memcpy(patch + 4 * g + 2, &odd, 4);
    }
  }
  for (int i = Count / 4 * 4; i < Count; ++i) patch[i] = src[i];
}

// acc[r] += sum_i weights[r * Stride + i] * x[i], i < Count, for Rows weight rows Stride apart. x
// is a patch in SXTB16 order (Input = std::int16_t: a group's pairs (x0, x2) and (x1, x3) are two
// words) or an int8 row read in place (std::int8_t: one word split by two SXTB16 for all the rows;
// FullyConnected::input_in_place, for the rows beyond its groups of four).
template <int Count, int Rows, int Stride = Count, class Input = std::int16_t>
inline void dot_rows(const Input* x, const std::int8_t* weights, std::int32_t* acc) {
  static_assert(std::is_same_v<Input, std::int16_t> || std::is_same_v<Input, std::int8_t>);
  constexpr int groups = Count / 4;
  std::int32_t sums[Rows];
  for (int r = 0; r < Rows; ++r) sums[r] = acc[r];
  TINYNET_UNROLL
  for (int g = 0; g < groups; ++g) {
    std::uint32_t even, odd;  // (x0, x2), (x1, x3)
    if constexpr (std::is_same_v<Input, std::int16_t>) {
      even = load_word(x + 4 * g);
      odd = load_word(x + 4 * g + 2);
    } else {
      const std::uint32_t v = load_word(x + 4 * g);
      even = static_cast<std::uint32_t>(__sxtb16(v));
      odd = sxtb16_ror8(v);
    }
    for (int r = 0; r < Rows; ++r) {
      const std::uint32_t w = load_word(weights + r * Stride + 4 * g);
      sums[r] = static_cast<std::int32_t>(__smlad(even, __sxtb16(w), static_cast<std::uint32_t>(sums[r])));
      sums[r] = static_cast<std::int32_t>(__smlad(odd, sxtb16_ror8(w), static_cast<std::uint32_t>(sums[r])));
    }
  }
  for (int i = groups * 4; i < Count; ++i)
    for (int r = 0; r < Rows; ++r) sums[r] += static_cast<std::int32_t>(weights[r * Stride + i]) * x[i];
  for (int r = 0; r < Rows; ++r) acc[r] = sums[r];
}

// Two patches (two output pixels) against two weight rows (two output channels):
// acc = {pixel 0 row 0, pixel 0 row 1, pixel 1 row 0, pixel 1 row 1}. Each weight word is loaded and
// sign-extended once for both pixels, each patch word once for both rows.
template <int Count>
inline void dot_2x2(const std::int16_t* patch0, const std::int16_t* patch1, const std::int8_t* weights, std::int32_t* acc) {
  constexpr int groups = Count / 4;
  std::uint32_t a00 = static_cast<std::uint32_t>(acc[0]), a01 = static_cast<std::uint32_t>(acc[1]);
  std::uint32_t a10 = static_cast<std::uint32_t>(acc[2]), a11 = static_cast<std::uint32_t>(acc[3]);
  const std::int8_t* w1 = weights + Count;
  // Four patch positions of both pixels and both rows. A macro, not a lambda: GCC 12 schedules the
  // lambda's body worse (vww on Cortex-M4: 3 % more instructions in its first convolution).
#define TINYNET_DOT_2X2_STEP(g)                                                                      \
  do {                                                                                               \
    const std::uint32_t w0 = load_word(weights + 4 * (g)), w1w = load_word(w1 + 4 * (g));            \
    const std::uint32_t w0e = __sxtb16(w0), w0o = sxtb16_ror8(w0);                                    \
    const std::uint32_t w1e = __sxtb16(w1w), w1o = sxtb16_ror8(w1w);                                  \
    const std::uint32_t p0e = load_word(patch0 + 4 * (g)), p0o = load_word(patch0 + 4 * (g) + 2);     \
    a00 = __smlad(p0e, w0e, a00);                                                                    \
    a00 = __smlad(p0o, w0o, a00);                                                                    \
    a01 = __smlad(p0e, w1e, a01);                                                                    \
    a01 = __smlad(p0o, w1o, a01);                                                                    \
    const std::uint32_t p1e = load_word(patch1 + 4 * (g)), p1o = load_word(patch1 + 4 * (g) + 2);     \
    a10 = __smlad(p1e, w0e, a10);                                                                    \
    a10 = __smlad(p1o, w0o, a10);                                                                    \
    a11 = __smlad(p1e, w1e, a11);                                                                    \
    a11 = __smlad(p1o, w1o, a11);                                                                    \
  } while (false)
  // Unrolled by 16, GCC keeps every word of a short (<= 64-deep) patch live across the channel
  // loop and spills; 8 at a time keeps the accumulators in registers (kws pointwise layers: 1.75
  // instead of 1.89 instructions per MAC on Cortex-M4). Longer patches do better unrolled by 16.
  if constexpr (groups <= 16) {
    TINYNET_UNROLL_8
    for (int g = 0; g < groups; ++g) TINYNET_DOT_2X2_STEP(g);
  } else {
    TINYNET_UNROLL
    for (int g = 0; g < groups; ++g) TINYNET_DOT_2X2_STEP(g);
  }
#undef TINYNET_DOT_2X2_STEP
  std::int32_t sums[4] = {static_cast<std::int32_t>(a00), static_cast<std::int32_t>(a01), static_cast<std::int32_t>(a10),
                          static_cast<std::int32_t>(a11)};
  for (int i = groups * 4; i < Count; ++i) {
    sums[0] += static_cast<std::int32_t>(weights[i]) * patch0[i];
    sums[1] += static_cast<std::int32_t>(w1[i]) * patch0[i];
    sums[2] += static_cast<std::int32_t>(weights[i]) * patch1[i];
    sums[3] += static_cast<std::int32_t>(w1[i]) * patch1[i];
  }
  for (int k = 0; k < 4; ++k) acc[k] = sums[k];
}

// Two patches (two output pixels) against four output channels whose weights the compiler
// widened to int16 pairs (kernels/dot.hpp, widen_rows): acc = {pixel 0 rows 0..3, pixel 1 rows
// 0..3}. patch1 must be patch0 + Count (one array). `wide` holds the block's words in the order
// they are read: per group of four patch positions, the four rows' (w0, w2) words, then their
// (w1, w3) words; `columns` holds the four rows' last Count % 4 weights (Count % 4 per row).
//
// Per group: four LDRD of weights, six LDR of patch words (pixel 0's word is read twice: the
// eight accumulators, two pointers and three scratch registers are thirteen: optimised builds
// only, kernels/dot.hpp) and sixteen SMLAD for 32 multiply-accumulates,
// no SXTB16: 26 instructions, against 36 for the 2x2 block over int8 weights (dot_2x2). Written in
// assembly: GCC 12 spills two accumulators and both patch pointers when given the same loop in C
// (kws_ref_model's pointwise layers then took 1.85 instructions per MAC instead of 1.60).
// Not inlined: in its caller GCC cannot free the thirteen registers around the assembly.
template <int Count>
TINYNET_NOINLINE void dot_4x2_wide(const std::int16_t* patch0, const std::uint32_t* wide, [[maybe_unused]] const std::int8_t* columns,
                         std::int32_t* acc) {
  constexpr int groups = Count / 4;
  static_assert(groups >= 2 && 2 * Count <= 4000, "tinynet: dot_4x2_wide: 8 <= Count <= 2000");
  std::int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], b0 = acc[4], b1 = acc[5], b2 = acc[6], b3 = acc[7];
  const std::int16_t* p = patch0;
  const std::uint32_t* w = wide;
  const std::uint32_t* const end = wide + 8 * groups;
  std::uint32_t x, y, z;
#define TINYNET_4X2_HALF(w0, w1)                                         \
  "ldr %[z], [%[p]]\n\t"                                                \
  "smlad %[a0], %[z], %[x], %[a0]\n\t"                                  \
  "smlad %[a1], %[z], %[y], %[a1]\n\t"                                  \
  "ldr %[z], [%[p], #%c[q]]\n\t"                                        \
  "smlad %[b0], %[z], %[x], %[b0]\n\t"                                  \
  "smlad %[b1], %[z], %[y], %[b1]\n\t"                                  \
  "ldrd %[x], %[y], [%[w], #" #w1 "]\n\t"                               \
  "smlad %[b2], %[z], %[x], %[b2]\n\t"                                  \
  "smlad %[b3], %[z], %[y], %[b3]\n\t"                                  \
  "ldr %[z], [%[p]], #4\n\t"                                            \
  "smlad %[a2], %[z], %[x], %[a2]\n\t"                                  \
  "smlad %[a3], %[z], %[y], %[a3]\n\t"
#define TINYNET_4X2_GROUP                                                \
  "ldrd %[x], %[y], [%[w]], #32\n\t" TINYNET_4X2_HALF(0, -24)           \
  "ldrd %[x], %[y], [%[w], #-16]\n\t" TINYNET_4X2_HALF(0, -8)
#define TINYNET_4X2_OPERANDS                                                                          \
  : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [b0] "+r"(b0), [b1] "+r"(b1),       \
    [b2] "+r"(b2), [b3] "+r"(b3), [p] "+r"(p), [w] "+r"(w), [x] "=&r"(x), [y] "=&r"(y), [z] "=&r"(z) \
  : [q] "n"(2 * Count), [end] "m"(end)                                                              \
  : "cc", "memory"
  // Long patches (16 groups or more) take six or four groups per pass where they divide them: the
  // end test (3 instructions) once per 192 or 128 multiply-accumulates (resnet's 144-value patches:
  // 36 instructions fewer per call; kws's 64-value ones: 12). Shorter ones keep two, for flash.
  if constexpr (groups % 6 == 0 && groups >= 16) {
    asm volatile("1:\n\t" TINYNET_4X2_GROUP TINYNET_4X2_GROUP TINYNET_4X2_GROUP TINYNET_4X2_GROUP TINYNET_4X2_GROUP
                     TINYNET_4X2_GROUP
                 "ldr %[x], %[end]\n\t"
                 "cmp %[w], %[x]\n\t"
                 "bne 1b\n\t" TINYNET_4X2_OPERANDS);
  } else if constexpr (groups % 4 == 0 && groups >= 16) {
    asm volatile("1:\n\t" TINYNET_4X2_GROUP TINYNET_4X2_GROUP TINYNET_4X2_GROUP TINYNET_4X2_GROUP
                 "ldr %[x], %[end]\n\t"
                 "cmp %[w], %[x]\n\t"
                 "bne 1b\n\t" TINYNET_4X2_OPERANDS);
  } else if constexpr (groups % 2 == 0) {
    asm volatile("1:\n\t" TINYNET_4X2_GROUP TINYNET_4X2_GROUP
                 "ldr %[x], %[end]\n\t"
                 "cmp %[w], %[x]\n\t"
                 "bne 1b\n\t" TINYNET_4X2_OPERANDS);
  } else {
    asm volatile("1:\n\t" TINYNET_4X2_GROUP
                 "ldr %[x], %[end]\n\t"
                 "cmp %[w], %[x]\n\t"
                 "bne 1b\n\t" TINYNET_4X2_OPERANDS);
  }
#undef TINYNET_4X2_OPERANDS
#undef TINYNET_4X2_GROUP
#undef TINYNET_4X2_HALF
  const std::int16_t* patch1 = patch0 + Count;
  constexpr int rest = Count % 4;
  for (int j = 0; j < rest; ++j) {
    const int i = groups * 4 + j;
    a0 += columns[j] * patch0[i], b0 += columns[j] * patch1[i];
    a1 += columns[rest + j] * patch0[i], b1 += columns[rest + j] * patch1[i];
    a2 += columns[2 * rest + j] * patch0[i], b2 += columns[2 * rest + j] * patch1[i];
    a3 += columns[3 * rest + j] * patch0[i], b3 += columns[3 * rest + j] * patch1[i];
  }
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3, acc[4] = b0, acc[5] = b1, acc[6] = b2, acc[7] = b3;
}

// The groups of dot_4rows: acc[r] += dot(input, weights + r * Stride), r < 4, over Unroll * passes
// + Rest groups of four positions (`end` = weights + 4 * Unroll * passes): Unroll groups per loop
// pass, then Rest more; no loop when Loop is false (one pass). Input is std::int16_t for a patch in
// SXTB16 order (one LDRD per group), std::int8_t for the input values themselves (one LDR and two
// SXTB16 per group, shared by the four rows). Rows up to 1,333 bytes apart are read at immediate
// offsets from one pointer; rows further apart from two pointers (rows 0 and 2) and a register
// offset (Stride - 4) for rows 1 and 3: two registers more, the same instructions. Count is not a
// parameter, so blocks of one layer with the same number of groups per pass share the function.
template <int Stride, int Unroll, int Rest, bool Loop, class Input>
TINYNET_NOINLINE void dot_4rows_groups(const Input* input, const std::int8_t* weights, std::int32_t* acc,
                                       [[maybe_unused]] const std::int8_t* end) {
  static_assert(Unroll >= 1 && Rest >= 0 && Rest < 4 && Stride >= 4, "tinynet: dot_4rows: bad loop shape");
  constexpr bool far = 3 * Stride > 4000;  // past LDR's 12-bit immediate offsets
  std::int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
  const Input* p = input;
  const std::int8_t* w = weights;
  [[maybe_unused]] const std::int8_t* v = weights + 2 * Stride;
  [[maybe_unused]] const std::int32_t s = Stride - 4;
  std::uint32_t x, y, z, t;
#define TINYNET_4ROWS_MAC(a)                                 \
  "sxtb16 %[t], %[z]\n\t"                                   \
  "smlad %[" a "], %[x], %[t], %[" a "]\n\t"                \
  "sxtb16 %[t], %[z], ror #8\n\t"                           \
  "smlad %[" a "], %[y], %[t], %[" a "]\n\t"
// Rows 1-3 after row 0's post-incremented load.
#define TINYNET_4ROWS_NEAR                                   \
  "ldr %[z], [%[w], #%c[s1]]\n\t" TINYNET_4ROWS_MAC("a1")    \
  "ldr %[z], [%[w], #%c[s2]]\n\t" TINYNET_4ROWS_MAC("a2")    \
  "ldr %[z], [%[w], #%c[s3]]\n\t" TINYNET_4ROWS_MAC("a3")
#define TINYNET_4ROWS_FAR                                    \
  "ldr %[z], [%[w], %[s]]\n\t" TINYNET_4ROWS_MAC("a1")       \
  "ldr %[z], [%[v]], #4\n\t" TINYNET_4ROWS_MAC("a2")         \
  "ldr %[z], [%[v], %[s]]\n\t" TINYNET_4ROWS_MAC("a3")
#define TINYNET_4ROWS_GROUP(load, rows)                                        \
  load "ldr %[z], [%[w]], #4\n\t" TINYNET_4ROWS_MAC("a0") rows
// (x0, x2) and (x1, x3): from the patch, or from four int8 inputs.
#define TINYNET_4ROWS_LOAD_PATCH "ldrd %[x], %[y], [%[p]], #8\n\t"
#define TINYNET_4ROWS_LOAD_INT8 "ldr %[x], [%[p]], #4\n\tsxtb16 %[y], %[x], ror #8\n\tsxtb16 %[x], %[x]\n\t"
#define TINYNET_4ROWS_OUTPUTS                                                                            \
  : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [p] "+r"(p), [w] "+r"(w), [x] "=&r"(x),  \
    [y] "=&r"(y), [z] "=&r"(z), [t] "=&r"(t)
#define TINYNET_4ROWS_OPERANDS_NEAR(k)                                                                   \
  TINYNET_4ROWS_OUTPUTS                                                                                  \
  : [s1] "n"(Stride - 4), [s2] "n"(2 * Stride - 4), [s3] "n"(3 * Stride - 4), [end] "r"(end), [n] "n"(k)  \
  : "cc", "memory"
#define TINYNET_4ROWS_OPERANDS_FAR(k)                                                                    \
  TINYNET_4ROWS_OUTPUTS, [v] "+r"(v) : [s] "r"(s), [end] "r"(end), [n] "n"(k) : "cc", "memory"
  // The end pointer stays in a register: one CMP and one BNE per pass.
#define TINYNET_4ROWS_ASM(load, rows, operands)                                                          \
  do {                                                                                                   \
    if constexpr (Loop)                                                                                  \
      asm volatile("1:\n\t.rept %c[n]\n\t" TINYNET_4ROWS_GROUP(load, rows) ".endr\n\t"                   \
                   "cmp %[w], %[end]\n\t"                                                                \
                   "bne 1b\n\t" operands(Unroll));                                                       \
    else                                                                                                 \
      asm volatile(".rept %c[n]\n\t" TINYNET_4ROWS_GROUP(load, rows) ".endr\n\t" operands(Unroll));        \
    if constexpr (Rest > 0)                                                                              \
      asm volatile(".rept %c[n]\n\t" TINYNET_4ROWS_GROUP(load, rows) ".endr\n\t" operands(Rest));          \
  } while (false)
  if constexpr (std::is_same_v<Input, std::int8_t> && far)
    TINYNET_4ROWS_ASM(TINYNET_4ROWS_LOAD_INT8, TINYNET_4ROWS_FAR, TINYNET_4ROWS_OPERANDS_FAR);
  else if constexpr (std::is_same_v<Input, std::int8_t>)
    TINYNET_4ROWS_ASM(TINYNET_4ROWS_LOAD_INT8, TINYNET_4ROWS_NEAR, TINYNET_4ROWS_OPERANDS_NEAR);
  else if constexpr (far)
    TINYNET_4ROWS_ASM(TINYNET_4ROWS_LOAD_PATCH, TINYNET_4ROWS_FAR, TINYNET_4ROWS_OPERANDS_FAR);
  else
    TINYNET_4ROWS_ASM(TINYNET_4ROWS_LOAD_PATCH, TINYNET_4ROWS_NEAR, TINYNET_4ROWS_OPERANDS_NEAR);
#undef TINYNET_4ROWS_ASM
#undef TINYNET_4ROWS_OPERANDS_FAR
#undef TINYNET_4ROWS_OPERANDS_NEAR
#undef TINYNET_4ROWS_OUTPUTS
#undef TINYNET_4ROWS_LOAD_INT8
#undef TINYNET_4ROWS_LOAD_PATCH
#undef TINYNET_4ROWS_GROUP
#undef TINYNET_4ROWS_FAR
#undef TINYNET_4ROWS_NEAR
#undef TINYNET_4ROWS_MAC
  acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
}

// acc[r] += dot(input, weights + r * Stride), r < 4, over Count positions: four int8 rows against
// one input row, either a patch (Input = std::int16_t, in SXTB16 order) or the int8 values
// themselves (std::int8_t: no patch). Each input word serves the four rows; per row and group of
// four positions one LDR, two SXTB16 and two SMLAD: 21 instructions per 16 multiply-accumulates
// from a patch (one LDRD), 23 from int8 inputs (one LDR, two SXTB16). Four groups per loop pass
// (the end pointer in a register: two instructions per pass), the last groups % 4 after the loop,
// and no loop at all for fewer than eight groups. Assembly: GCC 12 spills four rows' sums and
// pointers (ad01's FullyConnected layers took 3.3 instructions per MAC with dot_rows<Count, 4> in
// C). Optimised builds only (kernels/dot.hpp: at -O0 GCC cannot give the assembly its registers).
// The last Count % 4 positions are added in C.
template <int Count, int Stride, class Input = std::int16_t>
inline void dot_4rows(const Input* input, const std::int8_t* weights, std::int32_t* acc) {
  constexpr int groups = Count / 4;
  static_assert(groups >= 1, "tinynet: dot_4rows: 4 <= Count");
  constexpr bool loop = groups >= 4;
  constexpr int unroll = !loop ? groups : groups >= 32 ? 4 : 2;
  constexpr int rest = loop ? groups % unroll : 0;
  dot_4rows_groups<Stride, unroll, rest, loop, Input>(input, weights, acc, weights + 4 * (groups - rest));
  if constexpr (Count % 4 != 0) {
    std::int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (int i = groups * 4; i < Count; ++i) {
      a0 += weights[i] * input[i], a1 += weights[Stride + i] * input[i];
      a2 += weights[2 * Stride + i] * input[i], a3 += weights[3 * Stride + i] * input[i];
    }
    acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
  }
}

}  // namespace tinynet::kernels::arm_dsp
#endif
