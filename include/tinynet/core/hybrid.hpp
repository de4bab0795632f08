// Hybrid layers (float activations, int8 weights in flash, as TFLite's dynamic-range quantization
// writes them): the arithmetic Conv2D, DepthwiseConv2D and FullyConnected share, in one place.
//
// TFLite's hybrid kernels (conv.cc EvalHybrid / EvalHybridPerChannel, depthwise_conv.cc
// EvalHybridPerChannel, fully_connected.cc EvalHybrid) quantize each batch of the float input to
// int8 on the fly, multiply it with the int8 weights in int32 and scale the sum back to float:
//
//   symmetric  (tensor_utils::SymmetricQuantizeFloats):  range = max(|min x|, |max x|),
//       scale = range / 127, q = clamp(round(x * (127 / range)), -127, 127), offset 0
//       (range 0: scale 1, every q 0). All in float.
//   asymmetric (tensor_utils::AsymmetricQuantizeFloats): [rmin, rmax] = [min(min x, 0),
//       max(max x, 0)] in double, scale = (rmax - rmin) / 255, the zero point ("offset") from
//       the end with the smaller error, nudged into [-128, 127] and rounded;
//       q = clamp(round(offset + x * (1.0f / scale)), -128, 127) in float (rmin == rmax: scale 1,
//       offset 0, every q 0).
//   acc    = sum w * (q - offset)                                  (int32)
//   output = clamp(float(acc) * (scale * filter_scale[c]) + bias[c])  (float; fused activation)
//
// The scale product comes first, as in MatrixBatchVectorMultiplyAccumulate (conv's per-tensor
// path folds the filter scale into the batch's scale the same way); reference_ops::
// HybridConvPerChannel multiplies acc * filter_scale * scale instead, which may differ by one
// rounding of a float. round() is half away from zero (TfLiteRound).
//
// Which quantization an op uses is the op's (TFLite's) choice: Conv2D symmetric unless its
// per-channel scales differ, DepthwiseConv2D asymmetric, FullyConnected as its
// asymmetric_quantize_inputs option says.
#pragma once

#include <cstdint>

#include "activation_range.hpp"
#include "quantize_multiplier.hpp"
#include "quantize_value.hpp"

namespace tinynet {

enum class HybridInputs { symmetric, asymmetric };

// One batch's quantization: real x ~ scale * (q - offset); inverse is what x is multiplied by.
struct HybridScale {
  float scale = 1.0f;
  std::int32_t offset = 0;
  float inverse = 0.0f;  // 0: every q is 0 (an all-zero or constant-zero batch)
};

namespace hybrid {

// The quantization TFLite chooses for a batch of n float values.
template <HybridInputs Mode>
constexpr HybridScale input_scale(const float* x, int n) {
  float lo = n > 0 ? x[0] : 0.0f, hi = lo;
  for (int i = 1; i < n; ++i) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  HybridScale s{};
  if constexpr (Mode == HybridInputs::symmetric) {
    const float a = lo < 0.0f ? -lo : lo, b = hi < 0.0f ? -hi : hi;
    const float range = a > b ? a : b;
    if (range == 0.0f) return s;
    s.scale = range / 127;
    s.inverse = 127 / range;
  } else {
    const double rmin = lo < 0.0f ? static_cast<double>(lo) : 0.0;
    const double rmax = hi > 0.0f ? static_cast<double>(hi) : 0.0;
    if (rmin == rmax) return s;
    const double scale = (rmax - rmin) / (127.0 - -128.0);
    const double from_min = -128.0 - rmin / scale, from_max = 127.0 - rmax / scale;
    const double error_min = 128.0 + (rmin / scale < 0 ? -rmin / scale : rmin / scale);
    const double error_max = 127.0 + (rmax / scale < 0 ? -rmax / scale : rmax / scale);
    const double zero_point = error_min < error_max ? from_min : from_max;
    // (NaN, from an infinite input: offset 0 rather than an undefined conversion)
    s.offset = zero_point <= -128.0 ? -128
               : zero_point >= 127.0 ? 127
               : zero_point != zero_point ? 0
                                          : static_cast<std::int32_t>(detail::round_half_away(zero_point));
    s.scale = static_cast<float>(scale);
    s.inverse = 1.0f / s.scale;
  }
  return s;
}

// One value's int8 code (before the offset is subtracted).
template <HybridInputs Mode>
constexpr std::int32_t quantize(float x, HybridScale s) {
  if (s.inverse == 0.0f) return 0;
  constexpr std::int32_t lo = Mode == HybridInputs::symmetric ? -127 : -128;
  const float v = Mode == HybridInputs::symmetric ? x * s.inverse : static_cast<float>(s.offset) + x * s.inverse;
  const std::int32_t q = detail::round_float_half_away(v);
  return q < lo ? lo : (q > 127 ? 127 : q);
}

// q - offset, what the int8 weights multiply (within [-255, 255]: an int16 patch holds it).
template <HybridInputs Mode>
constexpr std::int16_t centered(float x, HybridScale s) {
  return static_cast<std::int16_t>(quantize<Mode>(x, s) - s.offset);
}

// A whole batch to int8 codes (TFLite's BatchQuantizeFloats for one batch); returns its scale.
template <HybridInputs Mode>
constexpr HybridScale quantize_floats(const float* x, int n, std::int8_t* q) {
  const HybridScale s = input_scale<Mode>(x, n);
  for (int i = 0; i < n; ++i) q[i] = static_cast<std::int8_t>(quantize<Mode>(x[i], s));
  return s;
}

// The int32 sum of one output back to float: bias plus the sum times both scales, clamped.
constexpr float output(std::int32_t acc, float batch_scale, float filter_scale, float bias, FloatRange range) {
  const float scale = batch_scale * filter_scale;
  return clamp_float(static_cast<float>(acc) * scale + bias, range);
}

}  // namespace hybrid
}  // namespace tinynet
