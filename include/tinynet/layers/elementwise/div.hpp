// Div: out = act(a / b), with broadcasting; usually b is a ConstantTensor. float32 and int8 (TFLM
// has no int16 kernel).
//
// Quantized, TFLM's div (CalculateOpDataDiv + reference_ops::DivElementwise / BroadcastDivSlow):
// the multiplier of (double)(a_scale / (b_scale * out_scale)), the ratio computed in float; for
// each element, with d1 = a - a_zp and d2 = b - b_zp (both negated when d2 < 0), d2's reciprocal
// (GetReciprocal: a Q0.31 value and a shift), d1 shifted left by its leading sign bits and
// multiplied by it, then scaled by the multiplier with a rounding right shift by
// -(out_shift - reciprocal_shift - headroom), plus the output zero point, clamped.
//
// That last shift exceeds 31 when d1 has many sign bits (0, or within 3 steps of the zero point)
// and d2 is large (64+ steps): undefined in C++. TFLM's gemmlowp RoundingDivideByPOT, as compiled
// for x86 (where the goldens come from), then has an all-ones mask and shifts by the exponent
// modulo 32: 0 / b comes out one step above the zero point (the goldens show it), and a dividend
// of +-1..3 steps gives a large value instead of ~0. This layer reproduces the x86 build on every
// target (see rounding_shift_as_tflm); TFLM built for Arm would differ there (ASR by 32 or more
// gives the sign).
// A divisor at its zero point divides by zero in TFLM (undefined); here it gives the output zero
// point. A constant divisor's reciprocals are computed by the compiler (5 bytes per element).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../../core/activation_range.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "arithmetic.hpp"
#include "binary.hpp"

namespace tinynet {

template <class In1, class In2, class Out, ArithmeticOptions Options = ArithmeticOptions{}>
struct Div : detail::Binary<Div<In1, In2, Out, Options>, Div<In1, In2, Out, Options>, In1, In2, Out> {
  using element = typename Out::element;
  static_assert(element_type_mismatch<Div, element, typename In1::element>::ok);
  static_assert(element_type_mismatch<Div, element, typename In2::element>::ok);
  static_assert(Out::is_float || std::is_same_v<element, std::int8_t>,
                "tinynet: Div supports float and int8 (TFLM has no int16 kernel)");

  static constexpr bool is_quantized = !Out::is_float;
  static constexpr QuantizedMultiplier output_multiplier =
      is_quantized ? quantize_multiplier(static_cast<double>(In1::scale / (In2::scale * Out::scale)))
                   : QuantizedMultiplier{};
  static constexpr QuantizedRange range =
      is_quantized ? activation_range<element>(Options.activation, Out::scale, Out::zero_point) : QuantizedRange{0, 0};
  // The final shift is a right shift only while out_shift <= 23 (int8 dividends have >= 23 sign
  // bits); a larger multiplier would make TFLM shift by a negative amount (undefined).
  static_assert(!is_quantized || output_multiplier.shift <= 23,
                "tinynet: int8 Div needs a_scale / (b_scale * out_scale) below 2^23");

  // TFLite CountLeadingSignBits (__builtin_clrsb): 31 for 0.
  static constexpr int leading_sign_bits(std::int32_t x) {
    return fixed::count_leading_zeros(static_cast<std::uint32_t>(x >= 0 ? x : ~x)) - 1;
  }

  // gemmlowp RoundingDivideByPOT as compiled for TFLM when the exponent is 32 or more: the mask
  // (1 << exponent) - 1 truncated to 32 bits is all ones, the shift takes the exponent modulo 32.
  static constexpr std::int32_t rounding_shift_as_tflm(std::int32_t x, int exponent) {
    if (exponent <= 31) return fixed::rounding_divide_by_pot(x, exponent);
    const std::int32_t threshold = -1 + (x < 0 ? 1 : 0);
    return (x >> (exponent & 31)) + (x > threshold ? 1 : 0);
  }

  // The divisor's part of the computation: its reciprocal (GetReciprocal) and whether the
  // dividend's sign flips. For a constant divisor it is tabulated at compile time.
  struct DivisorTerms {
    std::int32_t reciprocal = 0;
    std::int8_t shift = 0;
    bool negate = false;
    bool zero = true;
  };
  static constexpr DivisorTerms divisor_terms(element x2) {
    std::int32_t divisor = x2 - In2::zero_point;
    if (divisor == 0) return {};
    const bool negate = divisor < 0;
    if (negate) divisor = -divisor;
    const fixed::Reciprocal r = fixed::get_reciprocal(divisor, 31);
    return {r.value, static_cast<std::int8_t>(r.num_bits_over_unit), negate, false};
  }

  static constexpr element quotient(element x1, DivisorTerms d) {
    if (d.zero) return static_cast<element>(clamp(Out::zero_point, range));
    std::int32_t dividend = x1 - In1::zero_point;
    if (d.negate) dividend = -dividend;
    const int headroom = leading_sign_bits(dividend);
    const std::int32_t unscaled = fixed::multiply_by_quantized_multiplier_greater_than_one(dividend, d.reciprocal, headroom);
    const int total_shift = output_multiplier.shift - d.shift - headroom;
    const std::int32_t result =
        rounding_shift_as_tflm(fixed::saturating_rounding_doubling_high_mul(unscaled, output_multiplier.multiplier),
                               -total_shift) +
        Out::zero_point;
    return static_cast<element>(clamp(result, range));
  }

  static constexpr element apply(element x1, element x2) {
    if constexpr (is_quantized) {
      return quotient(x1, divisor_terms(x2));
    } else {
      return clamp_float(x1 / x2, activation_range_float(Options.activation));
    }
  }

  using base = detail::Binary<Div, Div, In1, In2, Out>;
  static constexpr bool tabulated = is_quantized && base::constant2;
  static constexpr int table_size = tabulated ? In2::size : 0;
  // A constant divisor's terms, one per element: the reciprocal, negative when the dividend's sign
  // flips, 0 for a divisor at its zero point; and its shift.
  struct Reciprocals {
    std::array<std::int32_t, table_size> multiplier;
    std::array<std::int8_t, table_size> shift;
  };
  static constexpr Reciprocals divisor_reciprocals = [] {
    Reciprocals t{};
    if constexpr (tabulated)
      for (int i = 0; i < In2::size; ++i) {
        const DivisorTerms d = divisor_terms(In2::data[i]);
        const auto k = static_cast<std::size_t>(i);
        t.multiplier[k] = d.zero ? 0 : (d.negate ? -d.reciprocal : d.reciprocal);
        t.shift[k] = d.shift;
      }
    return t;
  }();
  static constexpr auto constant_tables() {
    if constexpr (tabulated) return base::operand_tables() + ConstantTables<divisor_reciprocals>{};
    else return base::operand_tables();
  }
  static constexpr DivisorTerms tabulated_terms(int i) {
    const std::int32_t m = divisor_reciprocals.multiplier[static_cast<std::size_t>(i)];
    return {m < 0 ? -m : m, divisor_reciprocals.shift[static_cast<std::size_t>(i)], m < 0, m == 0};
  }
  static constexpr std::size_t weight_bytes = base::weight_bytes + static_cast<std::size_t>(table_size) * 5;

  static constexpr void run_elements(const element* a, const element* b, element* out) {
    if constexpr (tabulated) {
      for (int i = 0; i < Out::size; ++i)
        out[i] = quotient(a[base::index1::map(i)], tabulated_terms(base::index2::map(i)));
    } else {
      base::run_elements(a, b, out);
    }
  }
};

}  // namespace tinynet
