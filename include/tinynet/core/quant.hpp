// Quantization parameters of an activation tensor: real = (q - zero_point) * scale.
#pragma once

#include <cstdint>

namespace tinynet {

struct Quant {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

// The quantization argument of float tensors (ignored by float kernels).
inline constexpr Quant no_quant{};

namespace detail {
// Whether a tensor was declared without quantization parameters (matched on the object, not the
// values: an int16 tensor of scale 1 and zero point 0 is still quantized).
template <const Quant& Q>
inline constexpr bool is_no_quant = false;
template <>
inline constexpr bool is_no_quant<no_quant> = true;
}  // namespace detail

}  // namespace tinynet
