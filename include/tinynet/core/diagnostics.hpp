// Compile errors a user can act on.
//
// C++20 static_assert messages are fixed strings, so the shapes themselves travel in the template
// arguments of the check that fails: right under the message the compiler prints
// "required from 'struct tinynet::input_shape_mismatch<Layer, Expected, Actual>'", naming the layer
// type and both shapes. Each check has a boolean `ok`; layers write
// `static_assert(input_shape_mismatch<...>::ok)` so a passing check costs nothing.
#pragma once

#include <type_traits>

namespace tinynet {

template <class Layer, class ExpectedShape, class ActualShape,
          bool Ok = std::is_same_v<ExpectedShape, ActualShape>>
struct output_shape_mismatch {
  static constexpr bool ok = Ok;
  static_assert(Ok,
                "tinynet: the output tensor's shape is not the shape this layer computes from its "
                "input (see output_shape_mismatch<Layer, ExpectedShape, ActualShape> below)");
};

template <class Layer, class ExpectedShape, class ActualShape,
          bool Ok = std::is_same_v<ExpectedShape, ActualShape>>
struct input_shape_mismatch {
  static constexpr bool ok = Ok;
  static_assert(Ok,
                "tinynet: the input tensor's shape does not fit this layer "
                "(see input_shape_mismatch<Layer, ExpectedShape, ActualShape> below)");
};

template <class Layer, class Expected, class Actual, bool Ok = std::is_same_v<Expected, Actual>>
struct element_type_mismatch {
  static constexpr bool ok = Ok;
  static_assert(Ok,
                "tinynet: the tensors of this layer have different element types "
                "(see element_type_mismatch<Layer, Expected, Actual> below)");
};

template <class Layer, int ExpectedCount, int ActualCount>
struct size_mismatch {
  static constexpr bool ok = ExpectedCount == ActualCount;
  static_assert(ok,
                "tinynet: a constant array of this layer has the wrong number of elements "
                "(see size_mismatch<Layer, ExpectedCount, ActualCount> below)");
};

}  // namespace tinynet
