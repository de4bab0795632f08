// Mean over the height and width of an NHWC tensor (TFLite MEAN with axis {1, 2}).
//
// int8 follows TFLM's reference_integer_ops::Mean: acc = sum(x - input_zero_point), scaled by
// QuantizeMultiplier(input_scale / output_scale), divided by the element count rounding half away
// from zero, plus the output zero point, clamped to the int8 range.
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
  static constexpr QuantizedMultiplier multiplier =
      is_quantized ? quantize_multiplier(static_cast<double>(In::scale) / static_cast<double>(Out::scale))
                   : QuantizedMultiplier{};

  static constexpr void run(const element* in, element* out) {
    constexpr int count = height * width;
    for (int b = 0; b < batches; ++b) {
      for (int c = 0; c < channels; ++c) {
        if constexpr (is_quantized) {
          std::int32_t acc = 0;
          for (int i = 0; i < count; ++i) acc += in[(b * count + i) * channels + c] - In::zero_point;
          acc = fixed::multiply_by_quantized_multiplier(acc, multiplier.multiplier, multiplier.shift);
          acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
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
