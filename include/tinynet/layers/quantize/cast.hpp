// Cast (TFLM's cast.cc): each value converted with static_cast to the output's element type,
// ignoring any quantization, as TFLM does. Integer narrowing keeps the low bits (int32 -> int8);
// float -> integer truncates toward zero (a float outside the target's range is undefined
// behaviour, in TFLM as here).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

template <class In, class Out>
struct Cast {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  using out_element = typename Out::element;
  static_assert(output_shape_mismatch<Cast, typename In::shape, typename Out::shape,
                                      In::size == Out::size>::ok);

  // Element by element in place when the types are equal (a copy); never across types, whose
  // pointers may not alias.
  static constexpr bool in_place = std::is_same_v<element, out_element>;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static constexpr void run(const element* in, out_element* out) {
    for (int i = 0; i < In::size; ++i) out[i] = static_cast<out_element>(in[i]);
  }
};

}  // namespace tinynet
