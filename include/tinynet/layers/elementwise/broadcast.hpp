// NumPy-style broadcasting of two tensors of rank <= 4 to an output shape (TFLite's
// NdArrayDescsForElementwiseBroadcast): a dimension of size 1 repeats along the output's.
#pragma once

#include <array>

#include "../../core/shape.hpp"

namespace tinynet::detail {

template <class InShape, class OutShape>
struct BroadcastIndex {
  static constexpr std::array<int, 4> in_dims = NHWC<InShape>::extended;
  static constexpr std::array<int, 4> out_dims = NHWC<OutShape>::extended;
  static constexpr bool compatible = [] {
    for (int i = 0; i < 4; ++i)
      if (in_dims[static_cast<std::size_t>(i)] != 1 && in_dims[static_cast<std::size_t>(i)] != out_dims[static_cast<std::size_t>(i)])
        return false;
    return true;
  }();
  static constexpr bool identity = InShape::size == OutShape::size;
  // Strides of the input, 0 along broadcast dimensions.
  static constexpr std::array<int, 4> strides = [] {
    std::array<int, 4> s{};
    int stride = 1;
    for (int i = 3; i >= 0; --i) {
      const auto d = static_cast<std::size_t>(i);
      s[d] = in_dims[d] == 1 ? 0 : stride;
      stride *= in_dims[d];
    }
    return s;
  }();
  static constexpr int map(int flat_output_index) {
    if constexpr (identity) {
      return flat_output_index;
    } else {
      int index = 0;
      for (int i = 3; i >= 0; --i) {
        const auto d = static_cast<std::size_t>(i);
        index += (flat_output_index % out_dims[d]) * strides[d];
        flat_output_index /= out_dims[d];
      }
      return index;
    }
  }
};

}  // namespace tinynet::detail
