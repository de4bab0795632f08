// TFLite's integer primitives, checked against numbers worked out by hand.
#include <doctest/doctest.h>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using namespace tinynet::fixed;

TEST_CASE("saturating_rounding_doubling_high_mul rounds ties up and saturates INT32_MIN^2") {
  CHECK(saturating_rounding_doubling_high_mul(1 << 30, 1 << 30) == (1 << 29));  // 0.5 * 0.5
  CHECK(saturating_rounding_doubling_high_mul(5, 1 << 30) == 3);     // 2.5 -> 3
  CHECK(saturating_rounding_doubling_high_mul(-5, 1 << 30) == -2);   // -2.5 -> -2 (VQRDMULH nudge)
  CHECK(saturating_rounding_doubling_high_mul(int32_min, int32_min) == int32_max);
  CHECK(saturating_rounding_doubling_high_mul(int32_min, int32_max) == -int32_max);
  // A multiplier just below 2^31 (real 1.0 - 2^-31) keeps the value.
  CHECK(saturating_rounding_doubling_high_mul(1000, int32_max) == 1000);
  CHECK(saturating_rounding_doubling_high_mul(-1000, int32_max) == -1000);
}

TEST_CASE("rounding_divide_by_pot rounds half away from zero") {
  CHECK(rounding_divide_by_pot(5, 1) == 3);
  CHECK(rounding_divide_by_pot(-5, 1) == -3);
  CHECK(rounding_divide_by_pot(-4, 1) == -2);
  CHECK(rounding_divide_by_pot(7, 2) == 2);
  CHECK(rounding_divide_by_pot(-6, 2) == -2);
  CHECK(rounding_divide_by_pot(int32_max, 31) == 1);
  CHECK(rounding_divide_by_pot(int32_min, 31) == -1);
  CHECK(rounding_divide_by_pot(std::int64_t{-5}, 1) == -3);
}

TEST_CASE("quantize_multiplier follows TFLite QuantizeMultiplier") {
  CHECK(quantize_multiplier(0.5).multiplier == (1 << 30));
  CHECK(quantize_multiplier(0.5).shift == 0);
  CHECK(quantize_multiplier(1.0).multiplier == (1 << 30));
  CHECK(quantize_multiplier(1.0).shift == 1);
  CHECK(quantize_multiplier(0.75).multiplier == 1610612736);
  CHECK(quantize_multiplier(0.125).shift == -2);
  // A mantissa that rounds up to 2^31 is halved and the exponent bumped.
  constexpr auto almost_one = quantize_multiplier(1.0 - 1.0 / (1LL << 40));
  CHECK(almost_one.multiplier == (1 << 30));
  CHECK(almost_one.shift == 1);
  // Exponents below -31 give a zero multiplier.
  CHECK(quantize_multiplier(1.0 / (1LL << 40)).multiplier == 0);
  CHECK(quantize_multiplier(1.0 / (1LL << 40)).shift == 0);
  CHECK(quantize_multiplier(0.0).multiplier == 0);
  // Large multipliers (Softmax) keep their positive shift.
  CHECK(quantize_multiplier(double(1 << 26)).shift == 27);
}

TEST_CASE("multiply_by_quantized_multiplier: negative and positive shifts, double rounding") {
  CHECK(multiply_by_quantized_multiplier(100, 1 << 30, 0) == 50);
  CHECK(multiply_by_quantized_multiplier(100, 1 << 30, -1) == 25);
  CHECK(multiply_by_quantized_multiplier(3, 1 << 30, 2) == 6);        // left shift first
  // Real 5 * 0.25 = 1.25: the high multiply rounds 2.5 to 3, the shift rounds 1.5 to 2.
  CHECK(multiply_by_quantized_multiplier(5, 1 << 30, -1) == 2);
  CHECK(multiply_by_quantized_multiplier(-5, 1 << 30, -1) == -1);    // -2.5 -> -2, then -1
  CHECK(multiply_by_quantized_multiplier(1 << 20, int32_max, -31) == 0);
  // The 16x8 variant reduces the multiplier to 16 bits and rounds once.
  CHECK(multiply_by_quantized_multiplier(std::int64_t{100}, 1 << 30, 0) == 50);
  CHECK(multiply_by_quantized_multiplier(std::int64_t{5}, 1 << 30, -1) == 1);  // 1.25 -> 1
  CHECK(multiply_by_quantized_multiplier(std::int64_t{-6}, 1 << 30, -1) == -1); // -1.5 -> -1 (adds 0.5, floors)
}

TEST_CASE("activation ranges quantize 0 and 6 with the output scale") {
  constexpr auto relu = activation_range<std::int8_t>(Activation::relu, 0.5f, -10);
  CHECK(relu.min == -10);
  CHECK(relu.max == 127);
  constexpr auto relu6 = activation_range<std::int8_t>(Activation::relu6, 0.5f, -10);
  CHECK(relu6.min == -10);
  CHECK(relu6.max == 2);  // -10 + 6 / 0.5
  constexpr auto none = activation_range<std::int8_t>(Activation::none, 0.5f, -10);
  CHECK(none.min == -128);
  CHECK(none.max == 127);
  constexpr auto relu_high_zero = activation_range<std::int8_t>(Activation::relu, 0.1f, 127);
  CHECK(relu_high_zero.min == 127);
}

TEST_CASE("gemmlowp exp/logistic/tanh fixed points") {
  CHECK(exp_on_negative_values<5>(0) == int32_max);
  // exp(-1) in Q0.31 is 790015084 (gemmlowp's own barrel constant); -1 in Q5.26 is -(1 << 26).
  CHECK(exp_on_negative_values<5>(-(1 << 26)) == doctest::Approx(790015084).epsilon(1e-6));
  CHECK(logistic<4>(0) == (1 << 30));
  CHECK(tanh<4>(0) == 0);
  // tanh is odd, logistic(-x) = 1 - logistic(x).
  CHECK(tanh<4>(1 << 26) == -tanh<4>(-(1 << 26)));
  CHECK(logistic<4>(1 << 26) + logistic<4>(-(1 << 26)) == int32_max);
}

TEST_CASE("saturating_rounding_doubling_high_mul equals gemmlowp's nudge-and-truncate form") {
  // gemmlowp: (a*b + (a*b >= 0 ? 2^30 : 1 - 2^30)) / 2^31, truncating toward zero.
  const auto gemmlowp = [](std::int32_t a, std::int32_t b) {
    if (a == int32_min && b == int32_min) return int32_max;
    const std::int64_t ab = static_cast<std::int64_t>(a) * b;
    const std::int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));
  };
  std::uint64_t state = 88172645463325252ull;
  const auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return static_cast<std::int32_t>(state);
  };
  int mismatches = 0;
  for (int i = 0; i < 1000000; ++i) {
    const std::int32_t a = next() >> (i % 31), b = next() >> ((i / 31) % 31);
    mismatches += gemmlowp(a, b) != saturating_rounding_doubling_high_mul(a, b);
  }
  CHECK(mismatches == 0);
}
