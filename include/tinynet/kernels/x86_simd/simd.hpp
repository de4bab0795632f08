// Host (x86-64) SIMD building blocks for the int8 kernels of kernels/x86_simd/, written with
// GCC/clang vector extensions and a few SSE2 builtins that both compilers provide (no intrinsics
// headers). Namespace tinynet::host.
//
// TINYNET_HOST_SIMD is 1 when compiling for an SSE2 host (every x86-64 CPU) with GCC or clang,
// unless the user defines it to 0; it is always 0 on Arm (Cortex-M keeps its own kernels and none
// of the tables below end up in its images: they are only ODR-used under TINYNET_HOST_SIMD).
// Every function here computes exactly what the portable code computes, lane by lane.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../../core/fixed_point.hpp"
#include "../../core/output_stage.hpp"
#include "../../core/requantize.hpp"
#include "../../core/target.hpp"

#ifndef TINYNET_HOST_SIMD
#if !TINYNET_ARM_DSP && defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#define TINYNET_HOST_SIMD 1
#else
#define TINYNET_HOST_SIMD 0
#endif
#endif

#if TINYNET_HOST_SIMD
// Asks GCC to unroll short constant-trip loops (its -O2 does not; clang does by itself).
#if defined(__clang__)
#define TINYNET_HOST_UNROLL
#else
#define TINYNET_HOST_UNROLL _Pragma("GCC unroll 8")
#endif

namespace tinynet::host {

using i8x16 = signed char __attribute__((vector_size(16)));
using i8x8 = signed char __attribute__((vector_size(8)));
using i16x8 = short __attribute__((vector_size(16)));
using i32x4 = int __attribute__((vector_size(16)));
using u32x4 = unsigned __attribute__((vector_size(16)));
using i64x2 = long long __attribute__((vector_size(16)));
using u64x2 = unsigned long long __attribute__((vector_size(16)));

// Unaligned loads and stores (memcpy compiles to one movdqu/movq and has no aliasing issue).
template <class V, class T>
inline V load(const T* p) {
  V v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
template <class V, class T>
inline void store(T* p, V v) {
  __builtin_memcpy(p, &v, sizeof v);
}

// Bytes 0-7 (Half 0) or 8-15 (Half 1) of a and b interleaved: a0 b0 a1 b1 ... (punpck[lh]bw).
template <int Half>
inline i8x16 interleave(i8x16 a, i8x16 b) {
  if constexpr (Half == 0) {
    return __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  } else {
    return __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  }
}

// Bytes 0-7 (Half 0) or 8-15 (Half 1) of v in the high halves of int16 lanes: 256 * value, with
// no sign extension needed (pmaddwd sums divided by 256 later, or shifted down by widen16_to_int16).
template <int Half>
inline i16x8 high_halves(i8x16 v) {
  return reinterpret_cast<i16x8>(interleave<Half>(i8x16{}, v));
}

// Sixteen int8 values at in widened to int16 at out (the high halves shifted down arithmetically).
inline void widen16_to_int16(const std::int8_t* in, std::int16_t* out) {
  const i8x16 v = load<i8x16>(in);
  store(out, high_halves<0>(v) >> 8);
  store(out + 8, high_halves<1>(v) >> 8);
}

// Eight int8 values widened to int16.
inline i16x8 widen8(const std::int8_t* p) { return __builtin_convertvector(load<i8x8>(p), i16x8); }

// pmaddwd: lane i = a[2i] * b[2i] + a[2i+1] * b[2i+1], int16 x int16 -> int32. The sum of two
// int16 products overflows only for -32768 * -32768 twice, which int8-derived values never reach.
inline i32x4 madd(i16x8 a, i16x8 b) { return __builtin_ia32_pmaddwd128(a, b); }

// {sum(a), sum(b), sum(c), sum(d)}: four horizontal sums at once (two transposing rounds).
inline i32x4 sum4(i32x4 a, i32x4 b, i32x4 c, i32x4 d) {
  const i32x4 ab = __builtin_shufflevector(a, b, 0, 4, 1, 5) + __builtin_shufflevector(a, b, 2, 6, 3, 7);
  const i32x4 cd = __builtin_shufflevector(c, d, 0, 4, 1, 5) + __builtin_shufflevector(c, d, 2, 6, 3, 7);
  return __builtin_shufflevector(ab, cd, 0, 1, 4, 5) + __builtin_shufflevector(ab, cd, 2, 3, 6, 7);
}

// The high words of four unsigned 32 x 32 -> 64-bit products x[i] * m[i] + add[i]. pmuludq
// multiplies lanes 0 and 2; m_odd holds m[1] and m[3] in those lanes, and x's odd lanes are moved
// down for a second pmuludq. The sums wrap modulo 2^64 (callers rely on it, see below).
inline u32x4 high_words(u32x4 x, u32x4 m, u32x4 m_odd, u64x2 add_even, u64x2 add_odd) {
  const u64x2 even = reinterpret_cast<u64x2>(__builtin_ia32_pmuludq128(reinterpret_cast<i32x4>(x), reinterpret_cast<i32x4>(m))) + add_even;
  const u64x2 odd = reinterpret_cast<u64x2>(__builtin_ia32_pmuludq128(
                        reinterpret_cast<i32x4>(reinterpret_cast<u64x2>(x) >> 32), reinterpret_cast<i32x4>(m_odd))) +
                    add_odd;
  return __builtin_shufflevector(reinterpret_cast<u32x4>(even), reinterpret_cast<u32x4>(odd), 1, 5, 3, 7);
}

// The short output stage (core/output_stage.hpp) on four channels, plus the output zero point:
//   y = floor((2 acc M + 2^31) / 2^32) + 2^(n-1) + (acc >> 31),   out = (y >> n) + zero_point.
// SSE2 multiplies only unsigned lanes and shifts all lanes by one count, so both steps become
// unsigned multiplies whose offsets the compiler has folded into per-channel constants:
//  * u = 2 acc + 2^31 is 2 acc with its sign bit flipped, >= 0; u M + (2^31 + 2^(n-1) 2^32 - 2^31 M)
//    = 2 acc M + 2^31 + 2^(n-1) 2^32, whose high word (mod 2^32: the true value fits) is the
//    first two terms of y.
//  * v = y + 2^31 (the sign bit flipped), times 2^(32-n): the high word is (y >> n) + 2^(31-n),
//    so the second constant is zero_point - 2^(31-n).
template <int Count>
struct VectorOutputStage {
  static constexpr std::size_t padded = (static_cast<std::size_t>(Count) + 3) / 4 * 4;
  // Per group of four channels c..c+3 (entry 4q..4q+3): the lanes as pmuludq reads them.
  std::array<std::uint32_t, padded> multiplier{};      // M[c..c+3]
  std::array<std::uint32_t, padded> multiplier_odd{};  // M[c+1], -, M[c+3], -
  std::array<std::uint64_t, padded / 2> add_even{};    // constants of channels c, c+2
  std::array<std::uint64_t, padded / 2> add_odd{};     // c+1, c+3
  std::array<std::uint32_t, padded> shift{};           // 2^(32-n) for c..c+3
  std::array<std::uint32_t, padded> shift_odd{};
  std::array<std::int32_t, padded> offset{};           // zero_point - 2^(31-n)
  // When every channel has the same n (per-tensor quantization), the second step is one
  // arithmetic shift of all lanes instead (y >> n, then + zero_point).
  int uniform_shift = 0;
  std::int32_t zero_point = 0;

  // c: a multiple of 4.
  i32x4 scale(i32x4 acc, std::size_t c) const {
    constexpr u32x4 sign = {0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u};
    const u32x4 u = reinterpret_cast<u32x4>(acc + acc) ^ sign;
    const u32x4 y = high_words(u, load<u32x4>(&multiplier[c]), load<u32x4>(&multiplier_odd[c]), load<u64x2>(&add_even[c / 2]),
                               load<u64x2>(&add_odd[c / 2])) +
                    reinterpret_cast<u32x4>(acc >> 31);
    if (uniform_shift != 0) return (reinterpret_cast<i32x4>(y) >> uniform_shift) + zero_point;
    const u32x4 shifted = high_words(y ^ sign, load<u32x4>(&shift[c]), load<u32x4>(&shift_odd[c]), u64x2{}, u64x2{});
    return reinterpret_cast<i32x4>(shifted) + load<i32x4>(&offset[c]);
  }
};

template <int Count>
constexpr VectorOutputStage<Count> vector_output_stage(const ShortOutputStage<Count>& stage, std::int32_t zero_point) {
  VectorOutputStage<Count> out{};
  out.zero_point = zero_point;
  out.uniform_shift = stage.right_shift[0];
  for (std::size_t c = 0; c < static_cast<std::size_t>(Count); ++c)
    if (stage.right_shift[c] != stage.right_shift[0]) out.uniform_shift = 0;
  for (std::size_t c = 0; c < static_cast<std::size_t>(Count); ++c) {
    const std::uint64_t m = static_cast<std::uint32_t>(stage.multiplier[c]);
    const int n = stage.right_shift[c];
    if (n < 1 || n > 30) continue;  // (never: the short stage requires 1 <= n <= 30)
    const std::uint64_t add = (std::uint64_t{1} << 31) + (static_cast<std::uint64_t>(stage.rounding[c]) << 32) - (m << 31);
    const std::uint32_t shift = static_cast<std::uint32_t>(std::uint64_t{1} << (32 - n));
    out.multiplier[c] = static_cast<std::uint32_t>(m);
    out.shift[c] = shift;
    if (c % 2 == 1) {
      out.multiplier_odd[c - 1] = static_cast<std::uint32_t>(m);  // (lane 0 or 2 of the group)
      out.shift_odd[c - 1] = shift;
      out.add_odd[c / 4 * 2 + (c % 4) / 2] = add;
    } else {
      out.add_even[c / 4 * 2 + (c % 4) / 2] = add;
    }
    out.offset[c] = zero_point - static_cast<std::int32_t>(std::uint32_t{1} << (31 - n));
  }
  return out;
}

// TFLM's full MultiplyByQuantizedMultiplier (fixed_point.hpp) on four channels, for layers whose
// accumulators may be too large for the short stage, when no channel shifts left (n = -shift
// in 0..31). Any int32 acc:
//  * SaturatingRoundingDoublingHighMul: u = acc + 2^31 (sign bit flipped) times M plus
//    2^30 - 2^31 M is acc M + 2^30; bits 31..62 are floor((acc M + 2^30) / 2^31) (no saturation:
//    M >= 0).
//  * RoundingDivideByPOT(y, n) = floor((y + s + 2^(n-1)) / 2^n), s = -1 for y < 0 and n >= 1
//    (0 when n = 0). With v = (y + s) + 2^31: v 2^(31-n) + (2^(n-1) 2^(31-n) - 2^(62-n)) is
//    (y + s + 2^(n-1)) 2^(31-n), whose bits 31..62 are the quotient.
template <int Count>
struct FullVectorOutputStage {
  static constexpr std::size_t padded = (static_cast<std::size_t>(Count) + 3) / 4 * 4;
  std::array<std::uint32_t, padded> multiplier{}, multiplier_odd{};
  std::array<std::uint64_t, padded / 2> multiply_add_even{}, multiply_add_odd{};
  std::array<std::uint32_t, padded> divisor{}, divisor_odd{};  // 2^(31-n)
  std::array<std::uint64_t, padded / 2> divide_add_even{}, divide_add_odd{};
  std::array<std::int32_t, padded> negative_mask{};  // -1 where n >= 1
  std::int32_t zero_point = 0;

  // Bits 31..62 of x[i] * m[i] + add[i] (mod 2^32) for the four lanes.
  static u32x4 bits_31_to_62(u32x4 x, u32x4 m, u32x4 m_odd, u64x2 add_even, u64x2 add_odd) {
    const u64x2 even = reinterpret_cast<u64x2>(__builtin_ia32_pmuludq128(reinterpret_cast<i32x4>(x), reinterpret_cast<i32x4>(m))) + add_even;
    const u64x2 odd = reinterpret_cast<u64x2>(__builtin_ia32_pmuludq128(
                          reinterpret_cast<i32x4>(reinterpret_cast<u64x2>(x) >> 32), reinterpret_cast<i32x4>(m_odd))) +
                      add_odd;
    return __builtin_shufflevector(reinterpret_cast<u32x4>(even >> 31), reinterpret_cast<u32x4>(odd << 1), 0, 5, 2, 7);
  }

  i32x4 scale(i32x4 acc, std::size_t c) const {
    constexpr u32x4 sign = {0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u};
    const i32x4 y = reinterpret_cast<i32x4>(bits_31_to_62(reinterpret_cast<u32x4>(acc) ^ sign, load<u32x4>(&multiplier[c]),
                                                          load<u32x4>(&multiplier_odd[c]), load<u64x2>(&multiply_add_even[c / 2]),
                                                          load<u64x2>(&multiply_add_odd[c / 2])));
    const u32x4 v = reinterpret_cast<u32x4>(y + ((y >> 31) & load<i32x4>(&negative_mask[c]))) ^ sign;
    return reinterpret_cast<i32x4>(bits_31_to_62(v, load<u32x4>(&divisor[c]), load<u32x4>(&divisor_odd[c]),
                                                 load<u64x2>(&divide_add_even[c / 2]), load<u64x2>(&divide_add_odd[c / 2]))) +
           zero_point;
  }
};

// Whether FullVectorOutputStage applies: no left shift, right shifts of at most 31.
template <int Count>
constexpr bool full_vector_output_stage_applies(const ChannelMultipliers<Count>& multipliers) {
  for (std::size_t c = 0; c < static_cast<std::size_t>(Count); ++c)
    if (multipliers.shift[c] > 0 || multipliers.shift[c] < -31 || multipliers.multiplier[c] < 0) return false;
  return true;
}

// Lane c uses entry c of multipliers (a per-tensor layer, with one entry, repeats it).
template <int Count, int Entries>
constexpr FullVectorOutputStage<Count> full_vector_output_stage(const ChannelMultipliers<Entries>& multipliers,
                                                                std::int32_t zero_point) {
  FullVectorOutputStage<Count> out{};
  out.zero_point = zero_point;
  for (std::size_t c = 0; c < static_cast<std::size_t>(Count); ++c) {
    const std::size_t e = Entries == 1 || c >= static_cast<std::size_t>(Entries) ? 0 : c;  // (padding lanes: any entry)
    const std::uint64_t m = static_cast<std::uint32_t>(multipliers.multiplier[e]);
    const int n = -multipliers.shift[e];
    if (n < 0 || n > 31) continue;  // (never: see full_vector_output_stage_applies)
    const std::uint64_t multiply_add = (std::uint64_t{1} << 30) - (m << 31);
    const std::uint64_t k = std::uint64_t{1} << (31 - n);
    const std::uint64_t divide_add = (n >= 1 ? (std::uint64_t{1} << (n - 1)) * k : 0) - (std::uint64_t{1} << (62 - n));
    out.multiplier[c] = static_cast<std::uint32_t>(m);
    out.divisor[c] = static_cast<std::uint32_t>(k);
    out.negative_mask[c] = n >= 1 ? -1 : 0;
    const std::size_t pair = c / 4 * 2 + (c % 4) / 2;  // the 64-bit lane of channel c
    if (c % 2 == 1) {
      out.multiplier_odd[c - 1] = static_cast<std::uint32_t>(m);  // (lane 0 or 2 of the group)
      out.divisor_odd[c - 1] = static_cast<std::uint32_t>(k);
      out.multiply_add_odd[pair] = multiply_add;
      out.divide_add_odd[pair] = divide_add;
    } else {
      out.multiply_add_even[pair] = multiply_add;
      out.divide_add_even[pair] = divide_add;
    }
  }
  return out;
}

// fixed::saturating_rounding_doubling_high_mul(a, m) for |a| < 2^30 and 0 <= m < 2^31, one m for
// all lanes (the flipped-sign form of VectorOutputStage::scale: 2a + 2^31 >= 0 times m, plus
// 2^31 - 2^31 m, has the high word floor((2 a m + 2^31) / 2^32) = floor((a m + 2^30) / 2^31)).
inline i32x4 doubling_high_mul(i32x4 a, std::int32_t m) {
  constexpr u32x4 sign = {0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u};
  const std::uint64_t offset = (std::uint64_t{1} << 31) - (static_cast<std::uint64_t>(m) << 31);
  const u32x4 mv = u32x4{} + static_cast<std::uint32_t>(m);
  return reinterpret_cast<i32x4>(high_words(reinterpret_cast<u32x4>(a + a) ^ sign, mv, mv, u64x2{offset, offset}, u64x2{offset, offset}));
}

// fixed::rounding_divide_by_pot(x, Exponent) for |x| < 2^30: adding 2^(e-1), minus one for
// negative x, then flooring rounds half away from zero exactly as the remainder test does.
template <int Exponent>
inline i32x4 rounding_divide_by_pot(i32x4 x) {
  if constexpr (Exponent == 0) {
    return x;
  } else {
    return (x + (std::int32_t{1} << (Exponent - 1)) + (x >> 31)) >> Exponent;
  }
}

// Sixteen int8 values as four vectors of int32 holding value * 2^Shift (Shift <= 24): each byte
// goes to the top of its 32-bit lane, and the arithmetic shift brings it down sign-extended.
template <int Shift>
inline void widen16(i8x16 v, i32x4* out) {
  const i16x8 l = high_halves<0>(v), h = high_halves<1>(v), z{};
  out[0] = reinterpret_cast<i32x4>(__builtin_shufflevector(z, l, 0, 8, 1, 9, 2, 10, 3, 11)) >> (24 - Shift);
  out[1] = reinterpret_cast<i32x4>(__builtin_shufflevector(z, l, 4, 12, 5, 13, 6, 14, 7, 15)) >> (24 - Shift);
  out[2] = reinterpret_cast<i32x4>(__builtin_shufflevector(z, h, 0, 8, 1, 9, 2, 10, 3, 11)) >> (24 - Shift);
  out[3] = reinterpret_cast<i32x4>(__builtin_shufflevector(z, h, 4, 12, 5, 13, 6, 14, 7, 15)) >> (24 - Shift);
}

// Clamps two vectors of four int32 results to [min, max] (within int8) and narrows them to eight
// int8 values. The saturating pack to int16 keeps every in-range value and sends the others past
// the bounds, so the 16-bit min/max that SSE2 has (pminsw/pmaxsw) clamp exactly.
inline i8x16 narrow_clamped(i32x4 a, i32x4 b, std::int32_t min, std::int32_t max) {
  i16x8 v = __builtin_ia32_packssdw128(a, b);
  const i16x8 lo = i16x8{} + static_cast<short>(min), hi = i16x8{} + static_cast<short>(max);
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return reinterpret_cast<i8x16>(__builtin_ia32_packsswb128(v, v));
}

// The same for sixteen results at once, stored by one 16-byte store (a following layer's
// 16-byte load is then forwarded from it; from two 8-byte stores it would wait for the cache).
inline i8x16 narrow_clamped(i32x4 a, i32x4 b, i32x4 c, i32x4 d, std::int32_t min, std::int32_t max) {
  const i16x8 lo = i16x8{} + static_cast<short>(min), hi = i16x8{} + static_cast<short>(max);
  i16x8 v0 = __builtin_ia32_packssdw128(a, b), v1 = __builtin_ia32_packssdw128(c, d);
  v0 = v0 < lo ? lo : v0;
  v0 = v0 > hi ? hi : v0;
  v1 = v1 < lo ? lo : v1;
  v1 = v1 > hi ? hi : v1;
  return reinterpret_cast<i8x16>(__builtin_ia32_packsswb128(v0, v1));
}

// Stores the first n (<= 8) bytes of v.
inline void store_bytes(std::int8_t* out, i8x16 v, int n) {
  if (n == 8) {
    __builtin_memcpy(out, &v, 8);
  } else if (n == 4) {
    __builtin_memcpy(out, &v, 4);
  } else {
    for (int i = 0; i < n; ++i) out[i] = v[i];
  }
}

// The output stage of a weighted op's channel plan (core/channel_plan.hpp) on four channels at a
// time: the short stage in vectors where the plan has it, TFLM's full formula in vectors where its
// shifts allow, else lane by lane. One entry per channel, channels padded to a multiple of 4
// (padding lanes repeat entry 0; their results are never stored), plus the folded bias as int32.
template <class Plan>
struct VectorRequantizer {
  static constexpr int channels = Plan::channels;
  static constexpr int padded = (channels + 3) / 4 * 4;
  static constexpr std::size_t entry(int c) { return c < channels ? Plan::entry(c) : 0; }

  static constexpr VectorOutputStage<padded> short_stage = [] {
    ShortOutputStage<padded> per_channel{};
    for (int c = 0; c < padded; ++c) {
      per_channel.multiplier[static_cast<std::size_t>(c)] = Plan::short_stage_table.multiplier[entry(c)];
      per_channel.rounding[static_cast<std::size_t>(c)] = Plan::short_stage_table.rounding[entry(c)];
      per_channel.right_shift[static_cast<std::size_t>(c)] = Plan::short_stage_table.right_shift[entry(c)];
    }
    // The table's rounding words may hold the output zero point already (Plan::short_stage_zero_point).
    return vector_output_stage<padded>(per_channel, Plan::output::zero_point - Plan::short_stage_zero_point);
  }();
  static constexpr FullVectorOutputStage<padded> full_stage =
      full_vector_output_stage<padded>(Plan::multipliers, Plan::output::zero_point);

  alignas(16) static constexpr std::array<std::int32_t, static_cast<std::size_t>(padded)> bias = [] {
    std::array<std::int32_t, static_cast<std::size_t>(padded)> out{};
    for (int c = 0; c < channels; ++c)
      out[static_cast<std::size_t>(c)] = static_cast<std::int32_t>(Plan::folded_bias[static_cast<std::size_t>(c)]);
    return out;
  }();

  // Accumulators of channels c .. c + 3 (c a multiple of 4) to output values plus the output
  // zero point, not yet clamped.
  static i32x4 scale(i32x4 acc, int c) {
    if constexpr (Plan::short_stage) {
      return short_stage.scale(acc, static_cast<std::size_t>(c));
    } else if constexpr (full_vector_output_stage_applies(Plan::multipliers)) {
      return full_stage.scale(acc, static_cast<std::size_t>(c));
    } else {
      i32x4 out{};
      for (int i = 0; i < 4 && c + i < channels; ++i)
        out[i] = fixed::multiply_by_quantized_multiplier(acc[i], Plan::multipliers.multiplier[entry(c + i)],
                                                         Plan::multipliers.shift[entry(c + i)]) +
                 Plan::output::zero_point;
      return out;
    }
  }
};

}  // namespace tinynet::host
#endif
