// HardSwish: x * relu6(x + 3) / 6 (MobileNetV3). float32 and int8 (TFLM has no int16 kernel).
//
// Quantized, TFLM's hard_swish (HardSwishPrepare + reference_ops::HardSwish), all in 16 bits:
// the input minus its zero point, times 128 ("hires" scale in_scale / 128), is scaled
//   - to the output scale by QuantizeMultiplier((double)(hires_scale / out_scale)) reduced to a
//     Q0.15 multiplier (a rounding doubling high multiply, the shift applied last), and
//   - to a "reluish" value in [-1, 1] on the scale where 3.0 is 32768, by the multiplier of
//     hires_scale / (3 / 32768) (a saturating left shift by exponent - 1, the multiply, the last
//     saturating bit of shift, or a rounding right shift), then mapped to [0, 1];
// the two are multiplied with a truncating doubling high multiply, shifted right by the output
// exponent, offset by the output zero point and clamped; for int8 all 256 results are tabulated at
// compile time. TFLM refuses an output multiplier above one (input scale >= 128 x output scale);
// so does this layer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "../elementwise/unary.hpp"

namespace tinynet {

template <class In, class Out>
struct HardSwish : detail::Unary<HardSwish<In, Out>, In, Out, !In::is_float> {
  using element = typename In::element;
  static_assert(In::is_float || std::is_same_v<element, std::int8_t>,
                "tinynet: HardSwish supports float and int8 (TFLM has no int16 kernel)");

  struct Params {
    std::int16_t output_multiplier = 0;
    int output_exponent = 0;
    std::int16_t reluish_multiplier = 0;
    int reluish_exponent = 0;
  };
  static constexpr Params params = [] {
    Params p{};
    if constexpr (!In::is_float) {
      const float hires_input_scale = (1.0f / 128.0f) * In::scale;
      const float reluish_scale = 3.0f / 32768.0f;
      const QuantizedMultiplier out = quantize_multiplier(static_cast<double>(hires_input_scale / Out::scale));
      const QuantizedMultiplier reluish = quantize_multiplier(static_cast<double>(hires_input_scale / reluish_scale));
      p = {downscale_to_int16(out.multiplier), out.shift, downscale_to_int16(reluish.multiplier), reluish.shift};
    }
    return p;
  }();
  static_assert(params.output_exponent <= 0,
                "tinynet: int8 HardSwish needs an input scale below 128 x the output scale (as TFLM)");

  static constexpr element apply(element x) {
    if constexpr (In::is_float) {
      // As TFLM writes it, NaN included: std::max(0, NaN) is 0.
      const float shifted = x + 3.0f;
      const float clamped_low = 0.0f < shifted ? shifted : 0.0f;
      const float relu6 = clamped_low < 6.0f ? clamped_low : 6.0f;
      return x * relu6 / 6.0f;
    } else {
      using fixed::saturating_left_shift;
      const auto input_value = static_cast<std::int16_t>(x - In::zero_point);
      const auto hires = static_cast<std::int16_t>(input_value * (1 << 7));
      const std::int16_t preshift_output = fixed::saturating_rounding_doubling_high_mul(hires, params.output_multiplier);
      std::int16_t reluish = hires;
      if constexpr (params.reluish_exponent > 0) reluish = saturating_left_shift(reluish, params.reluish_exponent - 1);
      reluish = fixed::saturating_rounding_doubling_high_mul(reluish, params.reluish_multiplier);
      if constexpr (params.reluish_exponent > 0) reluish = saturating_left_shift(reluish, 1);
      if constexpr (params.reluish_exponent < 0) reluish = fixed::rounding_divide_by_pot16(reluish, -params.reluish_exponent);
      reluish = static_cast<std::int16_t>((reluish + (1 << 15)) >> 1);
      const std::int16_t preshift = fixed::saturating_doubling_high_mul(reluish, preshift_output);
      // TFLM adds the zero point in int16 (wrapping), then clamps.
      const auto value = static_cast<std::int16_t>(fixed::rounding_divide_by_pot16(preshift, -params.output_exponent) +
                                                   Out::zero_point);
      constexpr std::int16_t lo = std::numeric_limits<element>::min(), hi = std::numeric_limits<element>::max();
      return static_cast<element>(value < lo ? lo : (value > hi ? hi : value));
    }
  }
  // int8: run() reads the 256 results of apply() from a table computed by the compiler (detail::Unary).
};

}  // namespace tinynet
