// DepthwiseConv2D over NHWC tensors with [1][kh][kw][out_c] weights and a depth multiplier:
// output channel ic * depth_multiplier + m filters input channel ic.
//
// int8 follows TFLM's reference_integer_ops::DepthwiseConvPerChannel, with the input zero point
// folded into the bias exactly as in Conv2D (padded taps read the input zero point).
//
// Hybrid (float input and output, int8 weights): TFLite's depthwise_conv.cc EvalHybridPerChannel:
// each batch's input quantized asymmetrically, padded taps skipped (core/hybrid.hpp).
//
// int4 weights (core/int4.hpp; TFLM unpacks them and runs the int8 kernel): unpacked by the
// compiler (a std::array) the layer is the int8 layer; as a PackedInt4 (int8 tensors) they stay at
// two per byte: on DSP cores as words of eight nibbles that the kernel masks into halfword pairs
// (kernels/int4_dot.hpp, depthwise_int4_words; run by the int8 layers' record kernels,
// kernels/arm_dsp/depthwise_conv2d.hpp, QuadTapsInt4, or with the long output stage by
// DepthwiseInt4), elsewhere read nibble by nibble, with the same bytes.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#include "../../core/activation_range.hpp"
#include "../../core/channel_plan.hpp"
#include "../../core/constant_array.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/int4.hpp"
#include "../../core/output_stage.hpp"
#include "../../core/requantize.hpp"
#include "../../core/sparsity.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "../../kernels/arm_dsp/depthwise_conv2d.hpp"
#include "../../kernels/int4_dot.hpp"
#include "../../kernels/x86_simd/depthwise_conv2d.hpp"
#include "../dense/sparse_rows.hpp"
#include "geometry.hpp"
#include "in_place_rows.hpp"

namespace tinynet {

struct DepthwiseConv2DOptions {
  int kernel_h = 1;
  int kernel_w = 1;
  int stride_h = 1;
  int stride_w = 1;
  int dilation_h = 1;
  int dilation_w = 1;
  int depth_multiplier = 1;
  Padding padding = Padding::valid;
  Activation activation = Activation::none;
  SparseForm sparse_form = SparseForm::automatic;  // int8 only; see core/sparsity.hpp
};

namespace detail {
// DepthwiseConv2D's channel plan: channel c's weights are column c of the [taps][out_c] weights.
template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales, DepthwiseConv2DOptions Options,
          int OutC = NHWC<typename Out::shape>::channels>
using depthwise_conv2d_plan = ChannelPlan<In, Out, Weights, Bias, WeightScales, Options.activation, OutC,
                                          WeightLayout<Options.kernel_h * Options.kernel_w, 1, OutC>>;
// Offset of each tap from a window's first element, in rows of row_w pixels of C channels.
template <int KH, int KW>
constexpr std::array<int, static_cast<std::size_t>(KH * KW)> tap_offsets_in_rows(int d_h, int d_w, int row_w, int c) {
  std::array<int, static_cast<std::size_t>(KH * KW)> out{};
  for (int t = 0; t < KH * KW; ++t) out[static_cast<std::size_t>(t)] = ((t / KW) * d_h * row_w + (t % KW) * d_w) * c;
  return out;
}
}  // namespace detail

template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales,
          DepthwiseConv2DOptions Options>
struct DepthwiseConv2D : detail::depthwise_conv2d_plan<In, Out, Weights, Bias, WeightScales, Options> {
  using plan = detail::depthwise_conv2d_plan<In, Out, Weights, Bias, WeightScales, Options>;
  using plan::folded_bias, plan::multipliers, plan::range, plan::short_stage, plan::short_stage_table, plan::is_quantized,
      plan::is_hybrid;
  using typename plan::accumulator;
  using inputs = TypeList<In>;
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
  static constexpr int multiplier = Options.depth_multiplier;
  static constexpr int out_c = in_c * multiplier;
  static constexpr int out_h = detail::output_size(Options.padding, in_h, k_h, s_h, d_h);
  static constexpr int out_w = detail::output_size(Options.padding, in_w, k_w, s_w, d_w);
  static constexpr int pad_h = detail::padding_before(Options.padding, in_h, k_h, s_h, d_h);
  static constexpr int pad_w = detail::padding_before(Options.padding, in_w, k_w, s_w, d_w);

  static_assert(Options.kernel_h > 0 && Options.kernel_w > 0 && Options.stride_h > 0 && Options.stride_w > 0 &&
                    Options.dilation_h > 0 && Options.dilation_w > 0 && Options.depth_multiplier > 0,
                "tinynet::DepthwiseConv2D: kernel, stride, dilation and depth multiplier must be positive");
  static_assert(In::shape::rank == 4 && Out::shape::rank == 4,
                "tinynet::DepthwiseConv2D: tensors must be 4-D NHWC");
  static_assert(size_mismatch<DepthwiseConv2D, k_h * k_w * out_c, array_size<Weights>>::ok);
  static_assert(output_shape_mismatch<DepthwiseConv2D, Shape<batches, out_h, out_w, out_c>, typename Out::shape>::ok);
  static_assert(size_mismatch<DepthwiseConv2D, has_bias<Bias> ? out_c : 0, array_size<Bias>>::ok);
  static_assert(element_type_mismatch<DepthwiseConv2D, input_element, output_element>::ok);

  // In place (layers/conv/in_place_rows.hpp): one batch, output no larger than the input, and a
  // ring of output rows no larger than 2 KiB of stack and a quarter of the output it saves.
  using in_place_rows = detail::InPlaceRows<in_h, in_w * in_c, out_h, out_w * out_c, s_h, pad_h>;
  static constexpr std::size_t ring_bytes = in_place_rows::ring_elements * sizeof(output_element);
  static constexpr std::uint64_t macs = std::uint64_t{batches} * out_h * out_w * out_c * k_h * k_w;

  static constexpr const auto& weights = Weights;

  static constexpr detail::InteriorRange interior_y = detail::interior(in_h, out_h, k_h, s_h, d_h, pad_h);
  static constexpr detail::InteriorRange interior_x = detail::interior(in_w, out_w, k_w, s_w, d_w, pad_w);

  // int8 with depth multiplier 1: the target kernels (kernels/arm_dsp/depthwise_conv2d.hpp,
  // kernels/x86_simd/depthwise_conv2d.hpp) or the channel loops (pixel_channels). packed_weights:
  // the weights sign-extended and paired as the DSP kernel multiplies them.
  static constexpr int taps = k_h * k_w;
  static constexpr int quads = out_c / 4;
  static constexpr bool use_fast_path = std::is_same_v<input_element, std::int8_t> && multiplier == 1;

  // Packed int4 weights (core/int4.hpp): on DSP cores the fast path reads int4_words instead of
  // packed_weights (kernels/int4_dot.hpp), elsewhere the loops read the nibbles by index.
  static constexpr bool packed_int4 = is_packed_int4<std::remove_cvref_t<decltype(Weights)>>;
  static_assert(!packed_int4 || std::is_same_v<input_element, std::int8_t>,
                "tinynet::DepthwiseConv2D: packed int4 weights are for int8 layers; pass them unpacked (tinynet::unpack_int4)");
  static constexpr auto int4_words = [] {
    if constexpr (packed_int4) return kernels::depthwise_int4_words<Weights, taps, out_c>();
    else return std::array<std::uint32_t, 0>{};
  }();

  static constexpr std::array<std::uint32_t, static_cast<std::size_t>(quads * taps * 2)> packed_weights = [] {
    std::array<std::uint32_t, static_cast<std::size_t>(quads * taps * 2)> out{};
    if constexpr (std::is_same_v<input_element, std::int8_t> && !packed_int4) {
      const auto pack = [](int low, int high) {
        return static_cast<std::uint32_t>(static_cast<std::uint16_t>(static_cast<std::int16_t>(low))) |
               (static_cast<std::uint32_t>(static_cast<std::uint16_t>(static_cast<std::int16_t>(high))) << 16);
      };
      for (int q = 0; q < quads; ++q)
        for (int t = 0; t < taps; ++t) {
          const int base = t * out_c + 4 * q;
          out[static_cast<std::size_t>((q * taps + t) * 2)] = pack(Weights[base], Weights[base + 2]);
          out[static_cast<std::size_t>((q * taps + t) * 2 + 1)] = pack(Weights[base + 1], Weights[base + 3]);
        }
    }
    return out;
  }();

  // The DSP kernel's output stage per group of four channels (kernels/arm_dsp/depthwise_conv2d.hpp):
  // bias, multiplier, rounding and right shift of the short stage side by side. The bias is not
  // folded: that kernel adds the input offset to each input as it widens it (TFLite's
  // acc = bias + sum w * (x + input_offset), the same accumulator as the folded form), so a tap in
  // the padding contributes nothing and border pixels skip it. Packed int4 weights too, up to
  // the taps their scaled sums allow (kernels::int4_quad_max_taps); their records hold twice the
  // bias (in 32 bits: |bias| is within the short stage's bound), which the kernel adds to its
  // sums shifted back by one bit less (kernels/arm_dsp/depthwise_conv2d.hpp, QuadTapsInt4).
  static constexpr bool use_quad_stages = use_fast_path && short_stage && (!packed_int4 || taps <= kernels::int4_quad_max_taps);
  static constexpr std::int32_t input_zero_point = In::zero_point;
  static constexpr std::array<kernels::QuadStage, static_cast<std::size_t>(use_quad_stages ? quads : 0)> quad_stages = [] {
    std::array<kernels::QuadStage, static_cast<std::size_t>(use_quad_stages ? quads : 0)> out{};
    for (std::size_t q = 0; q < out.size(); ++q)
      for (int i = 0; i < 4; ++i) {
        const int c = 4 * static_cast<int>(q) + i;
        std::int32_t weight_sum = 0;
        for (int t = 0; t < taps; ++t) weight_sum += Weights[t * out_c + c];
        out[q].bias[i] = (packed_int4 ? 2 : 1) * (static_cast<std::int32_t>(folded_bias[static_cast<std::size_t>(c)]) + In::zero_point * weight_sum);
        out[q].multiplier[i] = short_stage_table.multiplier[plan::entry(c)];
        out[q].rounding[i] = short_stage_table.rounding[plan::entry(c)];
        out[q].shift[i] = short_stage_table.right_shift[plan::entry(c)];
      }
    return out;
  }();

  // ---- sparsity ----------------------------------------------------------------------------
  // A pruned int8 layer can run in a sparse form (core/sparsity.hpp): row c is output channel c,
  // its elements the taps, Weights[t * out_c + c], which multiply the input at tap_offsets[t] +
  // c / multiplier from the window's first element (layers/dense/sparse_rows.hpp). Interior
  // pixels read the input in place; border pixels read a copy of their window (sparse_row, run_compressed).
  static constexpr int nonzero_weights = sparsity::count_nonzeros(Weights, 0, array_size<Weights>);
  static constexpr SparseForm sparse_form =
      sparsity::choose(sparsity::LayerKind::depthwise, Options.sparse_form, std::is_same_v<input_element, std::int8_t>,
                       nonzero_weights, static_cast<long long>(array_size<Weights>), {}, sparsity::speed_build,
                       sparsity::size_build, out_c);
  static constexpr bool sparse = sparse_form != SparseForm::dense;
  // (In place needs rows computed one at a time: the dense and `unrolled` forms; `compressed`
  // pairs pixels across rows, and a hybrid layer quantizes its whole input first: they write an
  // output buffer of their own.)
  static constexpr bool in_place = (!sparse || sparse_form == SparseForm::unrolled) && !is_hybrid && batches == 1 &&
                                   Out::bytes <= In::bytes && ring_bytes <= 2048 && ring_bytes * 4 <= Out::bytes;
  struct ChannelTaps {
    static constexpr int weight(int c, int t) { return t * out_c + c; }
    static constexpr int column(int c, int t) { return window_offsets[static_cast<std::size_t>(t)] + c / multiplier; }
  };
  // `unrolled` folds the output stage's doubling into its constant weights (plan::weight_scale).
  static constexpr int sparse_scale = sparse_form == SparseForm::unrolled ? plan::weight_scale : 1;
  using sparse_rows =
      kernels::SparseRows<Weights, out_c, taps, sparse ? sparse_form : SparseForm::unrolled, ChannelTaps, taps, sparse_scale>;
  // Where the sparse rows read tap t from the window's first element: in the image's layout, which
  // interior pixels read in place and border pixels' copies (`window`) reproduce. A window wider
  // than the image (SAME padding allows it) has no interior pixel, and in the image's layout two
  // of its taps would share a byte of the copy: its copy's rows are then the window's width.
  static constexpr int field_w = detail::effective_filter_size(k_w, d_w);
  static constexpr int window_w = field_w > in_w ? field_w : in_w;
  static constexpr auto window_offsets = detail::tap_offsets_in_rows<k_h, k_w>(d_h, d_w, window_w, in_c);
  // A window's span, from its first element to its last.
  static constexpr int window_span = ((k_h - 1) * d_h * window_w + (k_w - 1) * d_w + 1) * in_c;

  // The kernel a DSP core runs a pixel with (kernels/arm_dsp/depthwise_conv2d.hpp), chosen once:
  // pixel_fast runs it and stored_weight_bytes counts the tables it reads. `records` reads the
  // weights as words (packed_weights, int4_words) and its own output stage records (quad_stages),
  // not the folded bias and the stage, and the channels beyond a multiple of four are unrolled
  // code with their weights, bias and stage as constants (leftover_channels); `int4` and `pairs`
  // read the words too, and the leftover channels the weights, and every channel the bias and the
  // stage. `none`: not a DSP core, or not the fast path (sparse, depth multiplier, int16, float).
  enum class DspKernel { none, records, int4, pairs };
  static constexpr DspKernel dsp_kernel = !TINYNET_ARM_DSP || sparse || !use_fast_path ? DspKernel::none
                                          : use_quad_stages                             ? DspKernel::records
                                          : packed_int4                                 ? DspKernel::int4
                                                                                        : DspKernel::pairs;
  static constexpr std::size_t stored_weight_bytes = [] {
    constexpr std::size_t words = packed_int4 ? sizeof(int4_words) : sizeof(packed_weights);
    if constexpr (sparse) return sparse_rows::stored_weight_bytes;
    else if constexpr (dsp_kernel == DspKernel::records) return words + sizeof(quad_stages);
    else if constexpr (dsp_kernel != DspKernel::none) return words + (out_c % 4 != 0 ? sizeof(Weights) : 0);
    else return sizeof(Weights);
  }();
  static constexpr std::size_t weight_bytes = plan::weight_bytes_with(stored_weight_bytes, dsp_kernel != DspKernel::records);

  static constexpr auto constant_tables() {
    if constexpr (sparse) return plan::constant_tables_with(ConstantTables<>{}, sparse_rows::constant_tables());
    else if constexpr (packed_int4) return plan::constant_tables_with(ConstantTables<Weights>{}, ConstantTables<int4_words, quad_stages>{});
    else return plan::constant_tables_with(ConstantTables<Weights>{}, ConstantTables<packed_weights, quad_stages>{});
  }

  // One pixel's in_c bytes, for a border window (sparse_window).
  TINYNET_INLINE_UNROLLED static constexpr void copy_pixel(std::int8_t* to, const input_element* from) {
    if (!std::is_constant_evaluated()) {
      // Whole words: where in_c % 4 == 0 the window and the padding row are word-aligned, and so
      // is every pixel of an arena's tensor (16-byte aligned); GCC then copies the known length by
      // LDM/STM, four words a pair. A tensor elsewhere may be unaligned (LDM faults there), and
      // other channel counts leave the pixels unaligned: word loads and stores (unaligned ones are
      // allowed for LDR/STR on Cortex-M3 and later; GCC makes bytes of them on cores without),
      // unrolled (up to 16 words: two instructions each, where the loop took five), then the last
      // in_c % 4 bytes. (kws pruned 80 %, 43-55 channels: 56 of the 125 pixels of each unrolled
      // depthwise layer are border pixels.)
      if constexpr (in_c % 4 == 0) {
        if ((reinterpret_cast<std::uintptr_t>(from) & 3) == 0) {
          __builtin_memcpy(__builtin_assume_aligned(to, 4), __builtin_assume_aligned(from, 4), in_c);
          return;
        }
      }
      TINYNET_UNROLL
      for (int c = 0; c < in_c / 4 * 4; c += 4) __builtin_memcpy(to + c, from + c, 4);
      for (int c = in_c / 4 * 4; c < in_c; ++c) to[c] = from[c];
      return;
    }
    for (int c = 0; c < in_c; ++c) to[c] = from[c];
  }

  // Where output pixel (in_y0, in_x0)'s window starts for the sparse rows: in the image for an
  // interior pixel; for a border pixel, in `window` (window_span elements), which receives its
  // taps at their interior offsets, the input zero point for taps in the padding (only the taps'
  // positions are ever read).
  template <bool Interior>
  static constexpr const std::int8_t* sparse_window(const input_element* image, int in_y0, int in_x0,
                                                    std::int8_t* window) {
    if constexpr (Interior) {
      return image + (in_y0 * in_w + in_x0) * in_c;
    } else {
      // Rows and columns of taps as two loops (t / k_w and t % k_w were a division per tap).
      for (int ky = 0; ky < k_h; ++ky) {
        const int y = in_y0 + ky * d_h;
        const bool row_inside = y >= 0 && y < in_h;
        for (int kx = 0; kx < k_w; ++kx) {
          const int xx = in_x0 + kx * d_w;
          std::int8_t* to = window + window_offsets[static_cast<std::size_t>(ky * k_w + kx)];
          const bool inside = row_inside && xx >= 0 && xx < in_w;
          const input_element* from = inside ? image + (y * in_w + xx) * in_c : padding_row.data();
          copy_pixel(to, from);
        }
      }
      return window;
    }
  }

  // One output channel's result from its dot product (the sparse forms' finish).
  TINYNET_INLINE_UNROLLED static constexpr output_element finish_sparse(int c, std::int32_t dot) {
    return plan::template finish_sparse<sparse_scale>(c, dot);
  }

  static constexpr bool has_border =
      interior_y.begin > 0 || interior_y.end < out_h || interior_x.begin > 0 || interior_x.end < out_w;

  // `compressed` runs two pixels at a time (CompressedRows::run<2>: each entry's value and column
  // loaded once for both windows), in the image's order, the last pixel of an odd count paired
  // with itself and its second results dropped. (Each border pixel of a pair has a window copy of
  // its own on the stack.) `unrolled` runs row by row (sparse_row), which lets it run in place.
  static constexpr void run_compressed(const input_element* image, output_element* out) {
    constexpr int pixels = out_h * out_w;
    alignas(4) [[maybe_unused]] std::int8_t windows[2][has_border ? window_span : 1]{};
    [[maybe_unused]] output_element dropped[pixels % 2 != 0 ? out_c : 1]{};
    for (int p = 0; p < pixels; p += 2) {
      const std::int8_t* x[2];
      output_element* dst[2];
      for (int k = 0; k < 2; ++k) {
        const bool real = p + k < pixels;
        const int q = real ? p + k : p;
        const int oy = q / out_w, ox = q % out_w;
        const int y0 = oy * s_h - pad_h, x0 = ox * s_w - pad_w;
        const bool interior = oy >= interior_y.begin && oy < interior_y.end && ox >= interior_x.begin &&
                              ox < interior_x.end;
        if constexpr (has_border)
          x[k] = interior ? sparse_window<true>(image, y0, x0, nullptr) : sparse_window<false>(image, y0, x0, windows[k]);
        else
          x[k] = sparse_window<true>(image, y0, x0, nullptr);
        dst[k] = real ? out + q * out_c : dropped;
      }
      static_assert(sparse_scale == 1);  // (compressed)
      sparse_rows::template run_each<2>(x, [d0 = dst[0], d1 = dst[1]](int c, std::int32_t dot0, std::int32_t dot1)
                                                __attribute__((always_inline)) {
                                                  output_element* const to[2] = {d0, d1};
                                                  plan::template finish_sparse_each<1>(c, to, dot0, dot1);
                                                });
    }
  }

  // `unrolled`: output row oy, one pixel at a time, interior and border pixels through one copy
  // of the row code; `window` holds a border pixel's copy (window_span bytes).
  static constexpr void sparse_row(const input_element* image, output_element* dst_row, int oy, std::int8_t* window) {
    const bool row_inside = oy >= interior_y.begin && oy < interior_y.end;
    for (int ox = 0; ox < out_w; ++ox) {
      output_element* dst = dst_row + ox * out_c;
      const int y0 = oy * s_h - pad_h, x0 = ox * s_w - pad_w;
      const auto finish = [dst](int c, std::int32_t dot) __attribute__((always_inline)) { dst[c] = finish_sparse(c, dot); };
      if (row_inside && ox >= interior_x.begin && ox < interior_x.end)
        sparse_rows::run(sparse_window<true>(image, y0, x0, window), finish);
      else if constexpr (has_border)
        sparse_rows::run(sparse_window<false>(image, y0, x0, window), finish);
    }
  }

  // A row of in_c input zero points (in flash): border taps that fall in the padding read it, so
  // border pixels run the same branch-free loops as interior ones (the DSP and host kernels).
  alignas(4) static constexpr std::array<input_element, static_cast<std::size_t>(in_c)> padding_row = [] {
    std::array<input_element, static_cast<std::size_t>(in_c)> row{};
    for (auto& value : row) value = static_cast<input_element>(In::zero_point);
    return row;
  }();

  // Offset of each tap from the window's top-left input element (interior pixels).
  static constexpr auto tap_offsets = detail::tap_offsets_in_rows<k_h, k_w>(d_h, d_w, in_w, in_c);

  // Where tap t of the window at (in_y0, in_x0) reads: the pixel's input, or the padding row.
  template <bool Interior>
  static constexpr const input_element* tap_row(const input_element* image, int in_y0, int in_x0, int t) {
    const int y = in_y0 + (t / k_w) * d_h, x = in_x0 + (t % k_w) * d_w;
    return (Interior || (y >= 0 && y < in_h && x >= 0 && x < in_w))
               ? image + (in_y0 * in_w + in_x0) * in_c + tap_offsets[static_cast<std::size_t>(t)]
               : padding_row.data();
  }

  // The plain clamp for the portable loops and the DSP kernel's left-over channels; the DSP
  // kernel's groups of four clamp with SSAT (plan::requantize<true>), which pays there only with
  // GCC's pre-allocation scheduling off (kernels/arm_dsp/depthwise_conv2d.hpp).
  static constexpr output_element requantize(std::int32_t acc, int c) { return plan::template requantize<false>(acc, c); }

  // Without the DSP extension (host, M0+/M3) and in constant evaluation: all channels of a pixel
  // at once, taps outer, one accumulator per channel; the channel loops are contiguous in both
  // the input and the weights, which is what a vectorizing compiler wants.
  template <bool Interior>
  static constexpr void pixel_channels(const input_element* image, output_element* out, int in_y0, int in_x0) {
    std::int32_t acc[out_c];
    for (int c = 0; c < out_c; ++c) acc[c] = folded_bias[static_cast<std::size_t>(c)];
    for (int t = 0; t < taps; ++t) {
      const int y = in_y0 + (t / k_w) * d_h, x = in_x0 + (t % k_w) * d_w;
      if constexpr (packed_int4) {   // the nibbles by index
        const bool inside = Interior || (y >= 0 && y < in_h && x >= 0 && x < in_w);
        const input_element* px = inside ? image + (y * in_w + x) * in_c : padding_row.data();
        for (int c = 0; c < out_c; ++c) acc[c] += static_cast<std::int32_t>(Weights[static_cast<std::size_t>(t * out_c + c)]) * px[c];
      } else {
        const std::int8_t* w = &Weights[t * out_c];
        if (Interior || (y >= 0 && y < in_h && x >= 0 && x < in_w)) {
          const input_element* px = image + (y * in_w + x) * in_c;
          for (int c = 0; c < out_c; ++c) acc[c] += static_cast<std::int32_t>(w[c]) * px[c];
        } else {
          for (int c = 0; c < out_c; ++c) acc[c] += static_cast<std::int32_t>(w[c]) * In::zero_point;
        }
      }
    }
    for (int c = 0; c < out_c; ++c) out[c] = requantize(acc[c], c);
  }

  // int8, multiplier 1: the target's kernel at run time (kernels/arm_dsp/, kernels/x86_simd/),
  // the channel loops elsewhere and in constant evaluation.
  template <bool Interior>
  static constexpr void pixel_fast(const input_element* image, output_element* out, int in_y0, int in_x0) {
#if TINYNET_ARM_DSP
    if (!std::is_constant_evaluated()) {
      if constexpr (dsp_kernel == DspKernel::records)
        return kernels::arm_dsp::DepthwiseConv2D<DepthwiseConv2D>::template pixel_records<Interior>(image, out, in_y0, in_x0);
      else if constexpr (dsp_kernel == DspKernel::int4)   // the long output stage, or more taps than the records' int4 sums allow
        return kernels::arm_dsp::DepthwiseInt4<DepthwiseConv2D>::template pixel<Interior>(image, out, in_y0, in_x0);
      else if constexpr (dsp_kernel == DspKernel::pairs)
        return kernels::arm_dsp::DepthwiseConv2D<DepthwiseConv2D>::template pixel<Interior>(image, out, in_y0, in_x0);
    }
#elif TINYNET_HOST_SIMD
    if constexpr (host::DepthwiseConv2D<DepthwiseConv2D>::applies)
      if (!std::is_constant_evaluated()) return host::DepthwiseConv2D<DepthwiseConv2D>::template pixel<Interior>(image, out, in_y0, in_x0);
#endif
    pixel_channels<Interior>(image, out, in_y0, in_x0);
  }

  template <bool Interior>
  static constexpr void pixel(const input_element* image, output_element* out, int in_y0, int in_x0) {
    for (int c = 0; c < out_c; ++c) {
      const int ic = c / multiplier;
      if constexpr (is_quantized) {
        accumulator acc = folded_bias[static_cast<std::size_t>(c)];
        for (int ky = 0; ky < k_h; ++ky) {
          const int y = in_y0 + ky * d_h;
          for (int kx = 0; kx < k_w; ++kx) {
            const int x = in_x0 + kx * d_w;
            const accumulator w = Weights[(ky * k_w + kx) * out_c + c];
            if (Interior || (y >= 0 && y < in_h && x >= 0 && x < in_w)) {
              acc += w * image[(y * in_w + x) * in_c + ic];
            } else {
              acc += w * In::zero_point;
            }
          }
        }
        out[c] = plan::requantize_exact(acc, c);
      } else {
        float total = 0.0f;
        for (int ky = 0; ky < k_h; ++ky) {
          const int y = in_y0 + ky * d_h;
          for (int kx = 0; kx < k_w; ++kx) {
            const int x = in_x0 + kx * d_w;
            if (Interior || (y >= 0 && y < in_h && x >= 0 && x < in_w)) {
              total += image[(y * in_w + x) * in_c + ic] * Weights[(ky * k_w + kx) * out_c + c];
            }
          }
        }
        out[c] = plan::finish_float(total, c);
      }
    }
  }

  // Hybrid: all channels of a pixel, taps outer; each tap's input quantized as it is read.
  template <bool Interior>
  static constexpr void pixel_hybrid(const float* image, float* out, int in_y0, int in_x0, HybridScale q) {
    std::int32_t acc[out_c]{};
    for (int t = 0; t < taps; ++t) {
      const int y = in_y0 + (t / k_w) * d_h, x = in_x0 + (t % k_w) * d_w;
      if (!Interior && !(y >= 0 && y < in_h && x >= 0 && x < in_w)) continue;
      const float* px = image + (y * in_w + x) * in_c;
      const std::int8_t* w = &Weights[t * out_c];
      for (int c = 0; c < out_c; ++c)
        acc[c] += static_cast<std::int32_t>(w[c]) * hybrid::centered<HybridInputs::asymmetric>(px[c / multiplier], q);
    }
    for (int c = 0; c < out_c; ++c) out[c] = plan::finish_hybrid(acc[c], c, q.scale);
  }

  // One output row. Its pixels only read the input (see in_place_rows.hpp for the in-place case).
  static constexpr void row(const input_element* image, output_element* dst_row, int oy,
                            [[maybe_unused]] HybridScale q = {}) {
    const bool row_inside = oy >= interior_y.begin && oy < interior_y.end;
    for (int ox = 0; ox < out_w; ++ox) {
      output_element* dst = dst_row + ox * out_c;
      const int y0 = oy * s_h - pad_h, x0 = ox * s_w - pad_w;
      const bool inside = row_inside && ox >= interior_x.begin && ox < interior_x.end;
      if constexpr (is_hybrid) {
        inside ? pixel_hybrid<true>(image, dst, y0, x0, q) : pixel_hybrid<false>(image, dst, y0, x0, q);
      } else if constexpr (use_fast_path) {
        inside ? pixel_fast<true>(image, dst, y0, x0) : pixel_fast<false>(image, dst, y0, x0);
      } else {
        inside ? pixel<true>(image, dst, y0, x0) : pixel<false>(image, dst, y0, x0);
      }
    }
  }

  // One output row by the form's row function: `unrolled` (sparse_row, `window` for its border
  // pixels' copies) or dense (row).
  static constexpr void form_row(const input_element* image, output_element* dst_row, int oy,
                                 [[maybe_unused]] std::int8_t* window, [[maybe_unused]] HybridScale q) {
    if constexpr (sparse) sparse_row(image, dst_row, oy, window);
    else row(image, dst_row, oy, q);
  }

  static constexpr void run(const input_element* in, output_element* out) {
    if constexpr (sparse_form == SparseForm::compressed) {
      for (int b = 0; b < batches; ++b) run_compressed(in + b * in_h * in_w * in_c, out + b * out_h * out_w * out_c);
      return;
    }
    alignas(4) [[maybe_unused]] std::int8_t window[sparse && has_border ? window_span : 1]{};
    if constexpr (in_place) {
      // The planner gave the output the input's buffer: rows go through a ring on the stack.
      alignas(4) output_element ring[in_place_rows::ring_elements];
      // (Not a const bool: its initializer would be tried as a constant expression, where
      // is_constant_evaluated() is true, and `shared` would always be false.)
      output_element* rows = nullptr;
      if (!std::is_constant_evaluated() && static_cast<const void*>(in) == static_cast<const void*>(out)) rows = ring;
      in_place_rows::run(out, rows, [in, &window](int oy, output_element* dst_row) { form_row(in, dst_row, oy, window, {}); });
    } else {
      for (int b = 0; b < batches; ++b) {
        const input_element* image = in + b * in_h * in_w * in_c;
        [[maybe_unused]] HybridScale q{};
        if constexpr (is_hybrid) q = hybrid::input_scale<HybridInputs::asymmetric>(image, in_h * in_w * in_c);
        for (int oy = 0; oy < out_h; ++oy) form_row(image, out + (b * out_h + oy) * out_w * out_c, oy, window, q);
      }
    }
  }
};

}  // namespace tinynet
