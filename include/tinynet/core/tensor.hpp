// A tensor is a type: element type, shape and quantization. Each tensor of a network is a distinct
// struct deriving from Tensor<...>, so ops are wired together by naming the same tensor type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "constant_array.hpp"
#include "diagnostics.hpp"
#include "quant.hpp"
#include "shape.hpp"

namespace tinynet {

template <class Element, class ShapeT, const Quant& Q = no_quant>
struct Tensor {
  static_assert(std::is_same_v<Element, std::int8_t> || std::is_same_v<Element, std::int16_t> ||
                    std::is_same_v<Element, std::int32_t> || std::is_same_v<Element, std::int64_t> ||
                    std::is_same_v<Element, std::uint8_t> || std::is_same_v<Element, float>,
                "tinynet::Tensor: element type must be int8_t, int16_t, int32_t, int64_t (indices), uint8_t "
                "(Quantize to or from int8) or float");
  using element = Element;
  using shape = ShapeT;
  static constexpr const Quant& quant = Q;
  static constexpr float scale = Q.scale;
  static constexpr std::int32_t zero_point = Q.zero_point;
  static constexpr bool has_quantization = !detail::is_no_quant<Q>;
  static constexpr int size = ShapeT::size;
  static constexpr std::size_t bytes = static_cast<std::size_t>(ShapeT::size) * sizeof(Element);
  static constexpr bool is_float = std::is_same_v<Element, float>;
};

// A constant operand of an element-wise op (a MUL factor, a PRELU alpha, a DIV divisor): a tensor
// whose values are a constant array in flash (a C array or std::array of Element, Shape's size
// long). It is not in the arena; an op given one as an input leaves it out of its `inputs` and
// reads `data` itself.
template <class Element, class ShapeT, const auto& Data, const Quant& Q = no_quant>
struct ConstantTensor : Tensor<Element, ShapeT, Q> {
  static_assert(std::is_same_v<array_element<Data>, Element>,
                "tinynet::ConstantTensor: the array's element type is not the tensor's");
  static_assert(size_mismatch<ConstantTensor, ShapeT::size, array_size<Data>>::ok);
  static constexpr const Element* data = &Data[0];
  static constexpr const auto& values = Data;  // the array itself (the flash checksum reads it)
};

// A tensor an op keeps across invoke() calls: TFLite's variable tensors (SVDF's activation state,
// an LSTM's hidden and cell state). An op lists it among its `inputs` and updates it in place
// through that pointer; no op names it as its output, and it is neither a graph input nor a graph
// output. The arena planner gives it bytes no other tensor of the network reuses, and
// Network::reset() sets it to `initial`: the zero point for int8, 0 for every other type, as
// TFLM's ResetVariableTensor does (it fills int16 state with 0 whatever its zero point).
// See docs/design.md, "State".
template <class Element, class ShapeT, const Quant& Q = no_quant>
struct StateTensor : Tensor<Element, ShapeT, Q> {
  static constexpr bool is_state = true;
  static constexpr Element initial =
      std::is_same_v<Element, std::int8_t> ? static_cast<Element>(Q.zero_point) : Element{};
};

template <class T>
concept StateTensorType = requires {
  requires T::is_state;
};

template <class T>
concept ConstantTensorType = requires {
  typename T::element;
  { T::data } -> std::convertible_to<const typename T::element*>;
};

template <class T>
concept TensorType = requires {
  typename T::element;
  typename T::shape;
  { T::size } -> std::convertible_to<int>;
  { T::bytes } -> std::convertible_to<std::size_t>;
};

}  // namespace tinynet
