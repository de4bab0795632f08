// Logistic (sigmoid). int8: TFLM's reference_integer_ops::Logistic — gemmlowp logistic on Q4.27,
// then RoundingDivideByPOT(., 23) - 128 (output scale 1/256, zero point -128). Float: 1/(1+e^-x).
// The int16 kernel: TFLM's sigmoid_table_uint16 with 9 bits of interpolation.
// The op's code is shared with Tanh: detail::SigmoidOp (logistic_tanh.hpp).
#pragma once

#include "logistic_tanh.hpp"

namespace tinynet {

template <class In, class Out>
struct Logistic : detail::SigmoidOp<Logistic<In, Out>, In, Out, false> {};

}  // namespace tinynet
