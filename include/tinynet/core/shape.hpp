// Tensor shapes as types: Shape<1, 49, 10, 1> is a 4-D NHWC shape known to the compiler.
#pragma once

#include <array>
#include <cstddef>

namespace tinynet {

template <int... Dims>
struct Shape {
  static_assert(sizeof...(Dims) >= 1, "tinynet::Shape needs at least one dimension");
  static_assert(((Dims > 0) && ...), "tinynet::Shape: every dimension must be positive");

  static constexpr int rank = static_cast<int>(sizeof...(Dims));
  static constexpr std::array<int, sizeof...(Dims)> dims{Dims...};
  static constexpr int size = (1 * ... * Dims);

  // Dimension i counted from the front; a negative i counts from the back (-1 = last).
  static constexpr int dim(int i) { return dims[static_cast<std::size_t>(i < 0 ? rank + i : i)]; }
};

namespace detail {
template <class ShapeT>
struct nhwc_view;
// Views any shape of rank <= 4 as NHWC by padding leading ones, like TFLite's RuntimeShape
// extension to 4-D.
template <int... Dims>
struct nhwc_view<Shape<Dims...>> {
  static_assert(sizeof...(Dims) <= 4, "tinynet: this op supports tensors of rank <= 4");
  static constexpr int rank = static_cast<int>(sizeof...(Dims));
  static constexpr std::array<int, 4> extended = [] {
    std::array<int, 4> out{1, 1, 1, 1};
    constexpr std::array<int, sizeof...(Dims)> d{Dims...};
    for (int i = 0; i < rank; ++i) out[static_cast<std::size_t>(4 - rank + i)] = d[static_cast<std::size_t>(i)];
    return out;
  }();
  static constexpr int batches = extended[0];
  static constexpr int height = extended[1];
  static constexpr int width = extended[2];
  static constexpr int channels = extended[3];
};
}  // namespace detail

// Batches, height, width and channels of a shape of rank <= 4, NHWC.
template <class ShapeT>
using NHWC = detail::nhwc_view<ShapeT>;

}  // namespace tinynet
