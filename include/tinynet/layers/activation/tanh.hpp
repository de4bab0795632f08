// Tanh. int8: TFLM's reference_integer_ops::Tanh — gemmlowp tanh on Q4.27, then
// RoundingDivideByPOT(., 24) (output scale 1/128, zero point 0). Float: std::tanh.
// The int16 kernel: tanh(x) = 2 sigmoid(2x) - 1 from TFLM's sigmoid_table_uint16, 8 bits of interpolation.
// The op's code is shared with Logistic: detail::SigmoidOp (logistic_tanh.hpp).
#pragma once

#include "logistic_tanh.hpp"

namespace tinynet {

template <class In, class Out>
struct Tanh : detail::SigmoidOp<Tanh<In, Out>, In, Out, true> {};

}  // namespace tinynet
