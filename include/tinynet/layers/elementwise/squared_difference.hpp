// SquaredDifference: out = (a - b)^2, with broadcasting; int8/int16 rescale both inputs to a
// common scale first (see arithmetic.hpp). int16 needs zero points 0, as in TFLM.
#pragma once

#include <cstdint>
#include <type_traits>

#include "arithmetic.hpp"

namespace tinynet {

template <class In1, class In2, class Out>
struct SquaredDifference
    : detail::Arithmetic<detail::ArithmeticKind::squared_difference, SquaredDifference<In1, In2, Out>, In1, In2, Out,
                         ArithmeticOptions{}> {
  static_assert(!std::is_same_v<typename Out::element, std::int16_t> ||
                    (In1::zero_point == 0 && In2::zero_point == 0 && Out::zero_point == 0),
                "tinynet: int16 SquaredDifference needs zero points 0 (as TFLM)");
};

}  // namespace tinynet
