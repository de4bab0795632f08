// The host (SSE2) int8 dot product of an int16 patch with int8 weight rows (kernels/dot.hpp).
#pragma once

#include <cstdint>

#include "simd.hpp"

#if TINYNET_HOST_SIMD
namespace tinynet::host {

// Whether dot_rows below handles Count values: at least one block of sixteen, and few enough
// that no lane overflows.
template <int Count>
inline constexpr bool dot_rows_applies = Count >= 16 && Count < 2048;

// acc[r] += sum_i weights[r * Stride + i] * patch[i]: sixteen weights per step, each byte moved
// to the high half of an int16 lane (256 w, no sign extension needed) and multiplied with the
// patch by pmaddwd; the sums are divided by 256 at the end (exact). A lane adds Count / 4
// products of at most 2^22 in magnitude, so it cannot overflow below 2048 values.
template <int Count, int Rows, int Stride = Count>
inline void dot_rows(const std::int16_t* patch, const std::int8_t* weights, std::int32_t* acc) {
  constexpr int vectorized = Count / 16 * 16;
  i32x4 sums[Rows] = {};
  for (int i = 0; i < vectorized; i += 16) {
    const i16x8 x0 = load<i16x8>(patch + i), x1 = load<i16x8>(patch + i + 8);
    for (int r = 0; r < Rows; ++r) {
      const i8x16 w = load<i8x16>(weights + r * Stride + i);
      sums[r] += madd(x0, high_halves<0>(w)) + madd(x1, high_halves<1>(w));
    }
  }
  // (Each lane divided by 256 before the lanes are added: their sum could reach 2^31.)
  for (int r = 0; r < Rows; ++r) sums[r] >>= 8;
  const i32x4 totals = Rows == 2 ? sum4(sums[0], sums[Rows - 1], sums[0], sums[0]) : sum4(sums[0], sums[0], sums[0], sums[0]);
  for (int r = 0; r < Rows; ++r) {
    std::int32_t sum = acc[r] + (r < 2 ? totals[r] : sum4(sums[r], sums[r], sums[r], sums[r])[0]);
    const std::int8_t* w = weights + r * Stride;
    for (int i = vectorized; i < Count; ++i) sum += static_cast<std::int32_t>(w[i]) * patch[i];
    acc[r] = sum;
  }
}

}  // namespace tinynet::host
#endif
