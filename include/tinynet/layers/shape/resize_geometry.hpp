// What ResizeNearestNeighbor and ResizeBilinear share: an NHWC input and output with the same
// batches and channels, and the check that an index table the generator wrote (input rows or
// columns per output row or column) stays inside the input.
#pragma once

#include <cstddef>
#include <iterator>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"

namespace tinynet::detail {

template <class Layer, class In, class Out>
struct ResizeGeometry {
  static_assert(In::shape::rank == 4 && Out::shape::rank == 4,
                "tinynet: a resize op's input and output must be 4-D (NHWC)");
  static_assert(element_type_mismatch<Layer, typename In::element, typename Out::element>::ok);
  static constexpr int batches = In::shape::dims[0], in_h = In::shape::dims[1], in_w = In::shape::dims[2];
  static constexpr int channels = In::shape::dims[3];
  static constexpr int out_h = Out::shape::dims[1], out_w = Out::shape::dims[2];
  static_assert(output_shape_mismatch<Layer, typename In::shape, typename Out::shape,
                                      Out::shape::dims[0] == batches && Out::shape::dims[3] == channels>::ok);

  // Table holds `count` input indices per output index, for `outputs` outputs, each in [0, bound).
  template <const auto& Table>
  static constexpr bool indices_fit(int outputs, int count, int bound) {
    if (static_cast<int>(std::size(Table)) != outputs * count) return false;
    for (int i = 0; i < outputs * count; ++i)
      if (Table[i] < 0 || Table[i] >= bound) return false;
    return true;
  }
};

}  // namespace tinynet::detail
