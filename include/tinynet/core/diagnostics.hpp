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

// The counts of a Dense layer's weights, as types whose names read in the compiler's output:
// "dense_weights_size_mismatch<seq::Dense<w1, b1>, expected_values<8>, units<4>, inputs<2>,
// got_values<7>>" -- 8 values expected (4 units x 2 inputs), 7 given.
namespace diag {
template <int N>
struct expected_values {};
template <int N>
struct units {};
template <int N>
struct inputs {};
template <int N>
struct got_values {};
}  // namespace diag

template <class Layer, class Expected, class Units, class Inputs, class Got, bool Ok>
struct dense_weights_size_mismatch {
  static constexpr bool ok = Ok;
  static_assert(Ok,
                "tinynet: this Dense layer's weights do not hold units x inputs values (units: the "
                "bias's length; inputs: the values per sample of the layer's input); see "
                "dense_weights_size_mismatch<Layer, expected_values<E>, units<U>, inputs<I>, "
                "got_values<G>>, named with this error");
};

}  // namespace tinynet
