// Conv2D over NHWC tensors with OHWI weights: stride, dilation, SAME/VALID padding, groups.
//
// int8 follows TFLM's reference_integer_ops::ConvPerChannel: for each output pixel and channel,
// acc = bias[c] + sum over taps inside the image of w * (x - input_zero_point), requantized per
// channel, plus the output zero point, clamped. Here the zero-point term is folded into the bias
// by the compiler (bias - input_zero_point * sum(w)); taps in the padding then read the input
// zero point, which makes their contribution cancel exactly as TFLM's skipped taps do.
//
// Hybrid (float input and output, int8 weights): TFLite's conv.cc EvalHybrid (per-tensor or
// equal scales: symmetric input quantization) or EvalHybridPerChannel (asymmetric); each batch's
// input is quantized as the patch is gathered (core/hybrid.hpp); padded taps add nothing.
//
// int4 weights (core/int4.hpp): unpacked by the compiler (a std::array), the layer is the int8
// layer; as a PackedInt4 (int8, no groups, an even filter size) they stay packed in flash and the
// patch kernels unpack them in the inner loop (kernels/int4_dot.hpp), with the same bytes.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "../../core/activation_range.hpp"
#include "../../core/channel_plan.hpp"
#include "../../core/constant_array.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/output_stage.hpp"
#include "../../core/requantize.hpp"
#include "../../core/sparsity.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "../../kernels/dot.hpp"
#include "../../kernels/int4_dot.hpp"
#include "../../kernels/x86_simd/conv2d.hpp"
#include "../dense/sparse_rows.hpp"
#include "../../kernels/arm_dsp/conv_few_channels.hpp"
#include "conv2d_few_channels.hpp"
#include "geometry.hpp"
#include "in_place_rows.hpp"

namespace tinynet {

struct Conv2DOptions {
  int kernel_h = 1;
  int kernel_w = 1;
  int stride_h = 1;
  int stride_w = 1;
  int dilation_h = 1;
  int dilation_w = 1;
  Padding padding = Padding::valid;
  Activation activation = Activation::none;
  SparseForm sparse_form = SparseForm::automatic;  // int8 without groups only; see core/sparsity.hpp
};

namespace detail {
// N bytes of value V: one table for every layer of that zero point and depth (Conv2D::pad_tap).
template <std::int8_t V, int N>
inline constexpr auto filled_bytes = [] {
  std::array<std::int8_t, N> bytes{};
  for (auto& b : bytes) b = V;
  return bytes;
}();
// Conv2D's channel plan: channel c's weights are the c-th OHWI filter, k_h * k_w * filter_c long.
template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales, Conv2DOptions Options,
          int PerChannel = array_size<Weights> / NHWC<typename Out::shape>::channels>
using conv2d_plan = ChannelPlan<In, Out, Weights, Bias, WeightScales, Options.activation, NHWC<typename Out::shape>::channels,
                                WeightLayout<PerChannel, PerChannel, 1>>;
}  // namespace detail

template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales,
          Conv2DOptions Options>
struct Conv2D : detail::conv2d_plan<In, Out, Weights, Bias, WeightScales, Options> {
  using plan = detail::conv2d_plan<In, Out, Weights, Bias, WeightScales, Options>;
  using plan::folded_bias, plan::multipliers, plan::range, plan::short_stage, plan::short_stage_table, plan::is_quantized,
      plan::is_hybrid, plan::requantize;
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
  static constexpr int k_h = Options.kernel_h, k_w = Options.kernel_w;
  static constexpr int s_h = Options.stride_h, s_w = Options.stride_w;
  static constexpr int d_h = Options.dilation_h, d_w = Options.dilation_w;
  static constexpr int out_c = out_view::channels;
  static constexpr int filter_c = array_size<Weights> / (out_c * k_h * k_w);  // input channels per group
  static constexpr int groups = filter_c > 0 ? in_c / filter_c : 1;
  static constexpr int out_c_per_group = out_c / groups;
  static constexpr int out_h = detail::output_size(Options.padding, in_h, k_h, s_h, d_h);
  static constexpr int out_w = detail::output_size(Options.padding, in_w, k_w, s_w, d_w);
  static constexpr int pad_h = detail::padding_before(Options.padding, in_h, k_h, s_h, d_h);
  static constexpr int pad_w = detail::padding_before(Options.padding, in_w, k_w, s_w, d_w);

  static_assert(Options.kernel_h > 0 && Options.kernel_w > 0 && Options.stride_h > 0 && Options.stride_w > 0 &&
                    Options.dilation_h > 0 && Options.dilation_w > 0,
                "tinynet::Conv2D: kernel, stride and dilation must be positive");
  static_assert(In::shape::rank == 4 && Out::shape::rank == 4, "tinynet::Conv2D: tensors must be 4-D NHWC");
  static_assert(size_mismatch<Conv2D, out_c * k_h * k_w * filter_c, array_size<Weights>>::ok);
  static_assert(filter_c > 0 && in_c % filter_c == 0 && out_c % groups == 0,
                "tinynet::Conv2D: the input channels must be a multiple of the weights' input channels");
  static_assert(output_shape_mismatch<Conv2D, Shape<batches, out_h, out_w, out_c>, typename Out::shape>::ok);
  static_assert(size_mismatch<Conv2D, has_bias<Bias> ? out_c : 0, array_size<Bias>>::ok);
  static_assert(element_type_mismatch<Conv2D, input_element, output_element>::ok);
  static_assert(!is_hybrid || groups == 1, "tinynet::Conv2D: a hybrid (float input, int8 weights) Conv2D has no groups");
  // TFLite's choice: per-channel scales that differ quantize the input asymmetrically.
  static constexpr HybridInputs hybrid_inputs = plan::hybrid_scales_differ ? HybridInputs::asymmetric : HybridInputs::symmetric;

  static constexpr std::uint64_t macs = std::uint64_t{batches} * out_h * out_w * out_c * k_h * k_w * filter_c;

  // ---- sparsity ----------------------------------------------------------------------------
  // A pruned int8 layer without groups can run in a sparse form (core/sparsity.hpp): its weights
  // are out_c rows over the receptive field (k_h * k_w * filter_c, OHWI), the rows of
  // layers/dense/sparse_rows.hpp, run once per output pixel (run_sparse).
  static constexpr int nonzero_weights = sparsity::count_nonzeros(Weights, 0, array_size<Weights>);
  static constexpr SparseForm sparse_form =
      sparsity::choose(sparsity::LayerKind::conv, Options.sparse_form,
                       std::is_same_v<input_element, std::int8_t> && groups == 1, nonzero_weights,
                       static_cast<long long>(array_size<Weights>),
                       kernels::NmRows<Weights, out_c, k_h * k_w, filter_c>::nm_fit, sparsity::speed_build);
  static constexpr bool sparse = sparse_form != SparseForm::dense;
  // `unrolled` folds the output stage's doubling into its constant weights (plan::weight_scale).
  static constexpr int sparse_scale = sparse_form == SparseForm::unrolled ? plan::weight_scale : 1;
  using sparse_rows = kernels::SparseRows<Weights, out_c, k_h * k_w * filter_c, sparse ? sparse_form : SparseForm::unrolled,
                                          sparsity::RowMajor<k_h * k_w * filter_c>, filter_c, sparse_scale>;
  // Dense int8 rows on DSP cores: blocks of four channels whose weights the compiler widened to
  // int16 (kernels/dot.hpp, wide_rows; within TINYNET_WIDE_WEIGHT_BYTES), for the 4x2 kernel.
  static constexpr bool packed_int4 = is_packed_int4<std::remove_cvref_t<decltype(Weights)>>;  // core/int4.hpp
  // Few input channels (at most 4, no dilation; DSP cores without MVE): the patch and weights in
  // the order of layers/conv/conv2d_few_channels.hpp, the kernel kernels/arm_dsp/conv_few_channels.hpp.
  using few_layout = detail::FewChannelsLayout<k_h, k_w, filter_c>;
  static constexpr bool few_channels = std::is_same_v<input_element, std::int8_t> && groups == 1 && !sparse && !packed_int4 &&
                                       filter_c <= 4 && d_h == 1 && d_w == 1 &&
                                       kernels::wide_blocks<few_layout::count, out_c> > 0;
  // (empty tables where the path is not taken: nothing is rearranged at compile time for them)
  static constexpr int few_out_c = few_channels ? out_c : 0;
  static constexpr const auto& few_rows = detail::few_channels_rows<Weights, few_layout, few_out_c>;
  static constexpr const auto& few_wide =
      kernels::wide_rows<detail::few_channels_rows<Weights, few_layout, few_out_c>, few_layout::count, few_out_c / 4>;
  static constexpr const auto& few_tail =
      kernels::tail_rows<detail::few_channels_rows<Weights, few_layout, few_out_c>, few_layout::count, few_out_c>;
  static constexpr const auto& few_columns =
      kernels::tail_columns<detail::few_channels_rows<Weights, few_layout, few_out_c>, few_layout::count, few_out_c / 4>;
  static constexpr int wide_blocks =
      std::is_same_v<input_element, std::int8_t> && groups == 1 && !sparse && !packed_int4 && !few_channels
          ? kernels::wide_blocks<k_h * k_w * filter_c, out_c>
          : 0;
  static constexpr const std::uint32_t* wide_block(int c) {
    if constexpr (wide_blocks > 0) return &kernels::wide_rows<Weights, k_h * k_w * filter_c, wide_blocks>[static_cast<std::size_t>(c / 4 * (k_h * k_w * filter_c / 4) * 8)];
    else return nullptr;
  }
  // The last out_c % 4 rows and the other rows' last patch_size % 4 weights of a widened layer
  // (kernels::tail_rows, tail_columns): with the widened blocks, all it keeps in flash.
  static constexpr const auto& wide_tail = kernels::tail_rows<Weights, k_h * k_w * filter_c, (wide_blocks > 0 ? out_c : 0)>;
  static constexpr const auto& wide_columns = kernels::tail_columns<Weights, k_h * k_w * filter_c, wide_blocks>;
  static constexpr const std::int8_t* wide_column(int c) {
    if constexpr (wide_columns.size() > 0) return &wide_columns[static_cast<std::size_t>(c * (k_h * k_w * filter_c % 4))];
    else return nullptr;
  }

  static constexpr std::size_t stored_weight_bytes = [] {
    if constexpr (sparse) return sparse_rows::stored_weight_bytes;
    else if constexpr (few_channels) return sizeof(few_wide) + few_tail.size() + few_columns.size();  // (int8: a byte each)
    else if constexpr (wide_blocks > 0)
      return sizeof(kernels::wide_rows<Weights, k_h * k_w * filter_c, wide_blocks>) + wide_tail.size() + wide_columns.size();
    else return sizeof(Weights);
  }();

  static constexpr std::size_t weight_bytes = plan::weight_bytes_with(stored_weight_bytes);
  static constexpr const auto& weights = Weights;
  static constexpr auto constant_tables() {
    if constexpr (sparse) return plan::constant_tables_with(ConstantTables<>{}, sparse_rows::constant_tables());
    else if constexpr (few_channels)
      return plan::constant_tables_with(ConstantTables<few_wide, few_tail, few_columns>{});
    else if constexpr (wide_blocks > 0)
      return plan::constant_tables_with(
          ConstantTables<kernels::wide_rows<Weights, k_h * k_w * filter_c, wide_blocks>, wide_tail, wide_columns>{});
    else return plan::constant_tables_with(ConstantTables<Weights>{});
  }

  static constexpr detail::InteriorRange interior_y = detail::interior(in_h, out_h, k_h, s_h, d_h, pad_h);
  static constexpr detail::InteriorRange interior_x = detail::interior(in_w, out_w, k_w, s_w, d_w, pad_w);

  // int8 without groups: gather the pixel's receptive field once into an int16 patch (taps in
  // the padding read the input zero point), then run the dot product against two output
  // channels' weight rows at a time (kernels/dot.hpp), sharing each patch load.
  static constexpr int patch_size = k_h * k_w * filter_c;
  static constexpr bool use_patch = std::is_same_v<input_element, std::int8_t> && groups == 1;

  // How a patch holds an input value: int8 as it is, taps in the padding at the input zero point.
  struct Widen {
    static constexpr std::int16_t pad = static_cast<std::int16_t>(In::zero_point);
    constexpr std::int16_t operator()(input_element x) const { return static_cast<std::int16_t>(x); }
  };
  // Hybrid: q - offset of the batch's quantization, taps in the padding at 0 (they add nothing).
  struct Centered {
    HybridScale q;
    static constexpr std::int16_t pad = 0;
    constexpr std::int16_t operator()(float x) const { return hybrid::centered<hybrid_inputs>(x, q); }
  };
  // Packed int4 weights (packed_int4): the patch kernels read them packed (kernels/int4_dot.hpp).
  static_assert(!packed_int4 || (use_patch && patch_size % 2 == 0),
                "tinynet::Conv2D: packed int4 weights need int8 tensors, no groups and an even filter size "
                "(kernel_h * kernel_w * input channels); pass them unpacked (tinynet::unpack_int4)");
  static constexpr int patch_index(int j) {
    if constexpr (packed_int4) return kernels::int4_patch_position<patch_size>(j);
    else return kernels::patch_position<patch_size>(j);
  }
  // acc[r] += dot(patch, weights of channel c + r), r < Rows; offset: the patch's
  // kernels::int4_patch_offset (packed int4 weights only).
  template <int Rows>
  static constexpr void dot(const std::int16_t* patch, int c, [[maybe_unused]] std::int32_t offset, std::int32_t* acc) {
    if constexpr (packed_int4) kernels::dot_rows_int4<patch_size, Rows, patch_size, Weights>(patch, c * patch_size, offset, acc);
    else kernels::dot_rows<patch_size, Rows>(patch, &Weights[c * patch_size], acc);
  }
  static constexpr void dot_2x2(const std::int16_t* patch0, const std::int16_t* patch1, int c, [[maybe_unused]] const std::int32_t* offsets,
                                std::int32_t* acc) {
    if constexpr (packed_int4) kernels::dot_2x2_int4<patch_size, patch_size, Weights>(patch0, c * patch_size, offsets, acc);  // patch1 follows patch0
    else kernels::dot_2x2<patch_size>(patch0, patch1, &Weights[c * patch_size], acc);
  }
  static constexpr std::int32_t offset_of([[maybe_unused]] const std::int16_t* patch) {
    if constexpr (packed_int4) return kernels::int4_patch_offset<patch_size>(patch);
    else return 0;
  }
  // A pointwise convolution (1x1, stride 1, no padding) may write its output over its input: every
  // kernel below (and the host's, kernels/x86_simd/conv2d.hpp) reads the input pixels of a block
  // (p, p and p + 1, or with packed int4 weights up to p + 2) before it writes their output pixels, and reads no later pixel before that.
  // So output pixel q may be written once it ends before input pixel q + 1 begins. With no more
  // output than input channels that holds with both at the same start; with more, the output
  // must start in_place_below bytes below the input: (pixels - 1) x (out_c - in_c) bytes, rounded
  // up to the arena's 16 (vww's 48x48x8 -> 48x48x16: 18,432 bytes, output and input together
  // 36,864 instead of 55,296). The arena planner then overlaps them when the input dies here.
  static constexpr bool pointwise_in_place = use_patch && k_h == 1 && k_w == 1 && s_h == 1 && s_w == 1 && pad_h == 0 &&
                                             pad_w == 0 && out_h == in_h && out_w == in_w &&
                                             sizeof(output_element) == sizeof(input_element);
  // Any other int8 layer (resnet's 3x3 convolutions) may run over its input row by row through a
  // ring of output rows on the stack, as DepthwiseConv2D does (layers/conv/in_place_rows.hpp): one
  // batch, output no larger than the input, a ring of at most 2 KiB and a quarter of the output.
  // The ring copy costs instructions, so the arena planner (graph/network.hpp) keeps such a layer
  // over its input only where that makes the arena smaller (in_place_tried), and then calls
  // run_in_place instead of run.
  using in_place_rows = detail::InPlaceRows<in_h, in_w * in_c, out_h, out_w * out_c, s_h, pad_h>;
  static constexpr std::size_t ring_bytes = in_place_rows::ring_elements * sizeof(output_element);
  // (Not the nm form: its passes of K pixels are not written for a row at a time.)
  static constexpr bool rows_in_place = use_patch && !pointwise_in_place && sparse_form != SparseForm::nm && batches == 1 && Out::bytes <= In::bytes &&
                                        ring_bytes <= 2048 && ring_bytes * 4 <= Out::bytes;
  static constexpr bool in_place = pointwise_in_place || rows_in_place;
  static constexpr bool in_place_tried = rows_in_place;
  static constexpr long in_place_below = [] {
    const long pixels = static_cast<long>(batches) * out_h * out_w;
    // (Only a pointwise layer overlaps its input from below; a strided one that widens, like
    // resnet's 1x1 stride-2 shortcuts, has no more output than input and goes over it through
    // the ring, rows_in_place, as analysis.py's _in_place_below already assumed.)
    const long extra = pointwise_in_place && out_c > in_c ? (pixels - 1) * (out_c - in_c) * static_cast<long>(sizeof(output_element)) : 0L;
    return (extra + 15) / 16 * 16;
  }();

  // The receptive field of the output pixel whose window starts at (in_y0, in_x0), widened to
  // int16 by value (Widen or Centered) in the dot products' order.
  // On DSP cores the interior pixels of an int8 layer skip the per-value loop: each row of the
  // receptive field (k_w taps of in_c channels, contiguous in the image when dilation_w is 1) is
  // widened four values at a time by SXTB16 (kernels::widen_patch), straight into the patch when a
  // row is a multiple of four values, else after a copy of the rows into one int8 buffer.
  static constexpr int row_values = k_w * filter_c;
  static constexpr bool widen_rows_at_once = std::is_same_v<input_element, std::int8_t> && groups == 1 && !packed_int4 &&
                                             (k_w == 1 || d_w == 1) && patch_size >= 4;
  // Where input pixel (y, x) is: in the image (a pointer), or in a ring of rows that holds row y
  // (an Image with row(y): layers/conv/residual_rows.hpp streams a layer's input through one).
  template <class Image>
  static constexpr const input_element* pixel_at(Image image, int y, int x) {
    if constexpr (std::is_pointer_v<Image>) return image + (y * in_w + x) * in_c;
    else return image.row(y) + x * in_c;
  }

  template <class Image>
  static constexpr void gather_rows(Image image, std::int16_t* patch, int in_y0, int in_x0) {
    if constexpr (row_values % 4 == 0) {
      for (int ky = 0; ky < k_h; ++ky)
        kernels::widen_patch<row_values>(pixel_at(image, in_y0 + ky * d_h, in_x0), patch + ky * row_values);
    } else {
      alignas(4) std::int8_t values[patch_size];
      for (int ky = 0; ky < k_h; ++ky) {
        const input_element* row = pixel_at(image, in_y0 + ky * d_h, in_x0);
        for (int i = 0; i < row_values; ++i) values[ky * row_values + i] = row[i];
      }
      kernels::widen_patch<patch_size>(values, patch);
    }
  }

  // A border pixel when every tap is whole groups of four (filter_c % 4 == 0: resnet's 16/32/64
  // channels): each tap is widened four values at a time like an interior row (SXTB16 order stays
  // within a tap), a tap in the padding from pad_tap (filter_c bytes of the input zero point),
  // instead of one permuted store per value. Loops not unrolled: border pixels are few.
  static constexpr bool widen_taps_at_border = widen_rows_at_once && filter_c % 4 == 0;
  static constexpr const auto& pad_tap =
      detail::filled_bytes<widen_taps_at_border ? static_cast<std::int8_t>(In::zero_point) : std::int8_t{0},
                           widen_taps_at_border ? filter_c : 1>;
  template <class Image>
  static void gather_taps(Image image, std::int16_t* patch, int in_y0, int in_x0) {
    TINYNET_NO_UNROLL
    for (int ky = 0; ky < k_h; ++ky) {
      const int y = in_y0 + ky * d_h;
      TINYNET_NO_UNROLL
      for (int kx = 0; kx < k_w; ++kx) {
        const int x = in_x0 + kx * d_w;
        const std::int8_t* src = y >= 0 && y < in_h && x >= 0 && x < in_w ? pixel_at(image, y, x) : pad_tap.data();
        kernels::widen_patch<filter_c>(src, patch);
        patch += filter_c;
      }
    }
  }

  // Packed int4 weights on DSP cores: the patch in int4_patch_position's order, eight values at a
  // time (kernels::widen_int4_patch), straight from the image when each row of the receptive field
  // is whole groups of eight (kws's pointwise layers), else from a copy of the window in int8 (taps
  // in the padding at the input zero point) -- instead of one permuted store per value.
  static constexpr bool int4_rows_at_once = packed_int4 && (k_w == 1 || d_w == 1) && patch_size >= 8;
  template <bool Interior, class Image>
  static void gather_int4(Image image, std::int16_t* patch, int in_y0, int in_x0) {
    if constexpr (Interior && row_values % 8 == 0) {
      for (int ky = 0; ky < k_h; ++ky)
        kernels::widen_int4_patch<row_values>(pixel_at(image, in_y0 + ky * d_h, in_x0), patch + ky * row_values);
    } else {
      alignas(4) std::int8_t values[patch_size];
      for (int ky = 0; ky < k_h; ++ky) {
        const int y = in_y0 + ky * d_h;
        std::int8_t* dst = values + ky * row_values;
        if (Interior) {
          std::memcpy(dst, pixel_at(image, y, in_x0), row_values);
          continue;
        }
        for (int kx = 0; kx < k_w; ++kx, dst += filter_c) {
          const int x = in_x0 + kx;
          if (y >= 0 && y < in_h && x >= 0 && x < in_w) std::memcpy(dst, pixel_at(image, y, x), filter_c);
          else std::memset(dst, static_cast<std::int8_t>(In::zero_point), filter_c);
        }
      }
      kernels::widen_int4_patch<patch_size>(values, patch);
    }
  }

  template <bool Interior, class Value = Widen, class Image>
  static constexpr void gather(Image image, std::int16_t* patch, int in_y0, int in_x0, Value value = {}) {
    if constexpr (Interior && widen_rows_at_once && std::is_same_v<Value, Widen>) {
      if (kernels::sxtb16_layout()) return gather_rows(image, patch, in_y0, in_x0);
    }
    if constexpr (int4_rows_at_once && std::is_same_v<Value, Widen>) {
      if (kernels::int4_simd()) return gather_int4<Interior>(image, patch, in_y0, in_x0);
    }
    if constexpr (!Interior && widen_taps_at_border && std::is_same_v<Value, Widen>) {
      if (kernels::sxtb16_layout()) return gather_taps(image, patch, in_y0, in_x0);
    }
    int j = 0;
    for (int ky = 0; ky < k_h; ++ky) {
      const int y = in_y0 + ky * d_h;
      for (int kx = 0; kx < k_w; ++kx) {
        const int x = in_x0 + kx * d_w;
        if (Interior || (y >= 0 && y < in_h && x >= 0 && x < in_w)) {
          const input_element* px = pixel_at(image, y, x);
          for (int i = 0; i < filter_c; ++i, ++j) patch[patch_index(j)] = value(px[i]);
        } else {
          for (int i = 0; i < filter_c; ++i, ++j) patch[patch_index(j)] = Value::pad;
        }
      }
    }
  }

  // On DSP cores (SXTB16 patches), a layer with a window (not 1x1) gathers out of line: inlined
  // twice into run_wide or run_patches, resnet's layers took 3.4 KB more flash for no fewer
  // instructions. A 1x1 layer's gather is a few stores, best inlined. Not on Helium cores: there
  // arm-none-eabi-g++ 12 laid the out-of-line gather of resnet's layer 5 out with a CBNZ beyond
  // its 126-byte reach ("branch out of range" from the assembler).
  static constexpr bool gather_out_of_line = k_h * k_w > 1 && TINYNET_ARM_DSP != 0 && TINYNET_ARM_MVE == 0;
  template <class Value = Widen, class Image>
  static constexpr void gather_pixel(Image image, std::int16_t* patch, int p, Value value = {}) {
    if constexpr (gather_out_of_line) gather_pixel_out_of_line(image, patch, p, value);
    else gather_pixel_inline(image, patch, p, value);
  }
  template <class Value, class Image>
  TINYNET_NOINLINE static constexpr void gather_pixel_out_of_line(Image image, std::int16_t* patch, int p, Value value) {
    gather_pixel_inline(image, patch, p, value);
  }
  template <class Value, class Image>
  static constexpr void gather_pixel_inline(Image image, std::int16_t* patch, int p, Value value) {
    const int oy = p / out_w, ox = p % out_w;
    const int y0 = oy * s_h - pad_h, x0 = ox * s_w - pad_w;
    const bool inside = oy >= interior_y.begin && oy < interior_y.end && ox >= interior_x.begin && ox < interior_x.end;
    inside ? gather<true>(image, patch, y0, x0, value) : gather<false>(image, patch, y0, x0, value);
  }

  // Hybrid: per batch, the input's scale (one pass), then per output pixel the quantized patch and
  // the int8 dot products of two channels at a time, scaled back to float (core/hybrid.hpp).
  static constexpr void run_hybrid(const float* image, float* out) {
    const HybridScale q = hybrid::input_scale<hybrid_inputs>(image, in_h * in_w * in_c);
    alignas(4) std::int16_t patch[patch_size]{};
    for (int p = 0; p < out_h * out_w; ++p) {
      gather_pixel(image, patch, p, Centered{q});
      float* dst = out + p * out_c;
      int c = 0;
      for (; c + 2 <= out_c; c += 2) {
        std::int32_t acc[2] = {0, 0};
        kernels::dot_rows<patch_size, 2>(patch, &Weights[c * patch_size], acc);
        dst[c] = plan::finish_hybrid(acc[0], c, q.scale);
        dst[c + 1] = plan::finish_hybrid(acc[1], c + 1, q.scale);
      }
      if (c < out_c) {
        std::int32_t acc[1] = {0};
        kernels::dot_rows<patch_size, 1>(patch, &Weights[c * patch_size], acc);
        dst[c] = plan::finish_hybrid(acc[0], c, q.scale);
      }
    }
  }

  // Packed int4 weights where dot_2x3_int4 has its kernel: three output pixels at a time (each
  // split weight pair serves three pixels), the last one or two as below.
  static constexpr bool int4_triples = packed_int4 && kernels::int4_2x3_kernel<patch_size>;
  // Packed int4 layers with the short stage, on DSP cores in optimised builds: each block of pixels
  // sweeps the channels in kernels::arm_dsp::int4_channel_sweep, one function for every layer of
  // the same shapes and output stage (their tables are its arguments).
#if TINYNET_ARM_DSP && defined(__OPTIMIZE__)
  static constexpr bool int4_shared_sweep = packed_int4 && short_stage && out_c % 2 == 0;
  template <int Pixels>
  static void int4_sweep(const std::int16_t* patches, const std::int32_t* offsets, output_element* dst) {
    kernels::arm_dsp::int4_channel_sweep<Pixels, patch_size, out_c, typename plan::folded_bias_element, plan::multiplier_count,
                                         plan::short_stage_output_offset, range>(patches, offsets, Weights.packed.data(),
                                                                                 folded_bias.data(), short_stage_table, dst);
  }
#else
  static constexpr bool int4_shared_sweep = false;
  template <int Pixels>
  static void int4_sweep(const std::int16_t*, const std::int32_t*, output_element*) {}
#endif
  // Two output pixels at a time: every weight word serves both pixels, every patch word both
  // channels of a pass (kernels/dot.hpp, dot_2x2); an odd last pixel goes alone. The pixels
  // first .. first + Pixels - 1 of the image (all of them, or one row when in place), their
  // outputs from `out` on.
  template <int Pixels, class First, class Image>
  static constexpr void run_patches(Image image, output_element* out, First first) {
    constexpr int pixels = Pixels;
    alignas(4) std::int16_t patches[(int4_triples ? 3 : 2) * patch_size]{};  // (initialised: GCC cannot follow the permuted writes)
    std::int16_t* const patch0 = patches;
    std::int16_t* const patch1 = patches + patch_size;  // right after patch0 (the packed int4 kernels rely on it)
#if TINYNET_ARM_DSP && !TINYNET_ARM_MVE
    if constexpr (few_channels) {
      if (!std::is_constant_evaluated()) return kernels::arm_dsp::ConvFewChannels<Conv2D>::template run<Pixels>(image, out, first);
    }
#endif
    if constexpr (wide_blocks > 0) {
      if (!std::is_constant_evaluated()) return run_wide<Pixels>(image, out, first, patch0);
    }
    int p = 0;
    if constexpr (int4_triples) {
      if (!std::is_constant_evaluated()) {
        std::int16_t* const patch2 = patch1 + patch_size;
        for (; p + 3 <= pixels; p += 3) {
          gather_pixel(image, patch0, first + p);
          gather_pixel(image, patch1, first + p + 1);
          gather_pixel(image, patch2, first + p + 2);
          const std::int32_t offsets[3] = {offset_of(patch0), offset_of(patch1), offset_of(patch2)};
          output_element* dst0 = out + p * out_c;
          if constexpr (int4_shared_sweep) {
            int4_sweep<3>(patches, offsets, dst0);
            continue;
          }
          for (int c = 0; c + 2 <= out_c; c += 2) {
            const std::int32_t b0 = folded_bias[static_cast<std::size_t>(c)], b1 = folded_bias[static_cast<std::size_t>(c + 1)];
            std::int32_t acc[6] = {b0, b1, b0, b1, b0, b1};
            kernels::dot_2x3_int4<patch_size, patch_size, Weights>(patches, c * patch_size, offsets, acc);
            dst0[c] = requantize(acc[0], c);
            dst0[c + 1] = requantize(acc[1], c + 1);
            dst0[out_c + c] = requantize(acc[2], c);
            dst0[out_c + c + 1] = requantize(acc[3], c + 1);
            dst0[2 * out_c + c] = requantize(acc[4], c);
            dst0[2 * out_c + c + 1] = requantize(acc[5], c + 1);
          }
          if constexpr (out_c % 2 != 0) {
            constexpr int c = out_c - 1;
            for (int k = 0; k < 3; ++k) {
              std::int32_t acc[1] = {folded_bias[static_cast<std::size_t>(c)]};
              dot<1>(patches + k * patch_size, c, offsets[k], acc);
              dst0[k * out_c + c] = requantize(acc[0], c);
            }
          }
        }
      }
    }
    for (; p + 2 <= pixels; p += 2) {
      gather_pixel(image, patch0, first + p);
      gather_pixel(image, patch1, first + p + 1);
      const std::int32_t offsets[2] = {offset_of(patch0), offset_of(patch1)};
      output_element* dst0 = out + p * out_c;
      output_element* dst1 = dst0 + out_c;
      if constexpr (int4_shared_sweep) {
        if (!std::is_constant_evaluated()) {
          int4_sweep<2>(patches, offsets, dst0);
          continue;
        }
      }
      for (int c = 0; c + 2 <= out_c; c += 2) {
        const std::int32_t b0 = folded_bias[static_cast<std::size_t>(c)], b1 = folded_bias[static_cast<std::size_t>(c + 1)];
        std::int32_t acc[4] = {b0, b1, b0, b1};
        dot_2x2(patch0, patch1, c, offsets, acc);
        dst0[c] = requantize(acc[0], c);
        dst0[c + 1] = requantize(acc[1], c + 1);
        dst1[c] = requantize(acc[2], c);
        dst1[c + 1] = requantize(acc[3], c + 1);
      }
      if constexpr (out_c % 2 != 0) {
        constexpr int c = out_c - 1;
        std::int32_t acc0[1] = {folded_bias[static_cast<std::size_t>(c)]}, acc1[1] = {folded_bias[static_cast<std::size_t>(c)]};
        dot<1>(patch0, c, offsets[0], acc0);
        dot<1>(patch1, c, offsets[1], acc1);
        dst0[c] = requantize(acc0[0], c);
        dst1[c] = requantize(acc1[0], c);
      }
    }
    if (p < pixels) {
      gather_pixel(image, patch0, first + p);
      const std::int32_t offset = offset_of(patch0);
      output_element* dst = out + p * out_c;
      if constexpr (int4_shared_sweep) {
        if (!std::is_constant_evaluated()) return int4_sweep<1>(patches, &offset, dst);
      }
      for (int c = 0; c + 2 <= out_c; c += 2) {
        std::int32_t acc[2] = {folded_bias[static_cast<std::size_t>(c)], folded_bias[static_cast<std::size_t>(c + 1)]};
        dot<2>(patch0, c, offset, acc);
        dst[c] = requantize(acc[0], c);
        dst[c + 1] = requantize(acc[1], c + 1);
      }
      if constexpr (out_c % 2 != 0) {
        std::int32_t acc[1] = {folded_bias[static_cast<std::size_t>(out_c - 1)]};
        dot<1>(patch0, out_c - 1, offset, acc);
        dst[out_c - 1] = requantize(acc[0], out_c - 1);
      }
    }
  }

  // DSP cores, widened rows: four channels x two pixels per pass (kernels::dot_4x2_wide); the last
  // out_c % 4 channels two and one at a time, from their own int8 rows (wide_tail). An odd last
  // pixel runs paired with the previous patch, its second results dropped, so that no other
  // kernel reads the int8 rows of the widened blocks.
  // (noinline: without it GCC 12 compiled this template differently from the plain member
  // function it was before, vww 1.7 % more instructions; with it, as before within 0.2 %.)
  template <int Pixels, class First, class Image>
  [[gnu::noinline]] static void run_wide(Image image, output_element* out, First first, std::int16_t* patch0) {
    constexpr int pixels = Pixels;
    std::int16_t* const patch1 = patch0 + patch_size;  // (four arguments: all in registers)
    constexpr int wide_c = wide_blocks * 4;
    // An odd last pixel's second results go here: every pass then requantizes both pixels of a
    // channel together (its multiplier, rounding and shift loaded once), without a test.
    [[maybe_unused]] output_element dropped[pixels % 2 != 0 ? out_c : 1];
    for (int p = 0; p < pixels; p += 2) {
      const bool both = p + 1 < pixels;
      gather_pixel(image, patch0, first + p);
      if (both) gather_pixel(image, patch1, first + p + 1);  // (else patch1 holds the previous pixel: dropped)
      output_element* dst0 = out + p * out_c;
      output_element* dst1 = both ? dst0 + out_c : dropped;
      for (int c = 0; c < wide_c; c += 4) {
        std::int32_t acc[8];
        for (int k = 0; k < 4; ++k) acc[k] = acc[4 + k] = folded_bias[static_cast<std::size_t>(c + k)];
        kernels::dot_4x2_wide<patch_size>(patch0, wide_block(c), wide_column(c), &Weights[c * patch_size], acc);
        for (int k = 0; k < 4; ++k) {
          dst0[c + k] = requantize(acc[k], c + k);
          dst1[c + k] = requantize(acc[4 + k], c + k);
        }
      }
      if constexpr (wide_c + 2 <= out_c) {
        constexpr int c = wide_c;
        std::int32_t acc[4] = {folded_bias[c], folded_bias[c + 1], folded_bias[c], folded_bias[c + 1]};
        kernels::dot_2x2<patch_size>(patch0, patch1, wide_tail.data(), acc);
        dst0[c] = requantize(acc[0], c);
        dst0[c + 1] = requantize(acc[1], c + 1);
        dst1[c] = requantize(acc[2], c);
        dst1[c + 1] = requantize(acc[3], c + 1);
      }
      if constexpr (out_c % 2 != 0) {
        constexpr int c = out_c - 1;
        std::int32_t acc[2] = {folded_bias[c], folded_bias[c]};
        kernels::dot_rows<patch_size, 1>(patch0, &wide_tail[static_cast<std::size_t>((c - wide_c) * patch_size)], acc);
        kernels::dot_rows<patch_size, 1>(patch1, &wide_tail[static_cast<std::size_t>((c - wide_c) * patch_size)], acc + 1);
        dst0[c] = requantize(acc[0], c);
        dst1[c] = requantize(acc[1], c);
      }
    }
  }

  // One output pixel, all channels. Interior pixels never leave the image, so they skip the
  // bounds test; border taps outside the image read the input zero point (see header comment).
  template <bool Interior>
  static constexpr void pixel(const input_element* image, output_element* out, int in_y0, int in_x0) {
    for (int c = 0; c < out_c; ++c) {
      const int channel_base = (c / out_c_per_group) * filter_c;
      const auto* w = &Weights[c * k_h * k_w * filter_c];
      if constexpr (is_quantized) {
        accumulator acc = folded_bias[static_cast<std::size_t>(c)];
        for (int ky = 0; ky < k_h; ++ky) {
          const int y = in_y0 + ky * d_h;
          for (int kx = 0; kx < k_w; ++kx, w += filter_c) {
            const int x = in_x0 + kx * d_w;
            if (Interior || (y >= 0 && y < in_h && x >= 0 && x < in_w)) {
              const input_element* px = image + (y * in_w + x) * in_c + channel_base;
              for (int i = 0; i < filter_c; ++i) acc += static_cast<accumulator>(w[i]) * px[i];
            } else {
              for (int i = 0; i < filter_c; ++i) acc += static_cast<accumulator>(w[i]) * In::zero_point;
            }
          }
        }
        out[c] = plan::requantize_exact(acc, c);
      } else {
        float total = 0.0f;
        for (int ky = 0; ky < k_h; ++ky) {
          const int y = in_y0 + ky * d_h;
          for (int kx = 0; kx < k_w; ++kx, w += filter_c) {
            const int x = in_x0 + kx * d_w;
            if (Interior || (y >= 0 && y < in_h && x >= 0 && x < in_w)) {
              const float* px = image + (y * in_w + x) * in_c + channel_base;
              for (int i = 0; i < filter_c; ++i) total += px[i] * w[i];
            }
          }
        }
        out[c] = plan::finish_float(total, c);
      }
    }
  }

  // The sparse forms. A 1x1 convolution reads the input pixel in place (its channels are the
  // row's columns); a larger kernel first copies its receptive field into an int8 patch (taps in
  // the padding read the input zero point, as in gather).
  static constexpr bool pointwise = k_h == 1 && k_w == 1;
  static_assert(!pointwise || (pad_h == 0 && pad_w == 0));
  template <class Image>
  static constexpr const std::int8_t* sparse_input(Image image, std::int8_t* patch, int p) {
    const int oy = p / out_w, ox = p % out_w;
    if constexpr (pointwise) {
      if constexpr (std::is_pointer_v<Image>) return image + (oy * s_h * in_w + ox * s_w) * in_c;
      else return pixel_at(image, oy * s_h, ox * s_w);
    } else {
      const int y0 = oy * s_h - pad_h, x0 = ox * s_w - pad_w;
      if constexpr (std::is_pointer_v<Image> && d_w == 1 && filter_c == in_c) {
        if (!std::is_constant_evaluated() && x0 >= 0 && x0 + k_w <= in_w) {
          // Every kernel column inside the image: a kernel row is one run of k_w * in_c bytes.
          constexpr int run = k_w * in_c;
          for (int ky = 0; ky < k_h; ++ky) {
            const int y = y0 + ky * d_h;
            std::int8_t* to = patch + ky * run;
            if (y >= 0 && y < in_h) __builtin_memcpy(to, image + (y * in_w + x0) * in_c, run);
            else __builtin_memset(to, static_cast<std::int8_t>(In::zero_point), run);
          }
          return patch;
        }
        if (!std::is_constant_evaluated()) {
          // Some kernel columns outside: per kernel row, zero points, the run inside, zero points.
          const int inside_begin = x0 < 0 ? -x0 : 0, inside_end = in_w - x0 < k_w ? in_w - x0 : k_w;
          const std::int8_t zero = static_cast<std::int8_t>(In::zero_point);
          for (int ky = 0; ky < k_h; ++ky) {
            const int y = y0 + ky * d_h;
            std::int8_t* to = patch + ky * k_w * in_c;
            if (y < 0 || y >= in_h || inside_begin >= inside_end) {
              for (int i = 0; i < k_w * in_c; ++i) to[i] = zero;
              continue;
            }
            const input_element* from = image + (y * in_w + x0 + inside_begin) * in_c;
            for (int i = 0; i < inside_begin * in_c; ++i) to[i] = zero;
            for (int i = inside_begin * in_c; i < inside_end * in_c; ++i) to[i] = from[i - inside_begin * in_c];
            for (int i = inside_end * in_c; i < k_w * in_c; ++i) to[i] = zero;
          }
          return patch;
        }
      }
      int j = 0;
      for (int ky = 0; ky < k_h; ++ky) {
        const int y = y0 + ky * d_h;
        for (int kx = 0; kx < k_w; ++kx) {
          const int x = x0 + kx * d_w;
          if (y >= 0 && y < in_h && x >= 0 && x < in_w) {
            const input_element* px = pixel_at(image, y, x);
            for (int i = 0; i < filter_c; ++i) patch[j++] = px[i];
          } else {
            for (int i = 0; i < filter_c; ++i) patch[j++] = static_cast<std::int8_t>(In::zero_point);
          }
        }
      }
      return patch;
    }
  }

  // `unrolled` in place: where the weights are few for the receptive field (fewer than three
  // non-zeros per column, as in a pruned first layer: vww's 3x3 over 3 channels keeps 44 of 216),
  // packing every column of four patches costs more than the multiply-accumulates it serves. The
  // layer then reads each pixel's receptive field where it lies in the image: the rows' columns
  // are image offsets (image_layout), one LDRSB with an immediate offset per term, no patch. A
  // pixel whose field reaches into the padding reads a scratch laid out as the image around it
  // (direct_span bytes, only the field's positions written; at most 1 KB of stack). The field must
  // be at most as wide as the image: wider (SAME padding allows it), two of its taps would fall on
  // one byte of the scratch, whose rows are the image's.
  struct image_layout {
    static constexpr int weight(int o, int i) { return o * patch_size + i; }
    static constexpr int column(int, int i) {
      const int tap = i / filter_c;
      return ((tap / k_w) * d_h * in_w + (tap % k_w) * d_w) * in_c + i % filter_c;
    }
  };
  static constexpr int direct_span = ((k_h - 1) * d_h * in_w + (k_w - 1) * d_w + 1) * in_c;
  static constexpr bool sparse_direct = sparse_form == SparseForm::unrolled && !pointwise && groups == 1 &&
                                        nonzero_weights < 3 * patch_size && direct_span <= 1024 &&
                                        detail::effective_filter_size(k_w, d_w) <= in_w;
  using direct_rows = kernels::UnrolledRows<Weights, out_c, patch_size, image_layout, sparse_scale>;

  static constexpr detail::InteriorRange direct_rows_inside = detail::interior(in_h, out_h, k_h, s_h, d_h, pad_h);
  static constexpr detail::InteriorRange direct_columns_inside = detail::interior(in_w, out_w, k_w, s_w, d_w, pad_w);

  // Pixels output pixels from pixel `first` on, a row at a time: the field's offset in the image
  // steps by s_w * in_c from pixel to pixel (an int: a border row's may be negative).
  template <int Pixels, class First>
  static constexpr void run_sparse_direct(const input_element* image, output_element* out, First first) {
    std::int8_t border[direct_span]{};
    const int start = static_cast<int>(first);
    for (int p = 0; p < Pixels;) {
      const int oy = (start + p) / out_w, ox_first = (start + p) % out_w;
      const int ox_end = out_w - ox_first < Pixels - p ? out_w : ox_first + (Pixels - p);
      const int y0 = oy * s_h - pad_h;
      const bool row_inside = oy >= direct_rows_inside.begin && oy < direct_rows_inside.end;
      int offset = (y0 * in_w + ox_first * s_w - pad_w) * in_c;
      output_element* dst = out + p * out_c;
      for (int ox = ox_first; ox < ox_end; ++ox, offset += s_w * in_c, dst += out_c) {
        const std::int8_t* x = border;
        if (row_inside && ox >= direct_columns_inside.begin && ox < direct_columns_inside.end) {
          x = image + offset;
        } else {
          const int x0 = ox * s_w - pad_w;
          for (int ky = 0; ky < k_h; ++ky) {
            const int y = y0 + ky * d_h;
            for (int kx = 0; kx < k_w; ++kx) {
              const int xx = x0 + kx * d_w;
              const bool inside = y >= 0 && y < in_h && xx >= 0 && xx < in_w;
              std::int8_t* to = border + (ky * d_h * in_w + kx * d_w) * in_c;
              for (int i = 0; i < in_c; ++i)
                to[i] = inside ? image[(y * in_w + xx) * in_c + i] : static_cast<std::int8_t>(In::zero_point);
            }
          }
        }
        direct_rows::run(x, [dst](int c, std::int32_t dot)
                                __attribute__((always_inline)) { dst[c] = plan::template finish_sparse<sparse_scale>(c, dot); });
      }
      p += ox_end - ox_first;
    }
  }

  // to[k][c] = the output of channel c's dot product with pixel k, for the sparse forms' K pixels.
  TINYNET_INLINE_UNROLLED static constexpr void finish_pixels(const std::array<output_element*, 4>& to, int c,
                                                             auto... dots) {
    plan::template finish_sparse_each<sparse_scale>(c, to.data(), dots...);
  }

  // K = SparseRows::inputs_per_pass output pixels per pass (four where the paired columns, or
  // `nm`'s pair tables, fit a pass's stack, pass_stack_bytes in core/target.hpp, else two, else
  // one): each load of a column, weight word or slot serves all K. Past the last pixel the pass's
  // first is repeated, so that the layer holds one copy of the sparse code; that last pass writes
  // its K pixels to `tail`, and its real ones are copied out.
  template <int Pixels, class First, class Image>
  static constexpr void run_sparse(Image image, output_element* out, First first) {
    if constexpr (sparse_direct && std::is_pointer_v<Image>) {
      run_sparse_direct<Pixels>(image, out, first);
      return;
    }
    constexpr int K = sparse_rows::inputs_per_pass;
    [[maybe_unused]] std::int8_t patches[pointwise ? 1 : K * patch_size]{};
    [[maybe_unused]] output_element tail[Pixels % K != 0 ? K * out_c : 1]{};
    for (int p = 0; p < Pixels; p += K) {
      const std::int8_t* x[K] = {sparse_input(image, patches, first + p)};
      for (int k = 1; k < K; ++k) {
        const bool real = p + k < Pixels;
        x[k] = real ? sparse_input(image, patches + (pointwise ? 0 : k * patch_size), first + p + k) : x[0];
      }
      const bool whole = Pixels % K == 0 || p + K <= Pixels;
      output_element* const d0 = whole ? out + p * out_c : tail;
      static_assert(K <= 4);
      if constexpr (sparse_form == SparseForm::unrolled) {
        // Unrolled rows finish each row inlined, its channel a constant: the K output pointers by
        // value, one capture each, are K registers that every store offsets by the constant (an
        // int8 store may alias anything in memory, so pointers read through a reference would be
        // loaded again after every output, and an array capture was copied at every level the
        // function object passes).
        sparse_rows::template run_many<K>(
            x, [d0, d1 = d0 + out_c, d2 = d0 + 2 * out_c, d3 = d0 + 3 * out_c](int c, auto... dots)
                   __attribute__((always_inline)) { finish_pixels({d0, d1, d2, d3}, c, dots...); });
      } else {
        // The other forms finish each row in one loop over the channels: there the K pointers
        // went to the stack, reloaded for every output (kws pruned 80 %, -Os); one pointer and
        // stores at fixed offsets from it do not.
        sparse_rows::template run_many<K>(x, [d0](int c, auto... dots) __attribute__((always_inline)) {
          finish_pixels({d0, d0 + out_c, d0 + 2 * out_c, d0 + 3 * out_c}, c, dots...);
        });
      }
      if constexpr (Pixels % K != 0)
        if (!whole)
          for (int i = 0; i < (Pixels - p) * out_c; ++i) out[p * out_c + i] = tail[i];
    }
  }

  static constexpr void run(const input_element* in, output_element* out) {
    if constexpr (is_hybrid) {
      for (int b = 0; b < batches; ++b) run_hybrid(in + b * in_h * in_w * in_c, out + b * out_h * out_w * out_c);
      return;
    }
    // (The same dispatch as run_int8's, written out: through run_int8, GCC 12 made vww's code 572
    // bytes larger.)
    if constexpr (sparse) {
      for (int b = 0; b < batches; ++b) run_sparse<out_h * out_w>(in + b * in_h * in_w * in_c, out + b * out_h * out_w * out_c, whole_image{});
    } else if constexpr (use_patch) {
#if TINYNET_HOST_SIMD
      if constexpr (!packed_int4)
        if (!std::is_constant_evaluated()) {
          for (int b = 0; b < batches; ++b)
            host::Conv2D<Conv2D>::run(in + b * in_h * in_w * in_c, out + b * out_h * out_w * out_c, whole_image{}, out_h * out_w);
          return;
        }
#endif
      for (int b = 0; b < batches; ++b) run_patches<out_h * out_w>(in + b * in_h * in_w * in_c, out + b * out_h * out_w * out_c, whole_image{});
    } else {
      run_pixels(in, out);
    }
  }

  // The output over the input (rows_in_place; graph/network.hpp calls it, not run, for a layer the
  // arena plan put over its input: in == out). Output rows go through a ring on the stack and are
  // copied to their places (layers/conv/in_place_rows.hpp); run() itself needs distinct buffers
  // unless pointwise_in_place, and stays as fast as without this.
  static void run_in_place(const input_element* in, output_element* out)
    requires rows_in_place
  {
    alignas(4) output_element ring[in_place_rows::ring_elements];
    in_place_rows::run(out, ring, [in](int oy, output_element* dst_row) { run_int8<out_w>(in, dst_row, oy * out_w); });
  }

  // int8 (use_patch or sparse): output pixels first .. first + Pixels - 1 of one image, their
  // outputs from `out` on. First: an int (a row, run_in_place), or whole_image (0 as a type: the
  // whole image's code is then the same as with no `first` at all).
  using whole_image = std::integral_constant<int, 0>;
  template <int Pixels, class First>
  static constexpr void run_int8(const input_element* image, output_element* out, First first) {
    if constexpr (sparse) {
      run_sparse<Pixels>(image, out, first);
    } else {
#if TINYNET_HOST_SIMD
      if constexpr (!packed_int4)
        if (!std::is_constant_evaluated()) return host::Conv2D<Conv2D>::run(image, out, first, Pixels);  // kernels/x86_simd/conv2d.hpp
#endif
      run_patches<Pixels>(image, out, first);
    }
  }

  // One output row from an input held row by row (an Image with row(y): the ring of y1 rows of a
  // fused residual block, layers/conv/residual_rows.hpp). Every int8 form but `nm` (whose passes of
  // K pixels are not written for a row); the portable and DSP kernels (the host's SIMD path reads
  // an image).
  static constexpr bool streams_rows = use_patch && sparse_form != SparseForm::nm && batches == 1;
  template <class Image>
  static void run_row_from(Image image, output_element* out_row, int oy)
    requires streams_rows
  {
    if constexpr (sparse) run_sparse<out_w>(image, out_row, oy * out_w);
    else run_patches<out_w>(image, out_row, oy * out_w);
  }

  static constexpr void run_pixels(const input_element* in, output_element* out) {
    for (int b = 0; b < batches; ++b) {
      const input_element* image = in + b * in_h * in_w * in_c;
      for (int oy = 0; oy < out_h; ++oy) {
        const bool row_inside = oy >= interior_y.begin && oy < interior_y.end;
        for (int ox = 0; ox < out_w; ++ox) {
          output_element* dst = out + ((b * out_h + oy) * out_w + ox) * out_c;
          const int y0 = oy * s_h - pad_h, x0 = ox * s_w - pad_w;
          const bool inside = row_inside && ox >= interior_x.begin && ox < interior_x.end;
          inside ? pixel<true>(image, dst, y0, x0) : pixel<false>(image, dst, y0, x0);
        }
      }
    }
  }
};

}  // namespace tinynet
