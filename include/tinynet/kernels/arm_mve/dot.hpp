// The int8 dot products on cores with Arm's Helium (M-profile Vector Extension, integer: Cortex-M55,
// M85), over an int16 patch in plain order (kernels/dot.hpp): VLDRB.S16 loads eight int8 weights
// sign-extended to eight int16 lanes, VLDRH eight patch values, and one VMLADAVA.S16 adds their
// eight products to a 32-bit accumulator. A last part shorter than eight lanes is loaded and
// multiplied under a tail predicate (VCTP.16): the lanes past the end are neither read nor added.
// Integer sums do not depend on their order: the same bytes as every other path.
#pragma once

#include <cstdint>

#include "../../core/target.hpp"

#if TINYNET_ARM_MVE
namespace tinynet::kernels::arm_mve {

// acc[r] += sum_i weights[r * Stride + i] * patch[i], i < Count, for Rows weight rows Stride apart.
template <int Count, int Rows, int Stride = Count>
inline void dot_rows(const std::int16_t* patch, const std::int8_t* weights, std::int32_t* acc) {
  constexpr int vectors = Count / 8, rest = Count % 8;
  std::int32_t sums[Rows];
  for (int r = 0; r < Rows; ++r) sums[r] = acc[r];
  for (int v = 0; v < vectors; ++v) {
    const int16x8_t x = vldrhq_s16(patch + 8 * v);
    for (int r = 0; r < Rows; ++r) sums[r] = vmladavaq_s16(sums[r], x, vldrbq_s16(weights + r * Stride + 8 * v));
  }
  if constexpr (rest != 0) {
    const mve_pred16_t tail = vctp16q(rest);
    const int16x8_t x = vldrhq_z_s16(patch + 8 * vectors, tail);
    for (int r = 0; r < Rows; ++r)
      sums[r] = vmladavaq_p_s16(sums[r], x, vldrbq_z_s16(weights + r * Stride + 8 * vectors, tail), tail);
  }
  for (int r = 0; r < Rows; ++r) acc[r] = sums[r];
}

// Two patches (two output pixels) against two weight rows (two output channels):
// acc = {pixel 0 row 0, pixel 0 row 1, pixel 1 row 0, pixel 1 row 1}. Each vector of weights and
// of patch values is loaded once for its two products.
template <int Count>
inline void dot_2x2(const std::int16_t* patch0, const std::int16_t* patch1, const std::int8_t* weights,
                    std::int32_t* acc) {
  constexpr int vectors = Count / 8, rest = Count % 8;
  std::int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
  for (int v = 0; v < vectors; ++v) {
    const int16x8_t x0 = vldrhq_s16(patch0 + 8 * v), x1 = vldrhq_s16(patch1 + 8 * v);
    const int16x8_t w0 = vldrbq_s16(weights + 8 * v), w1 = vldrbq_s16(weights + Count + 8 * v);
    a00 = vmladavaq_s16(a00, x0, w0);
    a01 = vmladavaq_s16(a01, x0, w1);
    a10 = vmladavaq_s16(a10, x1, w0);
    a11 = vmladavaq_s16(a11, x1, w1);
  }
  if constexpr (rest != 0) {
    const mve_pred16_t tail = vctp16q(rest);
    const int16x8_t x0 = vldrhq_z_s16(patch0 + 8 * vectors, tail), x1 = vldrhq_z_s16(patch1 + 8 * vectors, tail);
    const int16x8_t w0 = vldrbq_z_s16(weights + 8 * vectors, tail);
    const int16x8_t w1 = vldrbq_z_s16(weights + Count + 8 * vectors, tail);
    a00 = vmladavaq_p_s16(a00, x0, w0, tail);
    a01 = vmladavaq_p_s16(a01, x0, w1, tail);
    a10 = vmladavaq_p_s16(a10, x1, w0, tail);
    a11 = vmladavaq_p_s16(a11, x1, w1, tail);
  }
  acc[0] = a00, acc[1] = a01, acc[2] = a10, acc[3] = a11;
}

}  // namespace tinynet::kernels::arm_mve
#endif
