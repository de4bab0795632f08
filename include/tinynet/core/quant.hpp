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

}  // namespace tinynet
