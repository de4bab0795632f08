// DepthwiseConv2D's int8 kernel (depth multiplier 1) on the host (SSE2): sixteen (or eight)
// channels per pass, two taps per pmaddwd. The two taps' input bytes are interleaved and then
// placed in the high halves of int16 lanes, which makes the pairs (256 x_t[c], 256 x_t+1[c])
// without any sign extension; the compiler has laid the weights out as the matching
// (w_t[c], w_t+1[c]) pairs (an odd last tap is paired with a zero weight), and the sums are
// divided by 256 at the end (exact: each is a multiple of 256, and below 2^31 for fewer than 512
// taps). Border taps read a row of input zero points. Only for channel counts that are a multiple
// of 8 (applies); the layer runs its portable loops otherwise.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "simd.hpp"

#if TINYNET_HOST_SIMD
namespace tinynet::host {

// Layer: a DepthwiseConv2D (layers/conv/depthwise_conv2d.hpp) with int8 input, multiplier 1.
template <class Layer>
struct DepthwiseConv2D {
  using element = typename Layer::input_element;
  static constexpr int taps = Layer::taps, out_c = Layer::out_c;
  static constexpr int tap_pairs = (taps + 1) / 2;
  static constexpr bool applies = out_c % 8 == 0 && taps < 512;

  alignas(16) static constexpr std::array<std::int16_t, static_cast<std::size_t>(tap_pairs * out_c * 2)> weights = [] {
    std::array<std::int16_t, static_cast<std::size_t>(tap_pairs * out_c * 2)> out{};
    for (int t = 0; t < taps; ++t)
      for (int c = 0; c < out_c; ++c) out[static_cast<std::size_t>(((t / 2) * out_c + c) * 2 + t % 2)] = Layer::weights[t * out_c + c];
    return out;
  }();
  using requantizer = VectorRequantizer<Layer>;

  // Channels c .. c + Width - 1 (Width 8 or 16) of one pixel; rows[t] is where tap t reads.
  template <int Width>
  static void channel_block(const element* const* rows, element* out, int c) {
    i32x4 a0{}, a1{}, a2{}, a3{};
    const std::int16_t* w = &weights[static_cast<std::size_t>(c * 2)];
    for (int j = 0; j < tap_pairs; ++j, w += out_c * 2) {
      const element* first = rows[2 * j] + c;
      const element* second = rows[2 * j + 1] + c;
      if constexpr (Width == 16) {
        const i8x16 x0 = load<i8x16>(first), x1 = load<i8x16>(second);
        const i8x16 low = interleave<0>(x0, x1), high = interleave<1>(x0, x1);
        a0 += madd(high_halves<0>(low), load<i16x8>(w));
        a1 += madd(high_halves<1>(low), load<i16x8>(w + 8));
        a2 += madd(high_halves<0>(high), load<i16x8>(w + 16));
        a3 += madd(high_halves<1>(high), load<i16x8>(w + 24));
      } else {
        const i8x16 pairs = __builtin_shufflevector(load<i8x8>(first), load<i8x8>(second), 0, 8, 1, 9, 2, 10, 3, 11, 4, 12,
                                                    5, 13, 6, 14, 7, 15);
        a0 += madd(high_halves<0>(pairs), load<i16x8>(w));
        a1 += madd(high_halves<1>(pairs), load<i16x8>(w + 8));
      }
    }
    const auto finish = [&](i32x4 acc, int channel) {
      return requantizer::scale((acc >> 8) + load<i32x4>(&requantizer::bias[static_cast<std::size_t>(channel)]), channel);
    };
    constexpr auto range = Layer::range;
    store_bytes(out + c, narrow_clamped(finish(a0, c), finish(a1, c + 4), range.min, range.max), 8);
    if constexpr (Width == 16)
      store_bytes(out + c + 8, narrow_clamped(finish(a2, c + 8), finish(a3, c + 12), range.min, range.max), 8);
  }

  // One output pixel, all channels; the window's top-left input is (in_y0, in_x0).
  template <bool Interior>
  static void pixel(const element* image, element* out, int in_y0, int in_x0) {
    // Where each tap reads (an odd last tap repeats the one before: its weights are zero).
    const element* rows[2 * tap_pairs];
    for (int t = 0; t < taps; ++t) rows[t] = Layer::template tap_row<Interior>(image, in_y0, in_x0, t);
    if constexpr (taps % 2 != 0) rows[taps] = rows[taps - 1];
    int c = 0;
    for (; c + 16 <= out_c; c += 16) channel_block<16>(rows, out, c);
    if (c < out_c) channel_block<8>(rows, out, c);
  }
};

}  // namespace tinynet::host
#endif
