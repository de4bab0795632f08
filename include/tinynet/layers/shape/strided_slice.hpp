// StridedSlice of a tensor of rank <= 4 with constant begin/stride (the generator resolves
// TFLite's begin/end/ellipsis/shrink masks into a start, a stride and a count per dimension).
// Output element i walks the counts in row-major order; shrunk axes have count 1.
#pragma once

#include <array>
#include <cstdint>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

struct StridedSliceOptions {
  // Per dimension of the input (rank <= 4, unused trailing entries ignored).
  std::array<int, 4> start{};
  std::array<int, 4> stride{1, 1, 1, 1};
  std::array<int, 4> count{1, 1, 1, 1};
};

template <class In, class Out, StridedSliceOptions Options>
struct StridedSlice {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static constexpr int rank = In::shape::rank;
  static_assert(rank <= 4, "tinynet::StridedSlice supports tensors of rank <= 4");
  static_assert(element_type_mismatch<StridedSlice, element, typename Out::element>::ok);
  static_assert(In::is_float || (In::scale == Out::scale && In::zero_point == Out::zero_point),
                "tinynet::StridedSlice: input and output must have the same quantization");

  // Dimensions, starts, strides and counts extended to 4-D with leading unit dimensions.
  static constexpr std::array<int, 4> in_dims = NHWC<typename In::shape>::extended;
  static constexpr auto extend = [](std::array<int, 4> values, int fill) {
    std::array<int, 4> out{fill, fill, fill, fill};
    for (int i = 0; i < rank; ++i) out[static_cast<std::size_t>(4 - rank + i)] = values[static_cast<std::size_t>(i)];
    return out;
  };
  static constexpr std::array<int, 4> start = extend(Options.start, 0);
  static constexpr std::array<int, 4> stride = extend(Options.stride, 1);
  static constexpr std::array<int, 4> count = extend(Options.count, 1);
  static constexpr bool inside = [] {
    for (std::size_t d = 0; d < 4; ++d) {
      if (count[d] < 1) return false;
      const int first = start[d], last = start[d] + (count[d] - 1) * stride[d];
      if (first < 0 || first >= in_dims[d] || last < 0 || last >= in_dims[d]) return false;
    }
    return true;
  }();
  static_assert(inside, "tinynet::StridedSlice: the slice reaches outside the input");
  static_assert(output_shape_mismatch<StridedSlice, typename In::shape, typename Out::shape,
                                      Out::size == count[0] * count[1] * count[2] * count[3]>::ok);

  // Whether the slice is one contiguous run of the input's bytes (leading axes of count 1, then
  // one axis taken with stride 1, then whole axes: SPLIT and UNPACK along their first non-unit
  // axis), and where it starts: the arena planner then makes the output a view (graph/network.hpp).
  static constexpr long view_offset = [] {
    std::size_t d = 0;
    while (d < 3 && count[d] == 1) ++d;
    if (count[d] > 1 && stride[d] != 1) return -1L;
    for (std::size_t e = d + 1; e < 4; ++e)
      if (count[e] != in_dims[e] || start[e] != 0 || stride[e] != 1) return -1L;
    const long first = ((static_cast<long>(start[0]) * in_dims[1] + start[1]) * in_dims[2] + start[2]) * in_dims[3] + start[3];
    return first * static_cast<long>(sizeof(element));
  }();
  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static constexpr void run(const element* in, element* out) {
    int o = 0;
    for (int a = 0; a < count[0]; ++a)
      for (int b = 0; b < count[1]; ++b)
        for (int c = 0; c < count[2]; ++c)
          for (int d = 0; d < count[3]; ++d, ++o) {
            const int ia = start[0] + a * stride[0], ib = start[1] + b * stride[1];
            const int ic = start[2] + c * stride[2], id = start[3] + d * stride[3];
            out[o] = in[((ia * in_dims[1] + ib) * in_dims[2] + ic) * in_dims[3] + id];
          }
  }
};

}  // namespace tinynet
