// Mean over any set of axes (TFLite MEAN, keep_dims or not), by default height and width of an
// NHWC tensor (axis {1, 2}). The layout and the sum are Sum's (reduce.hpp).
//
// int8/int16 follow TFLM's QuantizedMeanOrSumExtraArgs (internal/reference/reduce.h): the
// multiplier QuantizeMultiplier(input_scale / output_scale) absorbs 1 / count — it is shifted left
// by pot = min(floor(log2(count)), 32, 31 + shift), divided by count, and the shift lowered by
// pot — then acc = sum(x) - input_zero_point * count is requantized with it, plus the output zero
// point, clamped. float32: the float sum in input order divided by the count in float.
#pragma once

#include <cstdint>
#include <type_traits>

#include "../../core/quantize_multiplier.hpp"
#include "reduce.hpp"

namespace tinynet {

template <class In, class Out, unsigned Axes = axes(1, 2)>
struct Mean : reduce_detail::Reduction<Mean<In, Out, Axes>, In, Out, Axes> {
  using base = reduce_detail::Reduction<Mean<In, Out, Axes>, In, Out, Axes>;
  using element = typename In::element;
  using layout = typename base::layout;
  static_assert(In::is_float || std::is_same_v<element, std::int8_t> || std::is_same_v<element, std::int16_t>,
                "tinynet: Mean supports float, int8 and int16");

  static constexpr bool is_quantized = !In::is_float;
  static constexpr int count = layout::count;
  static constexpr QuantizedMultiplier multiplier = [] {
    if constexpr (!is_quantized) {
      return QuantizedMultiplier{};
    } else {
      QuantizedMultiplier m = quantize_multiplier(static_cast<double>(In::scale) / static_cast<double>(Out::scale));
      int pot = 0;
      while ((std::int64_t{2} << pot) <= count) ++pot;  // floor(log2(count))
      pot = pot < 32 ? pot : 32;
      pot = pot < 31 + m.shift ? pot : 31 + m.shift;
      m.multiplier = static_cast<std::int32_t>((static_cast<std::int64_t>(m.multiplier) << pot) / count);
      m.shift -= pot;
      return m;
    }
  }();

  static constexpr void run(const element* in, element* out) {
    for (int o = 0; o < layout::outputs; ++o) {
      const auto total = reduce_detail::raw_sum<layout>(in + layout::kept_offset(o));
      if constexpr (is_quantized)
        out[o] = reduce_detail::requantize_sum<element>(total, In::zero_point, count, multiplier, Out::zero_point);
      else
        out[o] = total / static_cast<float>(count);
    }
  }
};

}  // namespace tinynet
