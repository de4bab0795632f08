// A tensor is a type: element type, shape and quantization. Each tensor of a network is a distinct
// struct deriving from Tensor<...>, so ops are wired together by naming the same tensor type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "quant.hpp"
#include "shape.hpp"

namespace tinynet {

template <class Element, class ShapeT, const Quant& Q = no_quant>
struct Tensor {
  static_assert(std::is_same_v<Element, std::int8_t> || std::is_same_v<Element, std::int16_t> ||
                    std::is_same_v<Element, std::int32_t> || std::is_same_v<Element, float>,
                "tinynet::Tensor: element type must be int8_t, int16_t, int32_t or float");
  using element = Element;
  using shape = ShapeT;
  static constexpr const Quant& quant = Q;
  static constexpr float scale = Q.scale;
  static constexpr std::int32_t zero_point = Q.zero_point;
  static constexpr int size = ShapeT::size;
  static constexpr std::size_t bytes = static_cast<std::size_t>(ShapeT::size) * sizeof(Element);
  static constexpr bool is_float = std::is_same_v<Element, float>;
};

template <class T>
concept TensorType = requires {
  typename T::element;
  typename T::shape;
  { T::size } -> std::convertible_to<int>;
  { T::bytes } -> std::convertible_to<std::size_t>;
};

}  // namespace tinynet
