// Neg: -x. float32 only, as in TFLM (its neg kernel has no integer path); the sign bit flips,
// NaN and zero included.
#pragma once

#include <cstdint>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

template <class In, class Out>
struct Neg {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(output_shape_mismatch<Neg, typename In::shape, typename Out::shape, In::size == Out::size>::ok);
  static_assert(element_type_mismatch<Neg, element, typename Out::element>::ok);
  static_assert(In::is_float, "tinynet: Neg supports float only (TFLM has no integer kernel)");

  static constexpr bool in_place = true;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static constexpr void run(const element* in, element* out) {
    for (int i = 0; i < In::size; ++i) out[i] = -in[i];
  }
};

}  // namespace tinynet
