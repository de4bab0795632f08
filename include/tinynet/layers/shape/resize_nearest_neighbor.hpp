// ResizeNearestNeighbor of an NHWC tensor (TFLM's resize_nearest_neighbor.cc ->
// reference_ops::ResizeNearestNeighbor). The input row and column each output row and column
// reads come from the generator (GetNearestNeighbor's float arithmetic, align_corners and
// half_pixel_centers resolved there): Rows[out_h], Cols[out_w]. Values are copied as they are.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../../core/constant_tables.hpp"
#include "../../core/type_list.hpp"
#include "resize_geometry.hpp"

namespace tinynet {

template <class In, class Out, const auto& Rows, const auto& Cols>
struct ResizeNearestNeighbor : detail::ResizeGeometry<ResizeNearestNeighbor<In, Out, Rows, Cols>, In, Out> {
  using geometry = detail::ResizeGeometry<ResizeNearestNeighbor, In, Out>;
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  using geometry::batches, geometry::in_h, geometry::in_w, geometry::channels, geometry::out_h, geometry::out_w;
  static_assert(geometry::template indices_fit<Rows>(out_h, 1, in_h) &&
                    geometry::template indices_fit<Cols>(out_w, 1, in_w),
                "tinynet::ResizeNearestNeighbor: Rows/Cols must hold one input index per output row/column");

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
