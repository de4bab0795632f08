// DepthwiseConv2D's int8 kernel (depth multiplier 1) on cores with Arm's DSP extension: four
// channels at a time, the taps inner, the accumulators in registers. One word load brings the
// four channels' inputs of a tap; SXTB16 splits them into (c, c+2) and (c+1, c+3) halfword pairs,
// and SMLABB/SMLATT multiply them with weights that the compiler has already sign-extended and
// paired the same way (Layer::packed_weights). The output stage clamps with SSAT. The record
// kernels also run packed int4 weights (QuadTapsInt4: one word of eight nibbles per two taps).
//
// TINYNET_NO_PRE_RA_SCHEDULING: GCC's first scheduling pass (before register allocation) hoists
// the loads of the unrolled taps and then spills accumulators and addresses to the stack; without
// it, and with SSAT, kws's depthwise layers need 21 % fewer instructions and less flash. What was
// measured and not kept (two pixels per pass, SMLAD): docs/performance.md, "Depthwise
// convolution on the DSP path".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

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
// The records' packed int4 sums (arm_dsp::QuadTapsInt4) are 4096 times TFLite's:
// |4096 w (x - zero point)| <= 4096 * 8 * 255 per tap, below 2^31 for at most 257 taps.
inline constexpr int int4_quad_max_taps = 257;
}  // namespace tinynet::kernels

#if TINYNET_ARM_DSP
#if defined(__GNUC__) && !defined(__clang__)
#define TINYNET_NO_PRE_RA_SCHEDULING gnu::optimize("no-schedule-insns")
#else
#define TINYNET_NO_PRE_RA_SCHEDULING
#endif

namespace tinynet::kernels::arm_dsp {

// What the record kernels share: one tap of four channels, the inputs widened with the input
// offset added (SXTAB16, so the records hold the raw bias) to halfword pairs `even` (c, c+2) and
// `odd` (c+1, c+3), times the weights paired the same way. (The widening stays in each form's
// tap, ahead of its weight loads: without pre-RA scheduling GCC keeps that order, and with the
// weights loaded first the int8 kernel took 15,000 more instructions per kws layer.)
[[gnu::always_inline]] inline void quad_multiply(std::uint32_t even_word, std::uint32_t odd_word, std::uint32_t w_even, std::uint32_t w_odd, std::int32_t& a0,
                          std::int32_t& a1, std::int32_t& a2, std::int32_t& a3) {
  const std::int32_t even = static_cast<std::int32_t>(even_word), odd = static_cast<std::int32_t>(odd_word);
  a0 = __smlabb(even, static_cast<std::int32_t>(w_even), a0);
  a2 = __smlatt(even, static_cast<std::int32_t>(w_even), a2);
  a1 = __smlabb(odd, static_cast<std::int32_t>(w_odd), a1);
  a3 = __smlatt(odd, static_cast<std::int32_t>(w_odd), a3);
}

// The record kernels' weight forms: how a group of four channels stores its taps' weights
// (words per group), where the accumulators start and how one ends in an output value.
// int8 weights (Layer::packed_weights): two words of sign-extended halfwords per tap; the
// accumulators start at the bias.
template <std::int32_t OutputOffset, QuantizedRange Range>
struct QuadTaps {
  template <int Taps>
  static constexpr int words = 2 * Taps;
  [[gnu::always_inline]] static std::uint32_t mask() { return 0; }  // (no nibbles)
  [[gnu::always_inline]] static std::int32_t start(const QuadStage& s, int i) { return s.bias[i]; }
  // Tap t (the loops are unrolled: t is a constant).
  [[gnu::always_inline]] static inline void tap(int t, std::uint32_t word, const std::uint32_t* w, std::uint32_t, std::uint32_t offset_pair, std::int32_t& a0,
                         std::int32_t& a1, std::int32_t& a2, std::int32_t& a3) {
    const std::uint32_t even = sxtab16(offset_pair, word), odd = sxtab16_ror8(offset_pair, word);
    quad_multiply(even, odd, w[2 * t], w[2 * t + 1], a0, a1, a2, a3);
  }
  [[gnu::always_inline]] static std::int8_t finish(std::int32_t acc, const QuadStage& s, int i) {
    return static_cast<std::int8_t>(after_short_scale<OutputOffset, Range>(fixed::short_multiply(acc, s.multiplier[i], s.rounding[i], s.shift[i])));
  }
};

// Packed int4 weights (Layer::int4_words, kernels/int4_dot.hpp: depthwise_int4_words): one word
// per two taps, each nibble masked (`mask` = 0xF000F000, held in a register) to the top of its
// halfword, the signed value 4096 w. The sums are 4096 times the int8 ones, exact: the
// accumulators start at 0, and the records hold twice the bias, so that one ADD with ASR #11
// gives twice TFLite's accumulator, which the short stage doubles first anyway
// (fixed::short_multiply_doubled).
template <std::int32_t OutputOffset, QuantizedRange Range>
struct QuadTapsInt4 {
  template <int Taps>
  static constexpr int words = (Taps + 1) / 2;  // (the layers send at most int4_quad_max_taps)
  [[gnu::always_inline]] static std::int32_t start(const QuadStage&, int) { return 0; }
  // The nibble mask, in a register, so that each weight is one `and x, mask, u, lsl #k` (GCC,
  // seeing an encodable immediate, would shift and mask in two).
  [[gnu::always_inline]] static std::uint32_t mask() {
    std::uint32_t m = 0xF000F000u;
    asm("" : "+r"(m));
    return m;
  }
  [[gnu::always_inline]] static inline void tap(int t, std::uint32_t word, const std::uint32_t* w, std::uint32_t mask, std::uint32_t offset_pair, std::int32_t& a0,
                         std::int32_t& a1, std::int32_t& a2, std::int32_t& a3) {
    const std::uint32_t even = sxtab16(offset_pair, word), odd = sxtab16_ror8(offset_pair, word);
    const std::uint32_t u = w[t / 2];  // one load for taps 2p and 2p + 1
    if (t % 2 == 0) quad_multiply(even, odd, u & mask, (u << 4) & mask, a0, a1, a2, a3);
    else quad_multiply(even, odd, (u << 8) & mask, (u << 12) & mask, a0, a1, a2, a3);
  }
  [[gnu::always_inline]] static std::int8_t finish(std::int32_t acc, const QuadStage& s, int i) {
    const std::int32_t twice = s.bias[i] + (acc >> 11);  // acc is 4096 times the sum: exact
    return static_cast<std::int8_t>(
        after_short_scale<OutputOffset, Range>(fixed::short_multiply_doubled(twice, s.multiplier[i], s.rounding[i], s.shift[i])));
  }
};

// The four-channel record kernel of an interior pixel, for one geometry (row stride, channels,
// kernel width, dilation, taps, groups of four) and output stage and weight form (Form, as
// QuadTaps: the offset added after the short scale, the clamp): every tap at a constant offset
// from `window`, its top-left input.
template <int RowStride, int InC, int KW, int DH, int DW, int Taps, int Quads, class Form>
struct DepthwiseRecords {
  [[TINYNET_NO_PRE_RA_SCHEDULING]] static void pixel(const std::int8_t* window, std::int8_t* out, const std::uint32_t* w,
                                                     const QuadStage* st, std::uint32_t offset_pair) {
    const std::uint32_t mask = Form::mask();
    for (int q = 0; q < Quads; ++q, w += Form::template words<Taps>, ++st, window += 4, out += 4) {
      std::int32_t a0 = Form::start(*st, 0), a1 = Form::start(*st, 1), a2 = Form::start(*st, 2), a3 = Form::start(*st, 3);
      TINYNET_UNROLL
      for (int t = 0; t < Taps; ++t)
        Form::tap(t, load_word(window + ((t / KW) * DH * RowStride + (t % KW) * DW * InC)), w, mask, offset_pair, a0, a1, a2, a3);
      out[0] = Form::finish(a0, *st, 0); out[1] = Form::finish(a1, *st, 1); out[2] = Form::finish(a2, *st, 2); out[3] = Form::finish(a3, *st, 3);
    }
  }
};

// The border pixels' record kernels: one function per (kernel rows kept, kernel columns kept)
// class, bit masks, running only those taps (a padded tap adds nothing). The row stride, channel
// count and groups of four are arguments, so that every layer with the same kernel shape,
// dilation, output stage and weight form shares these functions (vww_96_int8's 13 depthwise
// layers of 13 channel counts: one set), at one address computation per tap.
template <int KW, int DH, int DW, int Taps, class Form>
struct DepthwiseBorders {
  template <unsigned Rows, unsigned Cols>
  [[TINYNET_NO_PRE_RA_SCHEDULING]] static void pixel(const std::int8_t* window, std::int8_t* out, const std::uint32_t* w,
                                                     const QuadStage* st, std::uint32_t offset_pair, int row_stride, int in_c,
                                                     int quads) {
    const std::uint32_t mask = Form::mask();
    for (int q = 0; q < quads; ++q, w += Form::template words<Taps>, ++st, window += 4, out += 4) {
      std::int32_t a0 = Form::start(*st, 0), a1 = Form::start(*st, 1), a2 = Form::start(*st, 2), a3 = Form::start(*st, 3);
      TINYNET_UNROLL
      for (int t = 0; t < Taps; ++t) {
        if (!((Rows >> (t / KW)) & 1u) || !((Cols >> (t % KW)) & 1u)) continue;
        Form::tap(t, load_word(window + ((t / KW) * DH * row_stride + (t % KW) * DW * in_c)), w, mask, offset_pair, a0, a1, a2, a3);
      }
      out[0] = Form::finish(a0, *st, 0); out[1] = Form::finish(a1, *st, 1); out[2] = Form::finish(a2, *st, 2); out[3] = Form::finish(a3, *st, 3);
    }
  }
  // A border pixel: the function of its class (row mask, column mask), among the classes given.
  template <auto RowClasses, auto ColClasses>
  static void border_pixel(const std::int8_t* window, std::int8_t* out, const std::uint32_t* w, const QuadStage* st,
                           std::uint32_t offset_pair, unsigned rows, unsigned cols, int row_stride, int in_c, int quads) {
    by_row<RowClasses, ColClasses>(window, out, w, st, offset_pair, rows, cols, row_stride, in_c, quads,
                                   std::make_index_sequence<RowClasses.size()>{});
  }
  template <auto RowClasses, auto ColClasses, std::size_t... R>
  static void by_row(const std::int8_t* window, std::int8_t* out, const std::uint32_t* w, const QuadStage* st,
                     std::uint32_t offset_pair, unsigned rows, unsigned cols, int row_stride, int in_c, int quads,
                     std::index_sequence<R...>) {
    (void)((rows == RowClasses[R] && (by_col<RowClasses[R], ColClasses>(window, out, w, st, offset_pair, cols, row_stride, in_c, quads,
                                                                         std::make_index_sequence<ColClasses.size()>{}),
                                      true)) ||
           ...);
  }
  template <unsigned Rows, auto ColClasses, std::size_t... C>
  static void by_col(const std::int8_t* window, std::int8_t* out, const std::uint32_t* w, const QuadStage* st,
                     std::uint32_t offset_pair, unsigned cols, int row_stride, int in_c, int quads, std::index_sequence<C...>) {
    (void)((cols == ColClasses[C] && (pixel<Rows, ColClasses[C]>(window, out, w, st, offset_pair, row_stride, in_c, quads), true)) ||
           ...);
  }
};

// Along one axis: of the kernel's Size taps, Dilation apart from `start`, those inside
// [0, Extent), as a bit mask (bit k for tap k).
template <int Size, int Dilation, int Extent>
constexpr unsigned valid_taps(int start) {
  unsigned mask = 0;
  for (int k = 0; k < Size; ++k) {
    const int at = start + k * Dilation;
    if (at >= 0 && at < Extent) mask |= 1u << k;
  }
  return mask;
}

// Layer: a DepthwiseConv2D (layers/conv/depthwise_conv2d.hpp) with int8 input, multiplier 1.
template <class Layer>
struct DepthwiseConv2D {
  using element = typename Layer::input_element;
  static constexpr int taps = Layer::taps, quads = Layer::quads, out_c = Layer::out_c;
  // ---- four-channel records (Layer::use_quad_stages): the input offset added as inputs widen ----
  // SXTAB16 gives (x + input_offset) halfwords, so the records hold the raw bias and a tap in the
  // padding adds nothing: each pixel runs only its valid taps. Which kernel rows (columns) a
  // window keeps is a bit mask; the masks that occur are enumerated at compile time, one pixel
  // function per (row mask, column mask) class, chosen per pixel by comparisons.
  static constexpr unsigned full_rows = (1u << Layer::k_h) - 1, full_cols = (1u << Layer::k_w) - 1;
  // The kernel rows (columns) whose taps fall inside the image for a window starting at in_y0
  // (in_x0): one bit per row (column), from valid_taps.
  static constexpr unsigned row_mask(int in_y0) { return valid_taps<Layer::k_h, Layer::d_h, Layer::in_h>(in_y0); }
  static constexpr unsigned col_mask(int in_x0) { return valid_taps<Layer::k_w, Layer::d_w, Layer::in_w>(in_x0); }
  // The distinct masks of the output rows (columns), in order of first appearance.
  template <bool Rows>
  static constexpr auto classes_impl() {
    constexpr int n = Rows ? Layer::out_h : Layer::out_w;
    std::array<unsigned, static_cast<std::size_t>(n)> all{};
    int count = 0;
    for (int o = 0; o < n; ++o) {
      const unsigned m = Rows ? row_mask(o * Layer::s_h - Layer::pad_h) : col_mask(o * Layer::s_w - Layer::pad_w);
      bool seen = false;
      for (int i = 0; i < count; ++i) seen = seen || all[static_cast<std::size_t>(i)] == m;
      if (!seen) all[static_cast<std::size_t>(count++)] = m;
    }
    return std::pair{all, count};
  }
  template <bool Rows>
  static constexpr auto classes() {
    constexpr auto found = classes_impl<Rows>();
    std::array<unsigned, static_cast<std::size_t>(found.second)> out{};
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = found.first[i];
    return out;
  }
  static constexpr auto row_classes = classes<true>();
  static constexpr auto col_classes = classes<false>();

  // The kernels of this geometry and output stage: layers of the same shape share the interior
  // pixel's, layers of the same kernel shape and output stage the border classes'.
  // The weights as words: int8 (packed_weights) or packed int4 (int4_words).
  using form = std::conditional_t<Layer::packed_int4, QuadTapsInt4<Layer::plan::short_stage_output_offset, Layer::range>,
                                  QuadTaps<Layer::plan::short_stage_output_offset, Layer::range>>;
  static constexpr const std::uint32_t* weight_words() {
    if constexpr (Layer::packed_int4) return Layer::int4_words.data();
    else return Layer::packed_weights.data();
  }
  using records = DepthwiseRecords<Layer::in_w * Layer::in_c, Layer::in_c, Layer::k_w, Layer::d_h, Layer::d_w, taps, quads, form>;
  using borders = DepthwiseBorders<Layer::k_w, Layer::d_h, Layer::d_w, taps, form>;
  // The record path's pixel: interior pixels straight to the full window's function, border
  // pixels to their class's.
  template <bool Interior>
  static void pixel_records(const element* image, element* out, int in_y0, int in_x0) {
    const int origin = (in_y0 * Layer::in_w + in_x0) * Layer::in_c;
    constexpr std::uint32_t offset = static_cast<std::uint16_t>(static_cast<std::int16_t>(-Layer::input_zero_point));
    constexpr std::uint32_t offset_pair = offset | (offset << 16);
    const element* window = image + origin;  // a border window starts outside the image; only valid taps are read
    if constexpr (Interior) {
      records::pixel(window, out, weight_words(), Layer::quad_stages.data(), offset_pair);
    } else {
      borders::template border_pixel<row_classes, col_classes>(window, out, weight_words(), Layer::quad_stages.data(),
                                                              offset_pair, row_mask(in_y0), col_mask(in_x0),
                                                              Layer::in_w * Layer::in_c, Layer::in_c, quads);
    }
    if constexpr (quads * 4 < out_c) leftover_channels<Interior>(image, out, origin, in_y0, in_x0);
  }

  // The 1-3 channels left over (out_c not a multiple of 4), taps unrolled with their weights as
  // constants: folded bias; a border pixel's padded taps read the zero point. Channel and tap are
  // template arguments and every constant (weight, bias, stage word) a constexpr value, so no
  // build reads them from a table: at -Os too the layer keeps no bias, weight or stage table
  // beside its records (which DepthwiseConv2D::weight_bytes counts alone).
  template <bool Interior>
  static void leftover_channels(const element* image, element* out, int origin, int in_y0, int in_x0) {
    const unsigned rows = Interior ? full_rows : row_mask(in_y0), cols = Interior ? full_cols : col_mask(in_x0);
    [&]<int... L>(std::integer_sequence<int, L...>) {
      (leftover_channel<Interior, quads * 4 + L>(image + origin, out, rows, cols, std::make_integer_sequence<int, taps>{}), ...);
    }(std::make_integer_sequence<int, out_c - quads * 4>{});
  }
  template <int T, int C>
  static constexpr std::int32_t leftover_weight = static_cast<std::int32_t>(Layer::weights[T * out_c + C]);
  template <bool Interior, int C, int... T>
  TINYNET_ALWAYS_INLINE static void leftover_channel(const element* window, element* out, unsigned rows, unsigned cols,
                                                      std::integer_sequence<int, T...>) {
    constexpr std::int32_t bias = Layer::folded_bias[static_cast<std::size_t>(C)];
    constexpr std::size_t entry = Layer::plan::entry(C);
    constexpr std::int32_t multiplier = Layer::short_stage_table.multiplier[entry];
    constexpr std::int32_t rounding = Layer::short_stage_table.rounding[entry];
    constexpr int right_shift = Layer::short_stage_table.right_shift[entry];
    const auto tap = [&](auto t) -> std::int32_t {
      constexpr int k = decltype(t)::value;
      const bool inside = Interior || (((rows >> (k / Layer::k_w)) & 1u) && ((cols >> (k % Layer::k_w)) & 1u));
      return inside ? window[Layer::tap_offsets[static_cast<std::size_t>(k)] + C] : static_cast<std::int32_t>(Layer::input_zero_point);
    };
    const std::int32_t acc = (bias + ... + (leftover_weight<T, C> * tap(std::integral_constant<int, T>{})));
    out[C] = Layer::plan::after_short_scale(fixed::short_multiply(acc, multiplier, rounding, right_shift));
  }

  // One output pixel, all channels, without records (folded bias, the long output stage); the
  // window's top-left input is (in_y0, in_x0).
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
