// L2Normalization over the last dimension (TFLM's l2norm.cc).
//
// float: reference_ops::L2Normalization: the squared norm summed in float in order, std::sqrt,
// at least TFLM's epsilon 1e-6f, then each value divided by it.
// int8: reference_integer_ops::L2Normalization: acc = sum of (x - in_zp)^2 in int32,
// GetInvSqrtQuantizedMultiplierExp(acc) (Rsqrt's Newton-Raphson, one copy), then each
// MultiplyByQuantizedMultiplier(x - in_zp, m, shift + 7) clamped to int8: x / ||x|| in 1/128
// whatever the output tensor's quantization says (TFLM never reads it, nor the input scale). A row
// all at the zero point gives zeros.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "../../core/constexpr_math.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "../elementwise/unary_math.hpp"

namespace tinynet {

template <class In, class Out>
struct L2Normalization {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(output_shape_mismatch<L2Normalization, typename In::shape, typename Out::shape,
                                      std::is_same_v<typename In::shape, typename Out::shape>>::ok);
  static_assert(element_type_mismatch<L2Normalization, element, typename Out::element>::ok);
  static_assert(In::is_float || std::is_same_v<element, std::int8_t>,
                "tinynet::L2Normalization: float or int8 (TFLM has no other type)");
  static_assert(In::shape::rank <= 4, "tinynet::L2Normalization: rank <= 4, as TFLM");

  static constexpr int depth = In::shape::dim(-1);
  static constexpr int rows = In::size / depth;
  static_assert(In::is_float || depth <= 33025,
                "tinynet::L2Normalization: int8 rows of at most 33025 values (255^2 each must fit the int32 sum)");
  static constexpr float epsilon = 1e-6f;
  static constexpr int output_bits = 7;  // TFLM's kOutputScale: the output is in 1/128

  // Each row's sum is taken before any of its outputs is written, and each output after its own
  // input: the output may share the input's buffer.
  static constexpr bool in_place = true;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static constexpr void run(const element* in, element* out) {
    for (int r = 0; r < rows; ++r) {
      const element* x = in + r * depth;
      element* y = out + r * depth;
      if constexpr (In::is_float) {
        float squared = 0.0f;
        for (int c = 0; c < depth; ++c) squared += x[c] * x[c];
        float norm = std::is_constant_evaluated() ? detail::sqrt_float(squared) : std::sqrt(squared);
        norm = norm < epsilon ? epsilon : norm;  // std::max(norm, epsilon): a NaN stays
        for (int c = 0; c < depth; ++c) y[c] = x[c] / norm;
      } else {
        std::int32_t acc = 0;
        for (int c = 0; c < depth; ++c) {
          const std::int32_t v = std::int32_t{x[c]} - In::zero_point;
          acc += v * v;
        }
        const auto inv = unary_math_detail::inv_sqrt_multiplier_exp(acc);
        for (int c = 0; c < depth; ++c) {
          const std::int32_t v = fixed::multiply_by_quantized_multiplier(std::int32_t{x[c]} - In::zero_point,
                                                                         inv.multiplier, inv.shift + output_bits);
          y[c] = static_cast<element>(v < -128 ? -128 : (v > 127 ? 127 : v));
        }
      }
    }
  }
};

}  // namespace tinynet
