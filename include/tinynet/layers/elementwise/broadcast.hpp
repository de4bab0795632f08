// NumPy-style broadcasting of an input to an output shape (TFLite's
// NdArrayDescsForElementwiseBroadcast): both shapes are aligned at their last dimension, missing
// leading dimensions count as 1, and a dimension of size 1 repeats along the output's. Any rank up
// to the output's (TFLM's kernels stop at 4, 5 or 6 depending on the op; the generator checks that).
#pragma once

#include <array>
#include <cstddef>

#include "../../core/shape.hpp"

namespace tinynet::detail {

template <class InShape, class OutShape>
struct BroadcastIndex {
  static constexpr int rank = OutShape::rank;
  static constexpr bool rank_fits = InShape::rank <= OutShape::rank;
  // The input's dimensions aligned with the output's (leading ones added).
  static constexpr std::array<int, static_cast<std::size_t>(rank)> in_dims = [] {
    std::array<int, static_cast<std::size_t>(rank)> d{};
    for (auto& x : d) x = 1;
    if constexpr (rank_fits)
      for (int i = 0; i < InShape::rank; ++i)
        d[static_cast<std::size_t>(rank - InShape::rank + i)] = InShape::dims[static_cast<std::size_t>(i)];
    return d;
  }();
  static constexpr std::array<int, static_cast<std::size_t>(rank)> out_dims = OutShape::dims;
  static constexpr bool compatible = [] {
    if (!rank_fits) return false;
    for (std::size_t i = 0; i < static_cast<std::size_t>(rank); ++i)
      if (in_dims[i] != 1 && in_dims[i] != out_dims[i]) return false;
    return true;
  }();
  static constexpr bool identity = InShape::size == OutShape::size;
  // Strides of the input, 0 along broadcast dimensions.
  static constexpr std::array<int, static_cast<std::size_t>(rank)> strides = [] {
    std::array<int, static_cast<std::size_t>(rank)> s{};
    int stride = 1;
    for (int i = rank - 1; i >= 0; --i) {
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
      for (int i = rank - 1; i >= 0; --i) {
        const auto d = static_cast<std::size_t>(i);
        index += (flat_output_index % out_dims[d]) * strides[d];
        flat_output_index /= out_dims[d];
      }
      return index;
    }
  }
};

}  // namespace tinynet::detail
