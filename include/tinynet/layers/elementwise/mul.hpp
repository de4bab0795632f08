// Mul: out = act(a * b), with broadcasting; either operand may be a ConstantTensor.
//
// Quantized, TFLM's mul (CalculateOpDataMul + reference_integer_ops::MulElementwise /
// BroadcastMul4DSlow): (a - a_zp) * (b - b_zp) in 32 bits, times the multiplier of
// (double)a_scale * (double)b_scale / (double)out_scale (QuantizeMultiplier, any magnitude), plus
// the output zero point, clamped to the fused activation's range. int16 needs zero points 0.
#pragma once

#include <cstdint>
#include <type_traits>

#include "../../core/activation_range.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "arithmetic.hpp"
#include "binary.hpp"

namespace tinynet {

template <class In1, class In2, class Out, ArithmeticOptions Options = ArithmeticOptions{}>
struct Mul : detail::Binary<Mul<In1, In2, Out, Options>, Mul<In1, In2, Out, Options>, In1, In2, Out> {
  using element = typename Out::element;
  static_assert(element_type_mismatch<Mul, element, typename In1::element>::ok);
  static_assert(element_type_mismatch<Mul, element, typename In2::element>::ok);
  static_assert(!std::is_same_v<element, std::int16_t> ||
                    (In1::zero_point == 0 && In2::zero_point == 0 && Out::zero_point == 0),
                "tinynet: int16 Mul needs zero points 0 (as TFLM)");

  static constexpr bool is_quantized = !Out::is_float;
  static constexpr QuantizedMultiplier output_multiplier =
      is_quantized ? quantize_multiplier(static_cast<double>(In1::scale) * static_cast<double>(In2::scale) /
                                         static_cast<double>(Out::scale))
                   : QuantizedMultiplier{};
  static constexpr QuantizedRange range =
      is_quantized ? activation_range<element>(Options.activation, Out::scale, Out::zero_point) : QuantizedRange{0, 0};

  static constexpr element apply(element x1, element x2) {
    if constexpr (is_quantized) {
      // int8: |product| <= 255^2; int16 (zero points 0): <= 2^30.
      const std::int32_t product = (x1 - In1::zero_point) * (x2 - In2::zero_point);
      const std::int32_t result =
          fixed::multiply_by_quantized_multiplier(product, output_multiplier.multiplier, output_multiplier.shift) +
          Out::zero_point;
      return static_cast<element>(clamp(result, range));
    } else {
      return clamp_float(x1 * x2, activation_range_float(Options.activation));
    }
  }
};

}  // namespace tinynet
