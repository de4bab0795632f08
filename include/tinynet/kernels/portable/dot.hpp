// The portable int8 dot products (any CPU, and constant evaluation): plain multiply-adds over the
// int16 patch (kernels/dot.hpp describes the patch and chooses the kernel).
#pragma once

#include <cstdint>

namespace tinynet::kernels::portable {

// acc[r] += sum_i weights[r * Stride + i] * patch[i], i < Count, for Rows weight rows Stride apart.
template <int Count, int Rows, class Acc, int Stride = Count>
constexpr void dot_rows(const std::int16_t* patch, const std::int8_t* weights, Acc* acc) {
  for (int r = 0; r < Rows; ++r) {
    Acc sum = acc[r];
    const std::int8_t* w = weights + r * Stride;
    for (int i = 0; i < Count; ++i) sum += static_cast<Acc>(w[i]) * patch[i];
    acc[r] = sum;
  }
}

}  // namespace tinynet::kernels::portable
