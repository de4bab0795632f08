// Conv2D with few input channels on DSP cores (the plan: layers/conv/conv2d_few_channels.hpp):
// per output pixel the patch in the plan's order (interior pixels straight from the image, border
// pixels from a copy of their rows with the input zero point in the padding), then four output
// channels x two pixels per pass over the compiler-widened weights (kernels::dot_4x2_wide), the
// last out_c % 4 channels two and one at a time (from their own rows, Layer::few_tail); an odd
// last pixel runs paired with the previous patch, its second results dropped. Requantization:
// the layer's own (core/channel_plan.hpp).
#pragma once

#include <cstdint>

#include "../dot.hpp"

#if TINYNET_ARM_DSP && !TINYNET_ARM_MVE
namespace tinynet::kernels::arm_dsp {

template <class Layer>
struct ConvFewChannels {
  using layout = typename Layer::few_layout;
  using element = std::int8_t;
  static constexpr int count = layout::count, out_c = Layer::out_c, blocks = out_c / 4;
  static constexpr int in_w = Layer::in_w, in_h = Layer::in_h, in_c = Layer::in_c, k_h = Layer::k_h, k_w = Layer::k_w;
  static constexpr const std::int8_t* rows() { return Layer::few_rows.data(); }
  static constexpr const std::uint32_t* wide() { return Layer::few_wide.data(); }
  static constexpr const std::int8_t* tail() { return Layer::few_tail.data(); }  // rows blocks * 4 to out_c - 1

  // The patch of the window whose top-left value is src, rows `stride` values apart.
  static void widen(const element* src, int stride, std::int16_t* patch) {
    if constexpr (layout::row_words > 0) {
      TINYNET_UNROLL
      for (int ky = 0; ky < k_h; ++ky) widen_sxtb16<layout::row_words * 4>(src + ky * stride, patch + ky * layout::row_words * 4);
    }
    if constexpr (layout::row_tail > 0) {
      TINYNET_UNROLL
      for (int t = 0; t < k_h * layout::row_tail; ++t)
        patch[patch_position<count>(layout::head + t)] = src[t / layout::row_tail * stride + layout::row_words * 4 + t % layout::row_tail];
    }
  }

  // (Not inlined: twice in run, kws's first layer took 360 bytes more flash for nothing.)
  TINYNET_NOINLINE static void gather(const element* image, std::int16_t* patch, int p) {
    const int oy = p / Layer::out_w, ox = p % Layer::out_w;
    const int y0 = oy * Layer::s_h - Layer::pad_h, x0 = ox * Layer::s_w - Layer::pad_w;
    if (oy >= Layer::interior_y.begin && oy < Layer::interior_y.end && ox >= Layer::interior_x.begin && ox < Layer::interior_x.end) {
      widen(image + (y0 * in_w + x0) * in_c, in_w * in_c, patch);
      return;
    }
    element window[k_h * layout::row_values];
    for (int ky = 0; ky < k_h; ++ky) {
      const int y = y0 + ky * Layer::d_h;
      for (int kx = 0; kx < k_w; ++kx) {
        const int x = x0 + kx;
        const bool inside = y >= 0 && y < in_h && x >= 0 && x < in_w;
        for (int i = 0; i < in_c; ++i)
          window[ky * layout::row_values + kx * in_c + i] =
              inside ? image[(y * in_w + x) * in_c + i] : static_cast<element>(Layer::input::zero_point);
      }
    }
    widen(window, layout::row_values, patch);
  }

  template <int Pixels, class First>
  [[gnu::noinline]] static void run(const element* image, element* out, First first) {
    alignas(4) std::int16_t patches[2 * count]{};  // (the padding at the end stays 0)
    std::int16_t* const patch0 = patches;
    std::int16_t* const patch1 = patches + count;
    [[maybe_unused]] element dropped[Pixels % 2 != 0 ? out_c : 1];
    for (int p = 0; p < Pixels; p += 2) {
      const bool both = p + 1 < Pixels;
      gather(image, patch0, first + p);
      if (both) gather(image, patch1, first + p + 1);
      element* dst0 = out + p * out_c;
      element* dst1 = both ? dst0 + out_c : dropped;
      for (int c = 0; c < blocks * 4; c += 4) {
        std::int32_t acc[8];
        for (int k = 0; k < 4; ++k) acc[k] = acc[4 + k] = Layer::folded_bias[static_cast<std::size_t>(c + k)];
        kernels::dot_4x2_wide<count>(patch0, wide() + c / 4 * (count / 4) * 8, Layer::few_columns.data() + c * (count % 4),
                                     rows() + c * count, acc);
        for (int k = 0; k < 4; ++k) {
          dst0[c + k] = Layer::requantize(acc[k], c + k);
          dst1[c + k] = Layer::requantize(acc[4 + k], c + k);
        }
      }
      if constexpr (blocks * 4 + 2 <= out_c) {
        constexpr int c = blocks * 4;
        std::int32_t acc[4] = {Layer::folded_bias[c], Layer::folded_bias[c + 1], Layer::folded_bias[c], Layer::folded_bias[c + 1]};
        kernels::dot_2x2<count>(patch0, patch1, tail(), acc);
        dst0[c] = Layer::requantize(acc[0], c);
        dst0[c + 1] = Layer::requantize(acc[1], c + 1);
        dst1[c] = Layer::requantize(acc[2], c);
        dst1[c + 1] = Layer::requantize(acc[3], c + 1);
      }
      if constexpr (out_c % 2 != 0) {
        constexpr int c = out_c - 1;
        std::int32_t acc[2] = {Layer::folded_bias[c], Layer::folded_bias[c]};
        kernels::dot_rows<count, 1>(patch0, tail() + (c - blocks * 4) * count, acc);
        kernels::dot_rows<count, 1>(patch1, tail() + (c - blocks * 4) * count, acc + 1);
        dst0[c] = Layer::requantize(acc[0], c);
        dst1[c] = Layer::requantize(acc[1], c);
      }
    }
  }
};

}  // namespace tinynet::kernels::arm_dsp
#endif
