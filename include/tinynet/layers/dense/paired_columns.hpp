// Two or four inputs walked together by the `unrolled` and `compressed` sparse forms
// (unrolled_rows.hpp, compressed_rows.hpp): their columns packed in 16-bit halves, so that one
// load of a column serves every input and each weight multiplies every half (SMLABB and SMLATB on
// DSP cores).
//
// Column c of inputs x0 and x1 sits in one word, x0[c] in the low and x1[c] in the high 16 bits
// (pack_pair); with four inputs, column c of x2 and x3 in the next word, so a column is two
// adjacent words (one LDRD).
#pragma once

#include <cstdint>
#include <type_traits>

#include "../../core/target.hpp"
#include "../../kernels/unroll.hpp"
#include "../../kernels/arm_dsp/dot.hpp"

namespace tinynet::kernels::paired {

constexpr std::int32_t pack_pair(std::int8_t low, std::int8_t high) {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<std::uint16_t>(std::int16_t{low})) |
                                   (static_cast<std::uint32_t>(static_cast<std::uint16_t>(std::int16_t{high})) << 16));
}

// columns[Inputs / 2 * c + k] = pack_pair(x[2k][c], x[2k + 1][c]) for the Depth columns of the
// Inputs (2 or 4) inputs x[0..Inputs). On DSP cores four columns of two inputs take two word
// loads, four SXTB16 and four PKHBT/PKHTB (13 instructions per column of two in the byte loop).
template <int Inputs, int Depth>
constexpr void pack_columns(const std::int8_t* const* x, std::int32_t* columns) {
  static_assert(Inputs == 2 || Inputs == 4);
  constexpr int words = Inputs / 2;
  int first = 0;  // the first column left to the byte loop
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) {
    // The inputs' pointers in locals and the inputs' loop unrolled (kws pruned 80 %, -Os: 10,000
    // fewer instructions for 320 bytes of code; the locals alone, without the unrolling, cost
    // 7,000 more): read through x[2 * k], GCC loaded the pointers again for every four columns.
    const std::int8_t* in[Inputs];
    for (int k = 0; k < Inputs; ++k) in[k] = x[k];
    for (int c = 0; c + 4 <= Depth; c += 4) {
      TINYNET_UNROLL
      for (int k = 0; k < words; ++k) {
        const std::uint32_t a = arm_dsp::load_word(in[2 * k] + c), b = arm_dsp::load_word(in[2 * k + 1] + c);
        const std::uint32_t a02 = __sxtb16(a), a13 = arm_dsp::sxtb16_ror8(a);
        const std::uint32_t b02 = __sxtb16(b), b13 = arm_dsp::sxtb16_ror8(b);
        std::int32_t* to = columns + words * c + k;
        to[0] = static_cast<std::int32_t>(arm_dsp::pack_bottoms(a02, b02));
        to[words] = static_cast<std::int32_t>(arm_dsp::pack_bottoms(a13, b13));
        to[2 * words] = static_cast<std::int32_t>(arm_dsp::pack_tops(a02, b02));
        to[3 * words] = static_cast<std::int32_t>(arm_dsp::pack_tops(a13, b13));
      }
    }
    first = Depth / 4 * 4;
  }
#endif
  for (int c = first; c < Depth; ++c)
    for (int k = 0; k < words; ++k) columns[words * c + k] = pack_pair(x[2 * k][c], x[2 * k + 1][c]);
}

// a0 += w * low half of v, a1 += w * high half (SMLABB, SMLATB).
TINYNET_INLINE_UNROLLED constexpr void mac_pair(std::int32_t w, std::int32_t v, std::int32_t& a0, std::int32_t& a1) {
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) {
    a0 = __smlabb(v, w, a0);
    a1 = __smlatb(v, w, a1);
    return;
  }
#endif
  a0 += w * static_cast<std::int16_t>(v & 0xFFFF);
  a1 += w * (v >> 16);
}

// The two words at base[Offset] and base[Offset + 1]: one LDRD on DSP cores where the offset fits
// its immediate (at most 1020 bytes). GCC splits a 64-bit load whose halves are used apart into
// two LDR, so the LDRD is written out; the "m" operand tells the compiler which words it reads.
template <int Offset = 0>
TINYNET_INLINE_UNROLLED constexpr void load_two_words(const std::int32_t* base, std::int32_t& first,
                                                     std::int32_t& second) {
#if TINYNET_ARM_DSP
  if constexpr (4 * Offset <= 1020) {
    if (!std::is_constant_evaluated()) {
      asm("ldrd %0, %1, [%2, %3]"
          : "=r"(first), "=r"(second)
          : "r"(base), "n"(4 * Offset), "m"(*reinterpret_cast<const std::int32_t(*)[2]>(base + Offset)));
      return;
    }
  }
#endif
  first = base[Offset];
  second = base[Offset + 1];
}

// a0..a3 += w * the four inputs' values of the column at `column` (Inputs 4: two words) or
// a0, a1 += w * the two inputs' (Inputs 2: one word).
template <int Inputs, int Offset = 0>
TINYNET_INLINE_UNROLLED constexpr void mac_column(std::int32_t w, const std::int32_t* column, std::int32_t& a0,
                                                 std::int32_t& a1, std::int32_t& a2, std::int32_t& a3) {
  static_assert(Inputs == 2 || Inputs == 4);
  if constexpr (Inputs == 2) {
    mac_pair(w, column[Offset], a0, a1);
  } else {
    std::int32_t v01 = 0, v23 = 0;
    load_two_words<Offset>(column, v01, v23);
    mac_pair(w, v01, a0, a1);
    mac_pair(w, v23, a2, a3);
  }
}

}  // namespace tinynet::kernels::paired
