// SpaceToBatchNd and BatchToSpaceNd of a 4-D NHWC or 3-D NHC tensor (TFLM's space_to_batch_nd.cc
// and batch_to_space_nd.cc -> reference_ops; a 3-D tensor is NH1C, with block width 1). Values
// are copied as they are, one pixel's channels at a time, in one pass (no separate pad, crop or
// transpose).
//   SpaceToBatchNd: pad H by top/bottom and W by left/right, then output batch
//     (shift_h * block_w + shift_w) * N + n, pixel (h, w) = padded input n, (h * block_h + shift_h,
//     w * block_w + shift_w). Padding is raw 0, for int8 too (not the zero point): TFLM's
//     Prepare() never sets the output_offset its kernel memsets, so it keeps the 0 of TFLM's
//     zeroed persistent buffer, and TFLM's outputs show 0.
//   BatchToSpaceNd: the inverse without padding: input batch (shift_h * block_w + shift_w) * N + n
//     lands at output n, (h * block_h + shift_h - top, w * block_w + shift_w - left), cropped by
//     top/bottom and left/right.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

struct SpaceBatchOptions {
  int block_h = 1, block_w = 1;
  // Paddings (SpaceToBatchNd) or crops (BatchToSpaceNd) of H and W; a 3-D tensor has none on W.
  int top = 0, bottom = 0, left = 0, right = 0;
};

namespace detail {

// [N, H, W, C] of a 3-D (NHC -> NH1C) or 4-D tensor, as TFLM's ExtendShapeSpaceToBatch.
template <class Shape>
constexpr std::array<int, 4> nhwc_of_3d_or_4d() {
  static_assert(Shape::rank == 3 || Shape::rank == 4,
                "tinynet::SpaceToBatchNd/BatchToSpaceNd: tensors must be 3-D (NHC) or 4-D (NHWC)");
  if constexpr (Shape::rank == 4) return {Shape::dims[0], Shape::dims[1], Shape::dims[2], Shape::dims[3]};
  else return {Shape::dims[0], Shape::dims[1], 1, Shape::dims[2]};
}

template <class Layer, class In, class Out, SpaceBatchOptions Options>
struct SpaceBatchGeometry {
  using element = typename In::element;
  static_assert(element_type_mismatch<Layer, element, typename Out::element>::ok);
  static_assert(In::shape::rank == Out::shape::rank,
                "tinynet::SpaceToBatchNd/BatchToSpaceNd: input and output ranks differ");
  static constexpr auto in_dims = nhwc_of_3d_or_4d<typename In::shape>();
  static constexpr auto out_dims = nhwc_of_3d_or_4d<typename Out::shape>();
  static constexpr int bh = Options.block_h, bw = Options.block_w;
  static_assert(bh > 0 && bw > 0 && Options.top >= 0 && Options.bottom >= 0 && Options.left >= 0 &&
                    Options.right >= 0 && (In::shape::rank == 4 || (bw == 1 && Options.left == 0 && Options.right == 0)),
                "tinynet::SpaceToBatchNd/BatchToSpaceNd: blocks must be positive, paddings/crops non-negative, "
                "and a 3-D tensor has neither a block width nor W paddings");
  static constexpr int channels = in_dims[3];

  static constexpr void copy_pixel(const element* from, element* to) {
    for (int c = 0; c < channels; ++c) to[c] = from[c];
  }
};

}  // namespace detail

template <class In, class Out, SpaceBatchOptions Options>
struct SpaceToBatchNd : detail::SpaceBatchGeometry<SpaceToBatchNd<In, Out, Options>, In, Out, Options> {
  using geometry = detail::SpaceBatchGeometry<SpaceToBatchNd, In, Out, Options>;
  using inputs = TypeList<In>;
  using output = Out;
  using typename geometry::element;
  using geometry::in_dims, geometry::out_dims, geometry::bh, geometry::bw, geometry::channels;
  static constexpr int padded_h = in_dims[1] + Options.top + Options.bottom;
  static constexpr int padded_w = in_dims[2] + Options.left + Options.right;
  static_assert(output_shape_mismatch<SpaceToBatchNd, typename In::shape, typename Out::shape,
                                      padded_h % bh == 0 && padded_w % bw == 0 &&
                                          out_dims[0] == in_dims[0] * bh * bw && out_dims[1] == padded_h / bh &&
                                          out_dims[2] == padded_w / bw && out_dims[3] == channels>::ok);

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static constexpr void run(const element* in, element* out) {
    for (int ob = 0; ob < out_dims[0]; ++ob) {
      const int n = ob % in_dims[0], shift = ob / in_dims[0];
      for (int oh = 0; oh < out_dims[1]; ++oh) {
        const int ih = oh * bh + shift / bw - Options.top;
        for (int ow = 0; ow < out_dims[2]; ++ow, out += channels) {
          const int iw = ow * bw + shift % bw - Options.left;
          if (ih < 0 || ih >= in_dims[1] || iw < 0 || iw >= in_dims[2]) {
            for (int c = 0; c < channels; ++c) out[c] = element{};
          } else {
            geometry::copy_pixel(in + ((n * in_dims[1] + ih) * in_dims[2] + iw) * channels, out);
          }
        }
      }
    }
  }
};

template <class In, class Out, SpaceBatchOptions Options>
struct BatchToSpaceNd : detail::SpaceBatchGeometry<BatchToSpaceNd<In, Out, Options>, In, Out, Options> {
  using geometry = detail::SpaceBatchGeometry<BatchToSpaceNd, In, Out, Options>;
  using inputs = TypeList<In>;
  using output = Out;
  using typename geometry::element;
  using geometry::in_dims, geometry::out_dims, geometry::bh, geometry::bw, geometry::channels;
  static_assert(output_shape_mismatch<BatchToSpaceNd, typename In::shape, typename Out::shape,
                                      in_dims[0] % (bh * bw) == 0 && out_dims[0] == in_dims[0] / (bh * bw) &&
                                          out_dims[1] == in_dims[1] * bh - Options.top - Options.bottom &&
                                          out_dims[2] == in_dims[2] * bw - Options.left - Options.right &&
                                          out_dims[3] == channels>::ok);

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  // Walks the output in order (each output pixel has exactly one input pixel), so every output
  // element is written once, the cropped input pixels are never read.
  static constexpr void run(const element* in, element* out) {
    for (int n = 0; n < out_dims[0]; ++n)
      for (int oh = 0; oh < out_dims[1]; ++oh) {
        const int sh = (oh + Options.top) % bh, ih = (oh + Options.top) / bh;
        for (int ow = 0; ow < out_dims[2]; ++ow, out += channels) {
          const int sw = (ow + Options.left) % bw, iw = (ow + Options.left) / bw;
          const int ib = (sh * bw + sw) * out_dims[0] + n;
          geometry::copy_pixel(in + ((ib * in_dims[1] + ih) * in_dims[2] + iw) * channels, out);
        }
      }
  }
};

}  // namespace tinynet
