// DepthwiseConv2D's int8 kernel (depth multiplier 1) on cores with Arm's DSP extension: four
// channels at a time, the taps inner, the accumulators in registers. One word load brings the
// four channels' inputs of a tap; SXTB16 splits them into (c, c+2) and (c+1, c+3) halfword pairs,
// and SMLABB/SMLATT multiply them with weights that the compiler has already sign-extended and
// paired the same way (Layer::packed_weights). The output stage clamps with SSAT.
//
// TINYNET_NO_PRE_RA_SCHEDULING: GCC's first scheduling pass (before register allocation) hoists
// the loads of the unrolled taps and then spills accumulators and addresses to the stack; without
// it, and with SSAT, kws's depthwise layers need 21 % fewer instructions and less flash. What was
// measured and not kept (two pixels per pass, SMLAD): docs/performance.md, "Depthwise
// convolution on the DSP path".
#pragma once

#include <cstdint>

#include "../../core/output_stage.hpp"

#include "dot.hpp"

namespace tinynet::kernels {
// The DSP kernel's output stage of four channels side by side, one record per group of four
// (Layer::quad_stages; short output stage only): one base register reaches all of them.
struct QuadStage {
  std::int32_t bias[4];
  std::int32_t multiplier[4];
  std::int32_t rounding[4];
  std::int32_t shift[4];
};
}  // namespace tinynet::kernels

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
  // A group's accumulator i to its output byte (the short output stage, SSAT).
  static std::int8_t finish(std::int32_t acc, const QuadStage& s, int i) {
    return Layer::plan::after_short_scale(fixed::short_multiply(acc, s.multiplier[i], s.rounding[i], s.shift[i]));
  }

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
      [[maybe_unused]] const QuadStage* st = nullptr;
      std::int32_t a0, a1, a2, a3;
      if constexpr (Layer::use_quad_stages) {
        st = &Layer::quad_stages[static_cast<std::size_t>(q)];
        a0 = st->bias[0]; a1 = st->bias[1]; a2 = st->bias[2]; a3 = st->bias[3];
      } else {
        a0 = Layer::folded_bias[static_cast<std::size_t>(c)], a1 = Layer::folded_bias[static_cast<std::size_t>(c + 1)];
        a2 = Layer::folded_bias[static_cast<std::size_t>(c + 2)], a3 = Layer::folded_bias[static_cast<std::size_t>(c + 3)];
      }
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
      if constexpr (Layer::use_quad_stages) {
        out[c] = finish(a0, *st, 0); out[c + 1] = finish(a1, *st, 1); out[c + 2] = finish(a2, *st, 2); out[c + 3] = finish(a3, *st, 3);
        continue;
      }
      out[c] = Layer::plan::template requantize<true>(a0, c);
      out[c + 1] = Layer::plan::template requantize<true>(a1, c + 1);
      out[c + 2] = Layer::plan::template requantize<true>(a2, c + 2);
      out[c + 3] = Layer::plan::template requantize<true>(a3, c + 3);
    }
    // The channels left over (out_c not a multiple of 4).
    for (int c = quads * 4; c < out_c; ++c) {
      std::int32_t acc = Layer::folded_bias[static_cast<std::size_t>(c)];
      for (int t = 0; t < taps; ++t) {
        const element* row = Interior ? image + origin + Layer::tap_offsets[static_cast<std::size_t>(t)] : tap_rows[t];
        acc += static_cast<std::int32_t>(Layer::weights[t * out_c + c]) * row[c];
      }
      out[c] = Layer::requantize(acc, c);
    }
  }
};

}  // namespace tinynet::kernels::arm_dsp
#endif
