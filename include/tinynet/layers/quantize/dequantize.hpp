// Dequantize: integer -> float at a model's edge.
#pragma once

#include <cstdint>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

// Dequantize: integer -> float, x = (float)(scale * (q - zero_point)) with the scale widened to
// double first (TFLM's DequantizationParams holds a double).
template <class In, class Out>
struct Dequantize {
  using inputs = TypeList<In>;
  using output = Out;
  using input_element = typename In::element;
  static_assert(output_shape_mismatch<Dequantize, typename In::shape, typename Out::shape, In::size == Out::size>::ok);
  static_assert(Out::is_float && !In::is_float, "tinynet::Dequantize: integer input, float output");

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static constexpr void run(const input_element* in, float* out) {
    for (int i = 0; i < In::size; ++i)
      out[i] = static_cast<float>(static_cast<double>(In::scale) * (static_cast<std::int32_t>(in[i]) - In::zero_point));
  }
};

}  // namespace tinynet
