// Maximum and Minimum: the larger (smaller) of two elements, with broadcasting.
//
// TFLM's maximum_minimum (reference_ops::MaximumMinimumBroadcastSlow) compares the raw values and
// ignores quantization: a converter gives both inputs and the output the same scale and zero
// point. Float compares with > (<), so a NaN first operand yields the second.
#pragma once

#include "../../core/diagnostics.hpp"
#include "binary.hpp"

namespace tinynet {

namespace detail {
template <bool Max, class Layer, class In1, class In2, class Out>
struct Extremum : Binary<Layer, Extremum<Max, Layer, In1, In2, Out>, In1, In2, Out> {
  using element = typename Out::element;
  static_assert(element_type_mismatch<Layer, element, typename In1::element>::ok);
  static_assert(element_type_mismatch<Layer, element, typename In2::element>::ok);

  static constexpr element apply(element x1, element x2) {
    if constexpr (Max) {
      return x1 > x2 ? x1 : x2;
    } else {
      return x1 < x2 ? x1 : x2;
    }
  }
};
}  // namespace detail

template <class In1, class In2, class Out>
struct Maximum : detail::Extremum<true, Maximum<In1, In2, Out>, In1, In2, Out> {};

template <class In1, class In2, class Out>
struct Minimum : detail::Extremum<false, Minimum<In1, In2, Out>, In1, In2, Out> {};

}  // namespace tinynet
