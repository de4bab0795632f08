// Per-channel output multipliers of the weighted ops, computed by the compiler.
//
// TFLite PopulateConvolutionQuantizationParams (kernels/kernel_util.cc): for each output channel,
// M = (double)input_scale * (double)weight_scale[c] / (double)output_scale, then
// QuantizeMultiplier(M). Per-tensor FullyConnected instead goes through
// GetQuantizedConvolutionMultipler, which multiplies the two float scales *in float* before
// widening: (double)(input_scale * weight_scale) / (double)output_scale.
#pragma once

#include <array>
#include <cstdint>

#include "quantize_multiplier.hpp"

namespace tinynet {

enum class ScaleProduct {
  in_double,  // PopulateConvolutionQuantizationParams (Conv2D, DepthwiseConv2D, per-channel FC)
  in_float,   // GetQuantizedConvolutionMultipler (per-tensor FullyConnected)
};

template <int Channels>
struct ChannelMultipliers {
  std::array<std::int32_t, Channels> multiplier{};
  std::array<std::int32_t, Channels> shift{};
};

// Scales holds 1 (per-tensor) or Channels (per-channel) weight scales; the result has
// Channels entries when per-channel and 1 entry otherwise.
template <int Channels, int ScaleCount, class ScalesArray>
constexpr ChannelMultipliers<Channels> channel_multipliers(float input_scale, const ScalesArray& weight_scales,
                                                           float output_scale, ScaleProduct product) {
  ChannelMultipliers<Channels> out{};
  for (int c = 0; c < Channels; ++c) {
    const float weight_scale = weight_scales[ScaleCount == 1 ? 0 : c];
    const double real =
        product == ScaleProduct::in_float
            ? static_cast<double>(input_scale * weight_scale) / static_cast<double>(output_scale)
            : static_cast<double>(input_scale) * static_cast<double>(weight_scale) /
                  static_cast<double>(output_scale);
    const QuantizedMultiplier q = quantize_multiplier(real);
    out.multiplier[static_cast<std::size_t>(c)] = q.multiplier;
    out.shift[static_cast<std::size_t>(c)] = q.shift;
  }
  return out;
}

}  // namespace tinynet
