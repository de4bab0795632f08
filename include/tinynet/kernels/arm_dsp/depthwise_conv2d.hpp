// DepthwiseConv2D's int8 kernel (depth multiplier 1) on cores with Arm's DSP extension: four
// channels at a time, the taps inner, the accumulators in registers. One word load brings the
// four channels' inputs of a tap; SXTB16 splits them into (c, c+2) and (c+1, c+3) halfword pairs,
// and SMLABB/SMLATT multiply them with weights that the compiler has already sign-extended and
// paired the same way (Layer::packed_weights). Interior pixels go in pairs (pair(): each weight
// word serves two outputs); the output stage clamps with SSAT. Measured effects and why SMLAD
// does not pay here: docs/performance.md, "Depthwise convolution on the DSP path".
//
// TINYNET_NO_PRE_RA_SCHEDULING: GCC's first scheduling pass (before register allocation) hoists
// the loads of the unrolled taps and then spills the accumulators to the stack; without it the
// pair kernel keeps its eight accumulators in registers (kws's depthwise layers: see the doc).
#pragma once

#include <cstdint>

#include "dot.hpp"

#if TINYNET_ARM_DSP
#if defined(__GNUC__) && !defined(__clang__)
#define TINYNET_NO_PRE_RA_SCHEDULING gnu::optimize("no-schedule-insns")
#else
#define TINYNET_NO_PRE_RA_SCHEDULING
#endif

namespace tinynet::kernels::arm_dsp {

// Layer: a DepthwiseConv2D (layers/conv/depthwise_conv2d.hpp) with int8 input, multiplier 1.
template <class Layer>
struct DepthwiseConv2D {
  using element = typename Layer::input_element;
  static constexpr int taps = Layer::taps, quads = Layer::quads, out_c = Layer::out_c;

  // One output pixel, all channels; the window's top-left input is (in_y0, in_x0).
  template <bool Interior>
  [[TINYNET_NO_PRE_RA_SCHEDULING]] static void pixel(const element* image, element* out, int in_y0, int in_x0) {
    // Where each tap reads (the pixel's input, or the padding row): computed once per pixel,
    // shared by all channels. Interior pixels use compile-time offsets instead.
    const element* tap_rows[Interior ? 1 : taps];
    const int origin = (in_y0 * Layer::in_w + in_x0) * Layer::in_c;
    if constexpr (!Interior) {
      for (int t = 0; t < taps; ++t) tap_rows[t] = Layer::template tap_row<false>(image, in_y0, in_x0, t);
    }
    for (int q = 0; q < quads; ++q) {
      const int c = 4 * q;
      const std::uint32_t* w = &Layer::packed_weights[static_cast<std::size_t>(q * taps * 2)];
      std::int32_t a0 = Layer::folded_bias[static_cast<std::size_t>(c)], a1 = Layer::folded_bias[static_cast<std::size_t>(c + 1)];
      std::int32_t a2 = Layer::folded_bias[static_cast<std::size_t>(c + 2)], a3 = Layer::folded_bias[static_cast<std::size_t>(c + 3)];
      TINYNET_UNROLL
      for (int t = 0; t < taps; ++t) {
        const std::uint32_t word = Interior ? load_word(image + origin + Layer::tap_offsets[static_cast<std::size_t>(t)] + c)
                                            : load_word(tap_rows[t] + c);
        const std::int32_t even = static_cast<std::int32_t>(__sxtb16(word));     // (c, c+2)
        const std::int32_t odd = static_cast<std::int32_t>(sxtb16_ror8(word));   // (c+1, c+3)
        const std::int32_t w_even = static_cast<std::int32_t>(w[2 * t]);
        const std::int32_t w_odd = static_cast<std::int32_t>(w[2 * t + 1]);
        a0 = __smlabb(even, w_even, a0);
        a2 = __smlatt(even, w_even, a2);
        a1 = __smlabb(odd, w_odd, a1);
        a3 = __smlatt(odd, w_odd, a3);
      }
      out[c] = Layer::plan::template requantize<true>(a0, c);
      out[c + 1] = Layer::plan::template requantize<true>(a1, c + 1);
      out[c + 2] = Layer::plan::template requantize<true>(a2, c + 2);
      out[c + 3] = Layer::plan::template requantize<true>(a3, c + 3);
    }
    // The channels left over (out_c not a multiple of 4).
    for (int c = quads * 4; c < out_c; ++c) leftover<Interior>(image + origin, tap_rows, out, c);
  }

  // Two neighbouring interior output pixels of one row (the second's window starts s_w pixels to
  // the right): each weight word is loaded once for both, and with stride 1 the compiler loads
  // each input word once too (the second pixel's tap (ky, kx) is the first's (ky, kx + 1)). Eight
  // accumulators stay in registers; the eight outputs are stored after all are requantized, so
  // the per-channel constants of the output stage are loaded once for both pixels.
  [[gnu::noinline, TINYNET_NO_PRE_RA_SCHEDULING]] static void pair(const element* image, element* out, int in_y0, int in_x0) {
    const element* base = image + (in_y0 * Layer::in_w + in_x0) * Layer::in_c;
    constexpr int next = Layer::s_w * Layer::in_c;
    for (int q = 0; q < quads; ++q) {
      const int c = 4 * q;
      const std::uint32_t* w = &Layer::packed_weights[static_cast<std::size_t>(q * taps * 2)];
      std::int32_t a0 = Layer::folded_bias[static_cast<std::size_t>(c)], a1 = Layer::folded_bias[static_cast<std::size_t>(c + 1)];
      std::int32_t a2 = Layer::folded_bias[static_cast<std::size_t>(c + 2)], a3 = Layer::folded_bias[static_cast<std::size_t>(c + 3)];
      std::int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
      TINYNET_UNROLL
      for (int t = 0; t < taps; ++t) {
        const element* x = base + Layer::tap_offsets[static_cast<std::size_t>(t)] + c;
        const std::int32_t w_even = static_cast<std::int32_t>(w[2 * t]);
        const std::int32_t w_odd = static_cast<std::int32_t>(w[2 * t + 1]);
        const std::uint32_t first = load_word(x), second = load_word(x + next);
        const std::int32_t even = static_cast<std::int32_t>(__sxtb16(first));
        const std::int32_t odd = static_cast<std::int32_t>(sxtb16_ror8(first));
        a0 = __smlabb(even, w_even, a0);
        a2 = __smlatt(even, w_even, a2);
        a1 = __smlabb(odd, w_odd, a1);
        a3 = __smlatt(odd, w_odd, a3);
        const std::int32_t even2 = static_cast<std::int32_t>(__sxtb16(second));
        const std::int32_t odd2 = static_cast<std::int32_t>(sxtb16_ror8(second));
        b0 = __smlabb(even2, w_even, b0);
        b2 = __smlatt(even2, w_even, b2);
        b1 = __smlabb(odd2, w_odd, b1);
        b3 = __smlatt(odd2, w_odd, b3);
      }
      const element r0 = Layer::plan::template requantize<true>(a0, c), s0 = Layer::plan::template requantize<true>(b0, c);
      const element r1 = Layer::plan::template requantize<true>(a1, c + 1), s1 = Layer::plan::template requantize<true>(b1, c + 1);
      const element r2 = Layer::plan::template requantize<true>(a2, c + 2), s2 = Layer::plan::template requantize<true>(b2, c + 2);
      const element r3 = Layer::plan::template requantize<true>(a3, c + 3), s3 = Layer::plan::template requantize<true>(b3, c + 3);
      out[c] = r0;
      out[c + 1] = r1;
      out[c + 2] = r2;
      out[c + 3] = r3;
      out[out_c + c] = s0;
      out[out_c + c + 1] = s1;
      out[out_c + c + 2] = s2;
      out[out_c + c + 3] = s3;
    }
    for (int c = quads * 4; c < out_c; ++c) {
      leftover<true>(base, nullptr, out, c);
      leftover<true>(base + next, nullptr, out + out_c, c);
    }
  }

  // One output row: interior pixels in pairs, the rest one by one.
  static void row(const element* image, element* out_row, int oy) {
    const int y0 = oy * Layer::s_h - Layer::pad_h;
    const bool row_inside = oy >= Layer::interior_y.begin && oy < Layer::interior_y.end;
    int ox = 0;
    for (; ox < Layer::out_w; ++ox) {
      const int x0 = ox * Layer::s_w - Layer::pad_w;
      element* dst = out_row + ox * out_c;
      const bool inside = row_inside && ox >= Layer::interior_x.begin && ox < Layer::interior_x.end;
      if (inside && ox + 1 < Layer::interior_x.end) {
        pair(image, dst, y0, x0);
        ++ox;
      } else if (inside) {
        pixel<true>(image, dst, y0, x0);
      } else {
        pixel<false>(image, dst, y0, x0);
      }
    }
  }

  // One channel left over (out_c not a multiple of 4) of one pixel.
  template <bool Interior>
  static void leftover(const element* origin, const element* const* tap_rows, element* out, int c) {
    std::int32_t acc = Layer::folded_bias[static_cast<std::size_t>(c)];
    for (int t = 0; t < taps; ++t) {
      const element* x = Interior ? origin + Layer::tap_offsets[static_cast<std::size_t>(t)] : tap_rows[t];
      acc += static_cast<std::int32_t>(Layer::weights[t * out_c + c]) * x[c];
    }
    out[c] = Layer::requantize(acc, c);
  }
};

}  // namespace tinynet::kernels::arm_dsp
#endif
