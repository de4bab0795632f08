// Host (x86-64) SIMD building blocks for the int8 kernels, written with GCC/clang vector
// extensions and a few SSE2 builtins that both compilers provide (no intrinsics headers).
//
// TINYNET_HOST_SIMD is 1 when compiling for an SSE2 host (every x86-64 CPU) with GCC or clang,
// unless the user defines it to 0; it is always 0 on Arm (Cortex-M keeps its own kernels and none
// of the tables below end up in its images: they are only ODR-used under TINYNET_HOST_SIMD).
// Every function here computes exactly what the portable code computes, lane by lane.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "output_stage.hpp"
#include "requantize.hpp"
#include "target.hpp"

#ifndef TINYNET_HOST_SIMD
#if !TINYNET_ARM_DSP && defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#define TINYNET_HOST_SIMD 1
#else
#define TINYNET_HOST_SIMD 0
#endif
#endif

#if TINYNET_HOST_SIMD
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

// floor(x * m / 2^32) per lane for signed x and unsigned m < 2^32, plus `add` (64-bit) before
// the division. pmuludq multiplies the unsigned lanes 0 and 2; lanes 1 and 3 are moved down for
// a second one. Reading x as unsigned adds 2^32 * m to the product when x < 0, so that term is
// taken off the high word afterwards (x * m + add >= -2^63 never wraps: |x| <= 2^31, m < 2^32,
// and the callers keep the true result within int32).
inline i32x4 high_mul(i32x4 x, u32x4 m, u64x2 add) {
  const u64x2 even = reinterpret_cast<u64x2>(__builtin_ia32_pmuludq128(x, reinterpret_cast<i32x4>(m))) + add;
  const u64x2 odd = reinterpret_cast<u64x2>(__builtin_ia32_pmuludq128(
                        reinterpret_cast<i32x4>(reinterpret_cast<u64x2>(x) >> 32),
                        reinterpret_cast<i32x4>(reinterpret_cast<u64x2>(m) >> 32))) +
                    add;
  const u32x4 high = reinterpret_cast<u32x4>((even >> 32) | (odd & u64x2{0xFFFFFFFF00000000ull, 0xFFFFFFFF00000000ull}));
  return reinterpret_cast<i32x4>(high - (reinterpret_cast<u32x4>(x >> 31) & m));  // (wraps like the hardware)
}

// The short output stage (core/output_stage.hpp) on four channels, plus the output zero point:
//   ((rounded high word of 2*acc*M) + 2^(n-1) + (acc >> 31)) >> n  + zero_point
// The per-channel right shift by n is a multiply by 2^(32 - n) keeping the high word (SSE2 has no
// per-lane shifts): floor(y * 2^(32-n) / 2^32) = y >> n.
template <int Count>
struct VectorOutputStage {
  static constexpr std::size_t padded = (static_cast<std::size_t>(Count) + 3) / 4 * 4;
  std::array<std::uint32_t, padded> multiplier{};
  std::array<std::int32_t, padded> rounding{};
  std::array<std::uint32_t, padded> shift_multiplier{};  // 2^(32 - n)

  i32x4 scale(i32x4 acc, std::size_t c, std::int32_t zero_point) const {
    constexpr std::uint64_t half = std::uint64_t{1} << 31;
    const i32x4 high = high_mul(acc + acc, load<u32x4>(&multiplier[c]), u64x2{half, half});
    const i32x4 y = high + load<i32x4>(&rounding[c]) + (acc >> 31);
    return high_mul(y, load<u32x4>(&shift_multiplier[c]), u64x2{0, 0}) + zero_point;
  }
};

template <int Count>
constexpr VectorOutputStage<Count> vector_output_stage(const ShortOutputStage<Count>& stage) {
  VectorOutputStage<Count> out{};
  for (std::size_t c = 0; c < static_cast<std::size_t>(Count); ++c) {
    out.multiplier[c] = static_cast<std::uint32_t>(stage.multiplier[c]);
    out.rounding[c] = stage.rounding[c];
    out.shift_multiplier[c] = std::uint32_t{1} << (32 - stage.right_shift[c]);
  }
  return out;
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

}  // namespace tinynet::host
#endif
