// Add: out = act(a + b), with broadcasting; int8/int16 requantize both inputs (see arithmetic.hpp).
#pragma once

#include "arithmetic.hpp"

namespace tinynet {

template <class In1, class In2, class Out, ArithmeticOptions Options = ArithmeticOptions{}>
struct Add : detail::Arithmetic<detail::ArithmeticKind::add, Add<In1, In2, Out, Options>, In1, In2, Out, Options> {};

}  // namespace tinynet
