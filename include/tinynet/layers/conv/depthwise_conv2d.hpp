// DepthwiseConv2D over NHWC tensors with [1][kh][kw][out_c] weights and a depth multiplier:
// output channel ic * depth_multiplier + m filters input channel ic.
//
// int8 follows TFLM's reference_integer_ops::DepthwiseConvPerChannel, with the input zero point
// folded into the bias exactly as in Conv2D (padded taps read the input zero point).
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#include "../../core/activation_range.hpp"
#include "../../core/channel_plan.hpp"
#include "../../core/constant_array.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/dot.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/host_simd.hpp"
#include "../../core/output_stage.hpp"
#include "../../core/requantize.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "geometry.hpp"

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
};

namespace detail {
// DepthwiseConv2D's channel plan: channel c's weights are column c of the [taps][out_c] weights.
template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales, DepthwiseConv2DOptions Options,
          int OutC = NHWC<typename Out::shape>::channels>
using depthwise_conv2d_plan = ChannelPlan<In, Out, Weights, Bias, WeightScales, Options.activation, OutC,
                                          WeightLayout<Options.kernel_h * Options.kernel_w, 1, OutC>>;
}  // namespace detail

template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales,
          DepthwiseConv2DOptions Options>
struct DepthwiseConv2D : detail::depthwise_conv2d_plan<In, Out, Weights, Bias, WeightScales, Options> {
  using plan = detail::depthwise_conv2d_plan<In, Out, Weights, Bias, WeightScales, Options>;
  using plan::folded_bias, plan::multipliers, plan::range, plan::short_stage, plan::short_stage_table, plan::is_quantized;
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

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = std::uint64_t{batches} * out_h * out_w * out_c * k_h * k_w;

  static constexpr std::size_t weight_bytes = plan::weight_bytes_with(sizeof(Weights));

  static constexpr detail::InteriorRange interior_y = detail::interior(in_h, out_h, k_h, s_h, d_h, pad_h);
  static constexpr detail::InteriorRange interior_x = detail::interior(in_w, out_w, k_w, s_w, d_w, pad_w);

  // int8 with depth multiplier 1: four channels at a time, the taps inner, four accumulators in
  // registers. On DSP cores one word load brings the four channels' inputs of a tap; SXTB16 splits
  // them into (c, c+2) and (c+1, c+3) halfword pairs, and SMLABB/SMLATT multiply them with weights
  // that the compiler has already sign-extended and paired the same way (packed_weights).
  static constexpr int taps = k_h * k_w;
  static constexpr int quads = out_c / 4;
  static constexpr bool use_fast_path = std::is_same_v<input_element, std::int8_t> && multiplier == 1;

  static constexpr std::array<std::uint32_t, static_cast<std::size_t>(quads * taps * 2)> packed_weights = [] {
    std::array<std::uint32_t, static_cast<std::size_t>(quads * taps * 2)> out{};
    if constexpr (std::is_same_v<input_element, std::int8_t>) {
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

  static constexpr auto constant_tables() {
    return plan::constant_tables_with(ConstantTables<Weights>{}, ConstantTables<packed_weights>{});
  }

  // A row of in_c input zero points (in flash): border taps that fall in the padding read it, so
  // border pixels run the same branch-free loops as interior ones (the DSP and host kernels).
  static constexpr std::array<input_element, static_cast<std::size_t>(in_c)> padding_row = [] {
    std::array<input_element, static_cast<std::size_t>(in_c)> row{};
    for (auto& value : row) value = static_cast<input_element>(In::zero_point);
    return row;
  }();

  // Offset of each tap from the window's top-left input element (interior pixels).
  static constexpr std::array<int, static_cast<std::size_t>(taps)> tap_offsets = [] {
    std::array<int, static_cast<std::size_t>(taps)> out{};
    for (int t = 0; t < taps; ++t) out[static_cast<std::size_t>(t)] = ((t / k_w) * d_h * in_w + (t % k_w) * d_w) * in_c;
    return out;
  }();

  // The plain clamp: with SSAT (clamp<range>) GCC 12 allocates the four-channel loop worse and
  // the layer needs ~25% more instructions on Cortex-M4 (measured with bench --per-layer).
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
      const std::int8_t* w = &Weights[t * out_c];
      if (Interior || (y >= 0 && y < in_h && x >= 0 && x < in_w)) {
        const input_element* px = image + (y * in_w + x) * in_c;
        for (int c = 0; c < out_c; ++c) acc[c] += static_cast<std::int32_t>(w[c]) * px[c];
      } else {
        for (int c = 0; c < out_c; ++c) acc[c] += static_cast<std::int32_t>(w[c]) * In::zero_point;
      }
    }
    for (int c = 0; c < out_c; ++c) out[c] = requantize(acc[c], c);
  }

#if TINYNET_HOST_SIMD
  // Host (SSE2): sixteen (or eight) channels per pass, two taps per pmaddwd. The two taps' input
  // bytes are interleaved and then placed in the high halves of int16 lanes, which makes the
  // pairs (256 x_t[c], 256 x_t+1[c]) without any sign extension; the compiler has laid the
  // weights out as the matching (w_t[c], w_t+1[c]) pairs (an odd last tap is paired with a zero
  // weight), and the sums are divided by 256 at the end (exact: each is a multiple of 256, and
  // below 2^31 for fewer than 512 taps). Border taps read a row of input zero points. Channel
  // counts that are not a multiple of 8 go through pixel_channels.
  static constexpr int tap_pairs = (taps + 1) / 2;
  static constexpr bool use_host_path = use_fast_path && out_c % 8 == 0 && taps < 512;
  alignas(16) static constexpr std::array<std::int16_t, static_cast<std::size_t>(tap_pairs * out_c * 2)> host_weights = [] {
    std::array<std::int16_t, static_cast<std::size_t>(tap_pairs * out_c * 2)> out{};
    if constexpr (use_fast_path) {
      for (int t = 0; t < taps; ++t)
        for (int c = 0; c < out_c; ++c) out[static_cast<std::size_t>(((t / 2) * out_c + c) * 2 + t % 2)] = Weights[t * out_c + c];
    }
    return out;
  }();
  static constexpr std::array<std::int32_t, static_cast<std::size_t>(out_c)> host_bias = [] {
    std::array<std::int32_t, static_cast<std::size_t>(out_c)> out{};
    if constexpr (use_fast_path)
      for (int c = 0; c < out_c; ++c) out[static_cast<std::size_t>(c)] = static_cast<std::int32_t>(folded_bias[static_cast<std::size_t>(c)]);
    return out;
  }();
  static constexpr host::VectorOutputStage<out_c> vector_stage = host::vector_output_stage<out_c>(short_stage_table, Out::zero_point);
  static constexpr host::FullVectorOutputStage<out_c> full_vector_stage =
      host::full_vector_output_stage<out_c, out_c>(multipliers, Out::zero_point);

  static host::i32x4 requantize4(host::i32x4 acc, int c) { return host::requantize4<DepthwiseConv2D>(acc, c); }

  // Bytes 0-7 (Low) or 8-15 of v as int16 lanes holding 256 * value (the byte in the high half).
  template <bool Low>
  static host::i16x8 high_halves(host::i8x16 v) {
    const host::i8x16 zero{};
    if constexpr (Low) {
      return reinterpret_cast<host::i16x8>(
          __builtin_shufflevector(zero, v, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
    } else {
      return reinterpret_cast<host::i16x8>(
          __builtin_shufflevector(zero, v, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
    }
  }

  // Channels c .. c + Width - 1 (Width 8 or 16) of one pixel; rows[t] is where tap t reads.
  template <int Width>
  static void channel_block(const input_element* const* rows, output_element* out, int c) {
    using namespace host;
    i32x4 a0{}, a1{}, a2{}, a3{};
    const std::int16_t* w = &host_weights[static_cast<std::size_t>(c * 2)];
    for (int j = 0; j < tap_pairs; ++j, w += out_c * 2) {
      const input_element* first = rows[2 * j] + c;
      const input_element* second = rows[2 * j + 1] + c;
      if constexpr (Width == 16) {
        const i8x16 x0 = load<i8x16>(first), x1 = load<i8x16>(second);
        const i8x16 low = __builtin_shufflevector(x0, x1, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const i8x16 high = __builtin_shufflevector(x0, x1, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        a0 += madd(high_halves<true>(low), load<i16x8>(w));
        a1 += madd(high_halves<false>(low), load<i16x8>(w + 8));
        a2 += madd(high_halves<true>(high), load<i16x8>(w + 16));
        a3 += madd(high_halves<false>(high), load<i16x8>(w + 24));
      } else {
        const i8x16 pairs = __builtin_shufflevector(load<i8x8>(first), load<i8x8>(second), 0, 8, 1, 9, 2, 10, 3, 11, 4, 12,
                                                    5, 13, 6, 14, 7, 15);
        a0 += madd(high_halves<true>(pairs), load<i16x8>(w));
        a1 += madd(high_halves<false>(pairs), load<i16x8>(w + 8));
      }
    }
    const auto finish = [&](i32x4 acc, int channel) {
      return requantize4((acc >> 8) + load<i32x4>(&host_bias[static_cast<std::size_t>(channel)]), channel);
    };
    store_bytes(out + c, narrow_clamped(finish(a0, c), finish(a1, c + 4), range.min, range.max), 8);
    if constexpr (Width == 16)
      store_bytes(out + c + 8, narrow_clamped(finish(a2, c + 8), finish(a3, c + 12), range.min, range.max), 8);
  }

  template <bool Interior>
  static void pixel_host(const input_element* image, output_element* out, int in_y0, int in_x0) {
    // Where each tap reads (an odd last tap repeats the one before: its weights are zero).
    const input_element* rows[2 * tap_pairs];
    const int origin = (in_y0 * in_w + in_x0) * in_c;
    for (int t = 0; t < taps; ++t) {
      const int y = in_y0 + (t / k_w) * d_h, x = in_x0 + (t % k_w) * d_w;
      rows[t] = (Interior || (y >= 0 && y < in_h && x >= 0 && x < in_w)) ? image + origin + tap_offsets[static_cast<std::size_t>(t)]
                                                                         : padding_row.data();
    }
    if constexpr (taps % 2 != 0) rows[taps] = rows[taps - 1];
    int c = 0;
    for (; c + 16 <= out_c; c += 16) channel_block<16>(rows, out, c);
    if (c < out_c) channel_block<8>(rows, out, c);
  }
#endif

  // int8, multiplier 1: the DSP kernel at run time on M4/M7/M33, the channel loops elsewhere.
  template <bool Interior>
  static constexpr void pixel_fast(const input_element* image, output_element* out, int in_y0, int in_x0) {
#if TINYNET_ARM_DSP
    if (!std::is_constant_evaluated()) {
      pixel_dsp<Interior>(image, out, in_y0, in_x0);
      return;
    }
#endif
#if TINYNET_HOST_SIMD
    if constexpr (use_host_path) {
      if (!std::is_constant_evaluated()) {
        pixel_host<Interior>(image, out, in_y0, in_x0);
        return;
      }
    }
#endif
    pixel_channels<Interior>(image, out, in_y0, in_x0);
  }

#if TINYNET_ARM_DSP

  template <bool Interior>
  static void pixel_dsp(const input_element* image, output_element* out, int in_y0, int in_x0) {
    // Where each tap reads (the pixel's input, or the padding row): computed once per pixel,
    // shared by all channels. Interior pixels use compile-time offsets instead.
    const input_element* tap_rows[Interior ? 1 : taps];
    const int origin = (in_y0 * in_w + in_x0) * in_c;
    if constexpr (!Interior) {
      for (int t = 0; t < taps; ++t) {
        const int y = in_y0 + (t / k_w) * d_h, x = in_x0 + (t % k_w) * d_w;
        tap_rows[t] = (y >= 0 && y < in_h && x >= 0 && x < in_w) ? image + origin + tap_offsets[static_cast<std::size_t>(t)]
                                                                  : padding_row.data();
      }
    }
    for (int q = 0; q < quads; ++q) {
      const int c = 4 * q;
      const std::uint32_t* w = &packed_weights[static_cast<std::size_t>(q * taps * 2)];
      std::int32_t a0 = folded_bias[static_cast<std::size_t>(c)], a1 = folded_bias[static_cast<std::size_t>(c + 1)];
      std::int32_t a2 = folded_bias[static_cast<std::size_t>(c + 2)], a3 = folded_bias[static_cast<std::size_t>(c + 3)];
      TINYNET_UNROLL
      for (int t = 0; t < taps; ++t) {
        const std::uint32_t word = Interior ? kernels::load_word(image + origin + tap_offsets[static_cast<std::size_t>(t)] + c)
                                            : kernels::load_word(tap_rows[t] + c);
        const std::int32_t even = static_cast<std::int32_t>(__sxtb16(word));             // (c, c+2)
        const std::int32_t odd = static_cast<std::int32_t>(kernels::sxtb16_ror8(word));  // (c+1, c+3)
        const std::int32_t w_even = static_cast<std::int32_t>(w[2 * t]);
        const std::int32_t w_odd = static_cast<std::int32_t>(w[2 * t + 1]);
        a0 = __smlabb(even, w_even, a0);
        a2 = __smlatt(even, w_even, a2);
        a1 = __smlabb(odd, w_odd, a1);
        a3 = __smlatt(odd, w_odd, a3);
      }
      out[c] = requantize(a0, c);
      out[c + 1] = requantize(a1, c + 1);
      out[c + 2] = requantize(a2, c + 2);
      out[c + 3] = requantize(a3, c + 3);
    }
    // The channels left over (out_c not a multiple of 4).
    for (int c = quads * 4; c < out_c; ++c) {
      std::int32_t acc = folded_bias[static_cast<std::size_t>(c)];
      for (int t = 0; t < taps; ++t) {
        const input_element* row = Interior ? image + origin + tap_offsets[static_cast<std::size_t>(t)] : tap_rows[t];
        acc += static_cast<std::int32_t>(Weights[t * out_c + c]) * row[c];
      }
      out[c] = requantize(acc, c);
    }
  }
#endif

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

  static constexpr void run(const input_element* in, output_element* out) {
    for (int b = 0; b < batches; ++b) {
      const input_element* image = in + b * in_h * in_w * in_c;
      for (int oy = 0; oy < out_h; ++oy) {
        const bool row_inside = oy >= interior_y.begin && oy < interior_y.end;
        for (int ox = 0; ox < out_w; ++ox) {
          output_element* dst = out + ((b * out_h + oy) * out_w + ox) * out_c;
          const int y0 = oy * s_h - pad_h, x0 = ox * s_w - pad_w;
          const bool inside = row_inside && ox >= interior_x.begin && ox < interior_x.end;
          if constexpr (use_fast_path) {
            inside ? pixel_fast<true>(image, dst, y0, x0) : pixel_fast<false>(image, dst, y0, x0);
          } else {
            inside ? pixel<true>(image, dst, y0, x0) : pixel<false>(image, dst, y0, x0);
          }
        }
      }
    }
  }
};

}  // namespace tinynet
