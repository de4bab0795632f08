// ResizeNearestNeighbor of an NHWC tensor (TFLM's resize_nearest_neighbor.cc ->
// reference_ops::ResizeNearestNeighbor). The input row and column each output row and column
// reads come from the generator (GetNearestNeighbor's float arithmetic, align_corners and
// half_pixel_centers resolved there): Rows[out_h], Cols[out_w]. Values are copied as they are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "../../core/constant_tables.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

template <class In, class Out, const auto& Rows, const auto& Cols>
struct ResizeNearestNeighbor {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(In::shape::rank == 4 && Out::shape::rank == 4,
                "tinynet::ResizeNearestNeighbor: input and output must be 4-D (NHWC)");
  static_assert(element_type_mismatch<ResizeNearestNeighbor, element, typename Out::element>::ok);

  static constexpr int batches = In::shape::dims[0], in_h = In::shape::dims[1], in_w = In::shape::dims[2];
  static constexpr int channels = In::shape::dims[3];
  static constexpr int out_h = Out::shape::dims[1], out_w = Out::shape::dims[2];
  static constexpr bool tables_fit = [] {
    if (static_cast<int>(std::size(Rows)) != out_h || static_cast<int>(std::size(Cols)) != out_w) return false;
    for (int y = 0; y < out_h; ++y)
      if (Rows[y] < 0 || Rows[y] >= in_h) return false;
    for (int x = 0; x < out_w; ++x)
      if (Cols[x] < 0 || Cols[x] >= in_w) return false;
    return true;
  }();
  static_assert(tables_fit, "tinynet::ResizeNearestNeighbor: Rows/Cols must hold one input index per output row/column");
  static_assert(output_shape_mismatch<ResizeNearestNeighbor, typename In::shape, typename Out::shape,
                                      Out::shape::dims[0] == batches && Out::shape::dims[3] == channels>::ok);

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = sizeof(Rows) + sizeof(Cols);  // in flash, read by run()
  static constexpr auto constant_tables() { return ConstantTables<Rows, Cols>{}; }

  static constexpr void run(const element* in, element* out) {
    for (int b = 0; b < batches; ++b)
      for (int y = 0; y < out_h; ++y)
        for (int x = 0; x < out_w; ++x) {
          const element* pixel = in + ((b * in_h + Rows[y]) * in_w + Cols[x]) * channels;
          for (int c = 0; c < channels; ++c) *out++ = pixel[c];
        }
  }
};

}  // namespace tinynet
