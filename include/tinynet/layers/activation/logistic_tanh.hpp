// Shared int8 machinery of Logistic and Tanh (TFLM logistic_common.cc / tanh_common.cc and
// reference_integer_ops::Logistic / Tanh): the input, minus its zero point, is scaled into Q4.27
// with a multiplier from frexp(input_scale * 2^27); inputs whose magnitude reaches the range
// radius saturate to the output's extremes.
//
// int16 (the 16x8 kernels): TFLM's Prepare requires zero points 0 and output scale 2^-15
// (CheckedLog2); a power-of-two input scale whose left shift (12 + log2 scale) is 0 (Logistic) or
// 0 or 1 (Tanh) takes multiplier 3 << shift, any other scale a multiplier of input_scale * 3 * 4096
// doubled while at most 32767 / 2 (and the shift at most 31). The kernels then interpolate TFLM's
// sigmoid_table_uint16 (core/sigmoid_table.hpp).
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "../../core/constant_tables.hpp"
#include "../../core/constexpr_math.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/sigmoid_table.hpp"

namespace tinynet::detail {

template <class In>
struct SigmoidInputScaling {
  static constexpr int input_integer_bits = 4;
  static constexpr QuantizedMultiplier multiplier =
      frexp_multiplier(static_cast<double>(In::scale) *
                       static_cast<double>(std::int64_t{1} << (31 - input_integer_bits)));
  static constexpr int range_radius = calculate_input_radius(input_integer_bits, multiplier.shift, 31);
};

// CheckedLog2 (quantization_util.cc), in float as TFLM: whether x is within 1e-3 of a power of
// two in log2, and that log2 rounded.
struct Log2 {
  bool exact;
  int rounded;
};
constexpr Log2 checked_log2(float x) {
  const float x_log2 = static_cast<float>(log(static_cast<double>(x))) * (1.0f / static_cast<float>(log(2.0)));
  const auto rounded = static_cast<float>(round_half_away(static_cast<double>(x_log2)));
  const float fraction = x_log2 - rounded;
  return {(fraction < 0 ? -fraction : fraction) < 1e-3f, static_cast<int>(rounded)};
}

// reference_integer_ops::Logistic / Tanh (int16), the input scaling: (x * multiplier + rounding) >>
// left_shift, where multiplier 0 stands for 3 << left_shift (the power-of-two case, no shift).
constexpr std::int32_t sigmoid_int16_input(std::int16_t x, std::int32_t multiplier, int left_shift) {
  if (multiplier == 0) {
    multiplier = std::int32_t{3} << left_shift;
    left_shift = 0;
  }
  const std::int32_t rounding = left_shift > 0 ? std::int32_t{1} << (left_shift - 1) : 0;
  return (x * multiplier + rounding) >> left_shift;
}

// reference_integer_ops::Logistic (int16) on a scaled input: sigmoid_table_uint16 with 9 bits of
// interpolation, output in Q0.15.
constexpr std::int16_t sigmoid_int16_lookup(std::int32_t x) {
  constexpr const auto& table = sigmoid_table_uint16;
  const auto magnitude = static_cast<std::uint32_t>(x < 0 ? -x : x);
  const std::uint32_t high = magnitude >> 9;
  std::uint32_t result;
  if (high >= 255) {
    result = 0x7FFFu << 10;
  } else {
    const std::uint32_t a = table[high], b = table[high + 1];
    result = (a << 9) + (magnitude & 0x1FF) * (b - a);
  }
  result = x >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1;
  return static_cast<std::int16_t>(result >> 10);
}

// reference_integer_ops::Tanh (int16) on a scaled input: tanh(x) = 2 sigmoid(2x) - 1 from the
// table with 8 bits of interpolation, output in Q0.15.
constexpr std::int16_t tanh_int16_lookup(std::int32_t x) {
  constexpr const auto& table = sigmoid_table_uint16;
  const auto magnitude = static_cast<std::uint32_t>(x < 0 ? -x : x);
  const std::uint32_t high = magnitude >> 8;
  std::int32_t result;
  if (high >= 255) {
    result = 0xFFFF << 8;
  } else {
    const std::uint32_t a = table[high], b = table[high + 1];
    result = static_cast<std::int32_t>((a << 8) + (magnitude & 0xFF) * (b - a));
  }
  result = x >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
  return static_cast<std::int16_t>(result >> 8);
}

template <class In, class Out, bool IsTanh>
struct SigmoidInt16Scaling {
  static_assert(In::zero_point == 0 && Out::zero_point == 0,
                "tinynet: int16 Logistic and Tanh need zero points 0 (as TFLM)");
  static_assert(checked_log2(Out::scale).exact && checked_log2(Out::scale).rounded == -15,
                "tinynet: int16 Logistic and Tanh need output scale 2^-15 (as TFLM)");
  struct Params {
    std::int32_t multiplier;
    int left_shift;
  };
  static constexpr Params params = [] {
    const Log2 log2 = checked_log2(In::scale);
    const int pot_shift = 12 + log2.rounded;
    if (log2.exact && (pot_shift == 0 || (IsTanh && pot_shift == 1)))
      return Params{pot_shift == 1 ? 6 : 3, 0};  // 3 << shift
    double multiplier = static_cast<double>(In::scale) * 4096.0 * 3.0;
    int shift = 0;
    while (multiplier <= 32767.0 / 2.0 && shift <= 30) {
      ++shift;
      multiplier *= 2.0;
    }
    return Params{static_cast<std::int32_t>(multiplier), shift};
  }();
  // TFLM only DCHECKs this; a larger multiplier overflows int32 on the largest inputs.
  static_assert(params.multiplier <= 32767, "tinynet: the input scale is too large for an int16 Logistic or Tanh");
  static constexpr std::int32_t rounding = params.left_shift > 0 ? std::int32_t{1} << (params.left_shift - 1) : 0;

  static constexpr std::int32_t input(std::int16_t x) { return sigmoid_int16_input(x, params.multiplier, params.left_shift); }
};

// Logistic and Tanh as ops (logistic.hpp, tanh.hpp): one input, in place, the int16 table in
// flash, and the float, int16 and int8 loops, which differ only in the function (IsTanh) and the
// int8 output's fixed point (Logistic: Q0.8 minus 128, Tanh: Q0.7). Op names the op in diagnostics.
template <class Op, class In, class Out, bool IsTanh>
struct SigmoidOp {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(output_shape_mismatch<Op, typename In::shape, typename Out::shape, In::size == Out::size>::ok);
  static_assert(element_type_mismatch<Op, element, typename Out::element>::ok);
  static constexpr bool supported_element =
      In::is_float || std::is_same_v<element, std::int8_t> || std::is_same_v<element, std::int16_t>;
  static_assert(IsTanh || supported_element, "tinynet::Logistic: supported element types are float, int8 and int16");
  static_assert(!IsTanh || supported_element, "tinynet::Tanh: supported element types are float, int8 and int16");
  static constexpr bool is_int16 = std::is_same_v<element, std::int16_t>;

  static constexpr bool in_place = true;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = is_int16 ? sizeof(sigmoid_table_uint16) : 0;
  using scaling = SigmoidInputScaling<In>;

  static constexpr auto constant_tables() {
    if constexpr (is_int16) return ConstantTables<sigmoid_table_uint16>{};
    else return ConstantTables<>{};
  }

  static void run_float(const float* in, float* out) {
    for (int i = 0; i < In::size; ++i) out[i] = IsTanh ? std::tanh(in[i]) : 1.0f / (1.0f + std::exp(-in[i]));
  }

  // reference_integer_ops::Logistic / Tanh (int16): the table, output in Q0.15.
  static constexpr void run_int16(const std::int16_t* in, std::int16_t* out) {
    using scaling16 = SigmoidInt16Scaling<In, Out, IsTanh>;
    for (int i = 0; i < In::size; ++i)
      out[i] = IsTanh ? tanh_int16_lookup(scaling16::input(in[i])) : sigmoid_int16_lookup(scaling16::input(in[i]));
  }

  static constexpr void run(const element* in, element* out) {
    if constexpr (In::is_float) {
      run_float(in, out);
    } else if constexpr (is_int16) {
      run_int16(in, out);
    } else {
      for (int i = 0; i < In::size; ++i) {
        const std::int32_t x = in[i] - In::zero_point;
        if (x <= -scaling::range_radius) {
          out[i] = -128;
        } else if (x >= scaling::range_radius) {
          out[i] = 127;
        } else {
          const std::int32_t x_q4 =
              fixed::multiply_by_quantized_multiplier(x, scaling::multiplier.multiplier, scaling::multiplier.shift);
          std::int32_t y;
          if constexpr (IsTanh) {
            y = fixed::rounding_divide_by_pot(fixed::tanh<scaling::input_integer_bits>(x_q4), 31 - 7);
          } else {
            y = fixed::rounding_divide_by_pot(fixed::logistic<scaling::input_integer_bits>(x_q4), 31 - 8) - 128;
          }
          out[i] = static_cast<std::int8_t>(y < -128 ? -128 : (y > 127 ? 127 : y));
        }
      }
    }
  }
};

}  // namespace tinynet::detail
