// Mean over the height and width of an NHWC tensor (TFLite MEAN with axis {1, 2}).
//
// int8/int16 follow TFLM's QuantizedMeanOrSumExtraArgs (internal/reference/reduce.h): the
// multiplier QuantizeMultiplier(input_scale / output_scale) absorbs 1 / count — it is shifted left
// by pot = min(floor(log2(count)), 32, 31 + shift), divided by count, and the shift lowered by
// pot — then acc = sum(x) - input_zero_point * count is requantized with it, plus the output zero
// point, clamped.
#pragma once

#include <cstdint>
#include <limits>

#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

template <class In, class Out>
struct Mean {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  using in_view = NHWC<typename In::shape>;

  static constexpr int batches = in_view::batches;
  static constexpr int height = in_view::height, width = in_view::width, channels = in_view::channels;
  static_assert(In::shape::rank == 4, "tinynet::Mean: the input must be 4-D NHWC (mean over H and W)");
  static_assert(output_shape_mismatch<Mean, Shape<batches, 1, 1, channels>, typename Out::shape,
                                      Out::size == batches * channels &&
                                          (Out::shape::rank == 2 || Out::shape::rank == 4)>::ok);
  static_assert(element_type_mismatch<Mean, element, typename Out::element>::ok);

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr bool is_quantized = !In::is_float;
  static constexpr int count = height * width;
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
    for (int b = 0; b < batches; ++b) {
      for (int c = 0; c < channels; ++c) {
        if constexpr (is_quantized) {
          std::int32_t sum = 0;
          for (int i = 0; i < count; ++i) sum += in[(b * count + i) * channels + c];
          std::int32_t acc = fixed::multiply_by_quantized_multiplier(sum - In::zero_point * count,
                                                                     multiplier.multiplier, multiplier.shift);
          acc += Out::zero_point;
          constexpr std::int32_t lo = std::numeric_limits<element>::min();
          constexpr std::int32_t hi = std::numeric_limits<element>::max();
          out[b * channels + c] = static_cast<element>(acc < lo ? lo : (acc > hi ? hi : acc));
        } else {
          float total = 0.0f;
          for (int i = 0; i < count; ++i) total += in[(b * count + i) * channels + c];
          out[b * channels + c] = total / static_cast<float>(count);
        }
      }
    }
  }
};

}  // namespace tinynet
