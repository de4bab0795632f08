// Neg: -x. float32 only, as in TFLM (its neg kernel has no integer path); the sign bit flips,
// NaN and zero included.
#pragma once

#include <cstdint>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "unary.hpp"

namespace tinynet {

template <class In, class Out>
struct Neg : detail::Unary<Neg<In, Out>, In, Out> {
  static_assert(In::is_float, "tinynet: Neg supports float only (TFLM has no integer kernel)");
  static constexpr float apply(float x) { return -x; }
};

}  // namespace tinynet
