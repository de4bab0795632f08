// SpaceToDepth and DepthToSpace of an NHWC tensor (TFLM's space_to_depth.cc and
// depth_to_space.cc -> reference_ops). Both move block_size x block_size pixel blocks to or from
// the channels; values are copied as they are (no requantization). Each is one Transpose of
// 6-D views of the same bytes, so the copy loop is Transpose's:
//   SpaceToDepth: [N, H/b, b, W/b, b, C] -> [N, H/b, W/b, b, b, C] = [N, H/b, W/b, b*b*C]
//   DepthToSpace: [N, H, W, b, b, C]     -> [N, H, b, W, b, C]     = [N, H*b, W*b, C]
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../core/diagnostics.hpp"
#include "../../core/shape.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "transpose.hpp"

namespace tinynet {

namespace detail {

// Swaps axes 2 and 3 of a 6-D view: the one move both ops make.
template <class Element, class InView, class OutView>
using swap_block_axes = Transpose<Tensor<Element, InView>, Tensor<Element, OutView>, TransposeOptions{{0, 1, 3, 2, 4, 5}}>;

}  // namespace detail

template <class In, class Out, int BlockSize>
struct SpaceToDepth {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(In::shape::rank == 4 && Out::shape::rank == 4,
                "tinynet::SpaceToDepth: input and output must be 4-D (NHWC)");
  static_assert(element_type_mismatch<SpaceToDepth, element, typename Out::element>::ok);
  static constexpr int b = BlockSize;
  static constexpr int batches = In::shape::dims[0], height = In::shape::dims[1], width = In::shape::dims[2];
  static constexpr int channels = In::shape::dims[3];
  static_assert(b > 0 && height % b == 0 && width % b == 0,
                "tinynet::SpaceToDepth: the block size must divide the input's height and width");
  static_assert(output_shape_mismatch<SpaceToDepth, typename In::shape, typename Out::shape,
                                      Out::shape::dims[0] == batches && Out::shape::dims[1] == height / b &&
                                          Out::shape::dims[2] == width / b &&
                                          Out::shape::dims[3] == channels * b * b>::ok);
  using move = detail::swap_block_axes<element, Shape<batches, height / b, b, width / b, b, channels>,
                                       Shape<batches, height / b, width / b, b, b, channels>>;

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static constexpr void run(const element* in, element* out) { move::run(in, out); }
};

template <class In, class Out, int BlockSize>
struct DepthToSpace {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(In::shape::rank == 4 && Out::shape::rank == 4,
                "tinynet::DepthToSpace: input and output must be 4-D (NHWC)");
  static_assert(element_type_mismatch<DepthToSpace, element, typename Out::element>::ok);
  static constexpr int b = BlockSize;
  static constexpr int batches = In::shape::dims[0], height = In::shape::dims[1], width = In::shape::dims[2];
  static constexpr int channels = In::shape::dims[3];
  static_assert(b > 0 && channels % (b * b) == 0,
                "tinynet::DepthToSpace: block_size * block_size must divide the input's channels");
  static_assert(output_shape_mismatch<DepthToSpace, typename In::shape, typename Out::shape,
                                      Out::shape::dims[0] == batches && Out::shape::dims[1] == height * b &&
                                          Out::shape::dims[2] == width * b &&
                                          Out::shape::dims[3] == channels / (b * b)>::ok);
  using move = detail::swap_block_axes<element, Shape<batches, height, width, b, b, channels / (b * b)>,
                                       Shape<batches, height, b, width, b, channels / (b * b)>>;

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static constexpr void run(const element* in, element* out) { move::run(in, out); }
};

}  // namespace tinynet
