// Conv2D's int8 kernel (no groups) on the host (SSE2): each output pixel's receptive field is
// gathered as bytes (whole rows of taps copied at once when they are contiguous), widened to
// int16 sixteen at a time, and run through the channel-lanes kernel (channel_lanes.hpp). Byte by
// byte straight into the int16 patch, every 4-byte pair load would have to wait for two 2-byte
// stores to reach the cache (a store is forwarded only to loads it contains).
#pragma once

#include <cstdint>

#include "channel_lanes.hpp"
#include "simd.hpp"

#if TINYNET_HOST_SIMD
namespace tinynet::host {

// Layer: a Conv2D (layers/conv/conv2d.hpp) with int8 input and one group.
template <class Layer>
struct Conv2D {
  using element = typename Layer::input_element;
  using lanes = ChannelLanes<Layer, Layer::patch_size>;
  static constexpr int in_h = Layer::in_h, in_w = Layer::in_w, in_c = Layer::in_c, out_w = Layer::out_w;
  static constexpr int k_h = Layer::k_h, k_w = Layer::k_w, d_h = Layer::d_h, d_w = Layer::d_w, filter_c = Layer::filter_c;
  static constexpr int host_bytes = (Layer::patch_size + 15) / 16 * 16;

  // The receptive field of pixel p as bytes, then widened into patch.
  static void gather(const element* image, element* bytes, std::int16_t* patch, int p) {
    const int oy = p / out_w, ox = p % out_w;
    const int y0 = oy * Layer::s_h - Layer::pad_h, x0 = ox * Layer::s_w - Layer::pad_w;
    const bool inside = oy >= Layer::interior_y.begin && oy < Layer::interior_y.end && ox >= Layer::interior_x.begin &&
                        ox < Layer::interior_x.end;
    for (int ky = 0; ky < k_h; ++ky) {
      const int y = y0 + ky * d_h;
      element* row = bytes + ky * k_w * filter_c;
      if (inside && d_w == 1) {
        __builtin_memcpy(row, image + (y * in_w + x0) * in_c, static_cast<std::size_t>(k_w * filter_c));
        continue;
      }
      for (int kx = 0; kx < k_w; ++kx) {
        const int x = x0 + kx * d_w;
        if (inside || (y >= 0 && y < in_h && x >= 0 && x < in_w)) {
          __builtin_memcpy(row + kx * filter_c, image + (y * in_w + x) * in_c, static_cast<std::size_t>(filter_c));
        } else {
          for (int i = 0; i < filter_c; ++i) row[kx * filter_c + i] = static_cast<element>(Layer::input::zero_point);
        }
      }
    }
    for (int i = 0; i < host_bytes; i += 16) widen16_to_int16(bytes + i, patch + i);
  }

  // Output pixels first .. first + count - 1 of one image, their outputs from `out` on.
  template <class First>
  static void run(const element* image, element* out, First first, int count) {
    // (Bytes past patch_size stay 0: they meet zero weights, or no weights at all.)
    alignas(16) element bytes[host_bytes]{};
    alignas(16) std::int16_t patch[host_bytes];
    for (int p = 0; p < count; ++p) {
      gather(image, bytes, patch, first + p);
      lanes::run(patch, bytes, out + p * Layer::out_c);
    }
  }
};

}  // namespace tinynet::host
#endif
