// AveragePool2D and MaxPool2D over NHWC tensors.
//
// Both follow TFLM's reference kernels (reference_integer_ops::AveragePool / MaxPool and the float
// reference_ops versions): only taps inside the image count; the int8 average rounds half away
// from zero with C integer division, (acc +- n/2) / n; the result is clamped to the fused
// activation's range. Output quantization equals the input's (TFLite requires it).
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "../../core/activation_range.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "../../kernels/arm_dsp/dot.hpp"
#include "../conv/geometry.hpp"

namespace tinynet {

struct Pool2DOptions {
  int filter_h = 1;
  int filter_w = 1;
  int stride_h = 1;
  int stride_w = 1;
  Padding padding = Padding::valid;
  Activation activation = Activation::none;
};

namespace detail {

enum class PoolKind { average, max };

template <PoolKind Kind, class Layer, class In, class Out, Pool2DOptions Options>
struct Pool2D {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  using in_view = NHWC<typename In::shape>;

  static constexpr int batches = in_view::batches;
  static constexpr int in_h = in_view::height, in_w = in_view::width, channels = in_view::channels;
  static constexpr int out_h = output_size(Options.padding, in_h, Options.filter_h, Options.stride_h, 1);
  static constexpr int out_w = output_size(Options.padding, in_w, Options.filter_w, Options.stride_w, 1);
  static constexpr int pad_h = padding_before(Options.padding, in_h, Options.filter_h, Options.stride_h, 1);
  static constexpr int pad_w = padding_before(Options.padding, in_w, Options.filter_w, Options.stride_w, 1);

  static_assert(Options.filter_h > 0 && Options.filter_w > 0 && Options.stride_h > 0 && Options.stride_w > 0,
                "tinynet: pool filter and stride must be positive");
  static_assert(output_shape_mismatch<Layer, Shape<batches, out_h, out_w, channels>, typename Out::shape>::ok);
  static_assert(element_type_mismatch<Layer, element, typename Out::element>::ok);

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr bool is_quantized = !In::is_float;
  static constexpr QuantizedRange range =
      is_quantized ? activation_range<element>(Options.activation, Out::scale, Out::zero_point) : QuantizedRange{0, 0};

  // TFLM's int8 average: the sum over the count taps, rounded half away from zero by C division.
  static constexpr std::int32_t rounded_average(std::int32_t acc, int count) {
    return acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
  }

  // Every window inside the image (no padding taps): the tap count is the filter's, a constant.
  static constexpr bool full_windows = pad_h == 0 && pad_w == 0 && (out_h - 1) * Options.stride_h + Options.filter_h <= in_h &&
                                       (out_w - 1) * Options.stride_w + Options.filter_w <= in_w;

#if TINYNET_ARM_DSP
  // int8 average on DSP cores: four channels per word, the taps summed in two halfword pairs
  // (SXTB16 splits the word into channels (0, 2) and (1, 3), SADD16 adds each pair): exact while
  // a sum fits 16 bits, i.e. for windows of at most 256 taps (|sum| <= 128 * 256 = 2^15). Then
  // TFLM's rounding division per channel, by a constant where every window is full.
  static constexpr bool use_dsp_path =
      Kind == PoolKind::average && std::is_same_v<element, std::int8_t> && Options.filter_h * Options.filter_w <= 256 && channels >= 4;

  static void run_dsp(const element* in, element* out) {
    for (int b = 0; b < batches; ++b) {
      for (int oy = 0; oy < out_h; ++oy) {
        const int y0 = oy * Options.stride_h - pad_h;
        const int fy_begin = full_windows ? 0 : (y0 < 0 ? -y0 : 0);
        const int fy_end = full_windows ? Options.filter_h : ((in_h - y0) < Options.filter_h ? (in_h - y0) : Options.filter_h);
        for (int ox = 0; ox < out_w; ++ox) {
          const int x0 = ox * Options.stride_w - pad_w;
          const int fx_begin = full_windows ? 0 : (x0 < 0 ? -x0 : 0);
          const int fx_end = full_windows ? Options.filter_w : ((in_w - x0) < Options.filter_w ? (in_w - x0) : Options.filter_w);
          const int count = full_windows ? Options.filter_h * Options.filter_w : (fy_end - fy_begin) * (fx_end - fx_begin);
          const element* window = in + ((b * in_h + y0) * in_w + x0) * channels;
          element* dst = out + ((b * out_h + oy) * out_w + ox) * channels;
          int c = 0;
          for (; c + 4 <= channels; c += 4) {
            std::uint32_t even = 0, odd = 0;  // channels (c, c + 2) and (c + 1, c + 3)
            for (int fy = fy_begin; fy < fy_end; ++fy)
              TINYNET_UNROLL_8
              for (int fx = fx_begin; fx < fx_end; ++fx) {
                const std::uint32_t v = kernels::arm_dsp::load_word(window + (fy * in_w + fx) * channels + c);
                even = __sadd16(even, __sxtb16(v));
                odd = __sadd16(odd, kernels::arm_dsp::sxtb16_ror8(v));
              }
            const std::int32_t sums[4] = {static_cast<std::int16_t>(even), static_cast<std::int16_t>(odd),
                                          static_cast<std::int16_t>(even >> 16), static_cast<std::int16_t>(odd >> 16)};
            for (int k = 0; k < 4; ++k) dst[c + k] = static_cast<element>(clamp<range>(rounded_average(sums[k], count)));
          }
          for (; c < channels; ++c) {
            std::int32_t acc = 0;
            for (int fy = fy_begin; fy < fy_end; ++fy)
              for (int fx = fx_begin; fx < fx_end; ++fx) acc += window[(fy * in_w + fx) * channels + c];
            dst[c] = static_cast<element>(clamp<range>(rounded_average(acc, count)));
          }
        }
      }
    }
  }
#endif

  static constexpr void run(const element* in, element* out) {
#if TINYNET_ARM_DSP
    if constexpr (use_dsp_path) {
      if (!std::is_constant_evaluated()) {
        run_dsp(in, out);
        return;
      }
    }
#endif
    for (int b = 0; b < batches; ++b) {
      for (int oy = 0; oy < out_h; ++oy) {
        const int y0 = oy * Options.stride_h - pad_h;
        const int fy_begin = y0 < 0 ? -y0 : 0;
        const int fy_end = (in_h - y0) < Options.filter_h ? (in_h - y0) : Options.filter_h;
        for (int ox = 0; ox < out_w; ++ox) {
          const int x0 = ox * Options.stride_w - pad_w;
          const int fx_begin = x0 < 0 ? -x0 : 0;
          const int fx_end = (in_w - x0) < Options.filter_w ? (in_w - x0) : Options.filter_w;
          const int count = (fy_end - fy_begin) * (fx_end - fx_begin);
          for (int c = 0; c < channels; ++c) {
            if constexpr (Kind == PoolKind::average) {
              if constexpr (is_quantized) {
                std::int32_t acc = 0;
                for (int fy = fy_begin; fy < fy_end; ++fy)
                  for (int fx = fx_begin; fx < fx_end; ++fx)
                    acc += in[(((b * in_h) + y0 + fy) * in_w + x0 + fx) * channels + c];
                acc = rounded_average(acc, count);
                out[((b * out_h + oy) * out_w + ox) * channels + c] = static_cast<element>(clamp(acc, range));
              } else {
                float total = 0.0f;
                for (int fy = fy_begin; fy < fy_end; ++fy)
                  for (int fx = fx_begin; fx < fx_end; ++fx)
                    total += in[(((b * in_h) + y0 + fy) * in_w + x0 + fx) * channels + c];
                out[((b * out_h + oy) * out_w + ox) * channels + c] =
                    clamp_float(total / static_cast<float>(count), activation_range_float(Options.activation));
              }
            } else {
              element best = std::numeric_limits<element>::lowest();
              for (int fy = fy_begin; fy < fy_end; ++fy)
                for (int fx = fx_begin; fx < fx_end; ++fx) {
                  const element v = in[(((b * in_h) + y0 + fy) * in_w + x0 + fx) * channels + c];
                  best = v > best ? v : best;
                }
              if constexpr (is_quantized) {
                out[((b * out_h + oy) * out_w + ox) * channels + c] = static_cast<element>(clamp(best, range));
              } else {
                out[((b * out_h + oy) * out_w + ox) * channels + c] =
                    clamp_float(best, activation_range_float(Options.activation));
              }
            }
          }
        }
      }
    }
  }
};

}  // namespace detail

template <class In, class Out, Pool2DOptions Options>
struct AveragePool2D : detail::Pool2D<detail::PoolKind::average, AveragePool2D<In, Out, Options>, In, Out, Options> {};

template <class In, class Out, Pool2DOptions Options>
struct MaxPool2D : detail::Pool2D<detail::PoolKind::max, MaxPool2D<In, Out, Options>, In, Out, Options> {};

}  // namespace tinynet
