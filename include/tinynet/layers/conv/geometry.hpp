// Output sizes and padding of windowed ops (Conv2D, DepthwiseConv2D, pools).
//
// TFLite ComputeOutSize / ComputePaddingHeightWidth (kernels/padding.h): SAME gives
// ceil(in / stride) outputs and pads (out-1)*stride + effective_filter - in, the smaller half
// before; VALID pads nothing. TFLM's reference kernels use only the "before" half.
#pragma once

#include "../../core/options.hpp"

namespace tinynet::detail {

constexpr int effective_filter_size(int filter, int dilation) { return (filter - 1) * dilation + 1; }

constexpr int output_size(Padding padding, int in, int filter, int stride, int dilation) {
  const int effective = effective_filter_size(filter, dilation);
  return padding == Padding::same ? (in + stride - 1) / stride : (in + stride - effective) / stride;
}

constexpr int padding_before(Padding padding, int in, int filter, int stride, int dilation) {
  if (padding == Padding::valid) return 0;
  const int out = output_size(padding, in, filter, stride, dilation);
  const int total = (out - 1) * stride + effective_filter_size(filter, dilation) - in;
  return total > 0 ? total / 2 : 0;
}

// The first and one-past-last output index whose whole window lies inside the input.
struct InteriorRange {
  int begin;
  int end;
};
constexpr InteriorRange interior(int in, int out, int filter, int stride, int dilation, int pad) {
  int begin = 0;
  while (begin < out && begin * stride - pad < 0) ++begin;
  int end = out;
  while (end > begin && (end - 1) * stride - pad + effective_filter_size(filter, dilation) > in) --end;
  return {begin, end};
}

}  // namespace tinynet::detail
