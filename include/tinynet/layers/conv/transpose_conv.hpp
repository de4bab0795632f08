// TransposeConv (TFLite TRANSPOSE_CONV) over NHWC tensors with OHWI weights [out_c][kh][kw][in_c]:
// any strides, SAME/VALID padding, fused activation; int8 (per-channel, int32 bias), 16x8 (int16
// activations, int8 weights, int64 bias, 64-bit accumulator) and float32.
//
// TFLM (micro/kernels/transpose_conv.cc, reference_integer_ops::TransposeConv and
// reference_ops::TransposeConv) *scatters*: every input pixel adds input x weight into the output
// pixels out = in * stride - pad + k (pad: ComputePaddingHeightWidth on the output size; taps
// landing outside the output are dropped), into a zeroed scratch buffer the size of the output
// (int32 for int8, int64 for 16x8), then adds the bias, requantizes per channel (int8: plus the
// output zero point; 16x8: no zero points at all) and clamps.
//
// tinynet knows every shape at compile time, so it *gathers* instead: each output element sums the
// input pixels whose window reaches it (in = (out + pad - k) / stride where that divides), then
// finishes the element at once. There is no scratch buffer: TFLM's arena holds 4 (int8) or 8
// (16x8) bytes per output element on top of the output tensor for this op; here the output is
// written once, element by element, with one accumulator in a register. Integer sums do not depend
// on their order. Float sums do, so the float gather adds the contributions in the order TFLM's
// scatter adds them into each element (input row, then column, then input channel, ascending),
// from 0.0f, then the bias: the same float operations in the same order, the same bits.
#pragma once

#include <array>
#include <cstdint>

#include "../../core/activation_range.hpp"
#include "../../core/channel_plan.hpp"
#include "../../core/constant_array.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/options.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "geometry.hpp"

namespace tinynet {

struct TransposeConvOptions {
  int kernel_h = 1;
  int kernel_w = 1;
  int stride_h = 1;
  int stride_w = 1;
  Padding padding = Padding::valid;
  Activation activation = Activation::none;
};

namespace detail {
// The plan folds no weight sum into the bias (WeightLayout<0, ...>): which taps reach an output
// element depends on where it lies, so the input zero point is subtracted per tap instead; the
// plan's folded_bias is the bias itself, widened to the accumulator.
template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales, TransposeConvOptions Options>
using transpose_conv_plan =
    ChannelPlan<In, Out, Weights, Bias, WeightScales, Options.activation, NHWC<typename Out::shape>::channels, WeightLayout<0, 0, 0>>;

// The input index range [begin, end) whose window of `filter` taps reaches output index `out`.
struct TapRange {
  int begin;
  int end;
};
constexpr TapRange reaching_inputs(int out, int pad, int filter, int stride, int in) {
  // in * stride = out + pad - k for some 0 <= k < filter.
  const int low = out + pad - filter + 1;  // smallest in * stride
  const int high = out + pad;              // largest (>= 0: the padding is never negative)
  const int begin = low <= 0 ? 0 : (low + stride - 1) / stride;
  const int last = high / stride;
  return {begin, last + 1 < in ? last + 1 : in};
}

// Input/tap pairs along one axis that land inside the output: the multiply-adds per channel pair.
constexpr std::uint64_t landing_taps(int in, int out, int pad, int filter, int stride) {
  std::uint64_t count = 0;
  for (int o = 0; o < out; ++o) {
    const TapRange r = reaching_inputs(o, pad, filter, stride, in);
    if (r.end > r.begin) count += static_cast<std::uint64_t>(r.end - r.begin);
  }
  return count;
}
}  // namespace detail

template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales,
          TransposeConvOptions Options>
struct TransposeConv : detail::transpose_conv_plan<In, Out, Weights, Bias, WeightScales, Options> {
  using plan = detail::transpose_conv_plan<In, Out, Weights, Bias, WeightScales, Options>;
  using plan::folded_bias, plan::is_quantized;
  using typename plan::accumulator;
  using inputs = TypeList<In>;
  using input = In;
  using output = Out;
  using input_element = typename In::element;
  using output_element = typename Out::element;
  using in_view = NHWC<typename In::shape>;
  using out_view = NHWC<typename Out::shape>;

  static constexpr int batches = in_view::batches;
  static constexpr int in_h = in_view::height, in_w = in_view::width, in_c = in_view::channels;
  static constexpr int out_h = out_view::height, out_w = out_view::width, out_c = out_view::channels;
  static constexpr int k_h = Options.kernel_h, k_w = Options.kernel_w;
  static constexpr int s_h = Options.stride_h, s_w = Options.stride_w;
  // ComputePaddingHeightWidth with the output size as the "input" (TFLM's transpose_conv.cc).
  static constexpr int pad_h = detail::padding_before(Options.padding, out_h, k_h, s_h, 1);
  static constexpr int pad_w = detail::padding_before(Options.padding, out_w, k_w, s_w, 1);

  static_assert(Options.kernel_h > 0 && Options.kernel_w > 0 && Options.stride_h > 0 && Options.stride_w > 0,
                "tinynet::TransposeConv: kernel and stride must be positive");
  static_assert(In::shape::rank == 4 && Out::shape::rank == 4, "tinynet::TransposeConv: tensors must be 4-D NHWC");
  static_assert(size_mismatch<TransposeConv, out_c * k_h * k_w * in_c, array_size<Weights>>::ok);
  static_assert(size_mismatch<TransposeConv, batches, out_view::batches>::ok);
  static_assert(size_mismatch<TransposeConv, has_bias<Bias> ? out_c : 0, array_size<Bias>>::ok);
  static_assert(element_type_mismatch<TransposeConv, input_element, output_element>::ok);
  // TFLM's 16x8 kernel applies neither zero point.
  static_assert(!std::is_same_v<input_element, std::int16_t> || (In::zero_point == 0 && Out::zero_point == 0),
                "tinynet::TransposeConv: int16 input and output need zero point 0 (TFLM's 16x8 kernel ignores them)");

  static constexpr bool in_place = false;
  // The multiply-adds TFLM performs (its scatter drops the taps outside the output before multiplying).
  static constexpr std::uint64_t macs = std::uint64_t{batches} * detail::landing_taps(in_h, out_h, pad_h, k_h, s_h) *
                                        detail::landing_taps(in_w, out_w, pad_w, k_w, s_w) * in_c * out_c;

  static constexpr std::size_t weight_bytes = plan::weight_bytes_with(sizeof(Weights));
  static constexpr auto constant_tables() { return plan::constant_tables_with(ConstantTables<Weights>{}); }

  // Output pixel (oy, ox) of one image: every channel.
  static constexpr void pixel(const input_element* image, output_element* dst, int oy, int ox) {
    const detail::TapRange rows = detail::reaching_inputs(oy, pad_h, k_h, s_h, in_h);
    const detail::TapRange cols = detail::reaching_inputs(ox, pad_w, k_w, s_w, in_w);
    for (int c = 0; c < out_c; ++c) {
      if constexpr (is_quantized) {
        accumulator acc = folded_bias[static_cast<std::size_t>(c)];
        for (int iy = rows.begin; iy < rows.end; ++iy) {
          const int ky = oy + pad_h - iy * s_h;
          for (int ix = cols.begin; ix < cols.end; ++ix) {
            const int kx = ox + pad_w - ix * s_w;
            const input_element* px = image + (iy * in_w + ix) * in_c;
            const auto* w = &Weights[((c * k_h + ky) * k_w + kx) * in_c];
            for (int i = 0; i < in_c; ++i)
              acc += static_cast<accumulator>(static_cast<accumulator>(px[i]) - In::zero_point) * w[i];
          }
        }
        dst[c] = plan::requantize_exact(acc, c);
      } else {
        float total = 0.0f;
        for (int iy = rows.begin; iy < rows.end; ++iy) {
          const int ky = oy + pad_h - iy * s_h;
          for (int ix = cols.begin; ix < cols.end; ++ix) {
            const int kx = ox + pad_w - ix * s_w;
            const float* px = image + (iy * in_w + ix) * in_c;
            const float* w = &Weights[((c * k_h + ky) * k_w + kx) * in_c];
            for (int i = 0; i < in_c; ++i) total += px[i] * w[i];
          }
        }
        dst[c] = plan::finish_float(total, c);
      }
    }
  }

  static constexpr void run(const input_element* in, output_element* out) {
    for (int b = 0; b < batches; ++b) {
      const input_element* image = in + b * in_h * in_w * in_c;
      for (int oy = 0; oy < out_h; ++oy)
        for (int ox = 0; ox < out_w; ++ox) pixel(image, out + ((b * out_h + oy) * out_w + ox) * out_c, oy, ox);
    }
  }
};

}  // namespace tinynet
