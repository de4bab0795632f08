// Reshape / Flatten: the same bytes under another shape. The arena planner gives the output the
// input's buffer, so at run time this op does nothing.
#pragma once

#include <cstdint>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

template <class In, class Out>
struct Reshape {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(element_type_mismatch<Reshape, element, typename Out::element>::ok);
  static_assert(output_shape_mismatch<Reshape, typename In::shape, typename Out::shape, In::size == Out::size>::ok);
  static_assert(In::is_float || (In::scale == Out::scale && In::zero_point == Out::zero_point),
                "tinynet::Reshape: input and output must have the same quantization");

  static constexpr bool alias = true;  // output shares the input's buffer
  static constexpr bool in_place = true;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static constexpr void run(const element* in, element* out) {
    if (in == out) return;  // the arena case: nothing to do
    for (int i = 0; i < Out::size; ++i) out[i] = in[i];
  }
};

}  // namespace tinynet
