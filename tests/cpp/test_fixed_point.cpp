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

// The short output stage (core/output_stage.hpp) must equal TFLM's MultiplyByQuantizedMultiplier
// for every accumulator it is allowed to see (|acc| < 2^30) and every right shift 1..30. Checked
// against a 64-bit transcription of TFLM's two roundings written here, not the library's own.
namespace {
std::int32_t tflm_multiply_by_quantized_multiplier(std::int32_t x, std::int32_t multiplier, int shift) {
  const int right_shift = -shift;  // shift <= -1 in these cases
  // SaturatingRoundingDoublingHighMul: (x*m + nudge) / 2^31 truncated toward zero, nudge = 2^30
  // for a non-negative product and 1 - 2^30 otherwise.
  const std::int64_t product = std::int64_t{x} * multiplier;
  const std::int64_t nudge = product >= 0 ? (std::int64_t{1} << 30) : (1 - (std::int64_t{1} << 30));
  const std::int64_t high = (product + nudge) / (std::int64_t{1} << 31);
  // RoundingDivideByPOT
  const std::int64_t mask = (std::int64_t{1} << right_shift) - 1;
  const std::int64_t remainder = high & mask;
  const std::int64_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return static_cast<std::int32_t>((high >> right_shift) + (remainder > threshold ? 1 : 0));
}
}  // namespace

TEST_CASE("the short output stage gives TFLM's MultiplyByQuantizedMultiplier bit for bit") {
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  const auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state >> 32);
  };
  for (int n = 1; n <= 30; ++n) {
    for (int trial = 0; trial < 4000; ++trial) {
      // Multipliers in [2^30, 2^31) as QuantizeMultiplier makes them, plus the extremes.
      const std::int32_t multiplier = trial == 0   ? (std::int32_t{1} << 30)
                                      : trial == 1 ? int32_max
                                                   : static_cast<std::int32_t>((1u << 30) | (next() >> 2));
      // Accumulators anywhere in (-2^30, 2^30), small ones and ties included.
      std::int32_t acc = static_cast<std::int32_t>(next() >> 2) * ((next() & 1) ? 1 : -1);
      if (trial % 3 == 0) acc = static_cast<std::int32_t>(next() % 2001) - 1000;
      if (trial == 2) acc = (1 << 30) - 1;
      if (trial == 3) acc = -((1 << 30) - 1);
      ChannelMultipliers<1> m{};
      m.multiplier[0] = multiplier;
      m.shift[0] = -n;
      const ShortOutputStage<1> stage = short_output_stage<1>(m);
      const std::int32_t expected = tflm_multiply_by_quantized_multiplier(acc, multiplier, -n);
      REQUIRE(stage.scale(acc, 0) == expected);
      REQUIRE(multiply_by_quantized_multiplier(acc, multiplier, -n) == expected);
    }
  }
}

TEST_CASE("the short output stage with the output zero point folded into its rounding words") {
  // TFLM's result plus the zero point, for the zero points at both ends of int8 and one between,
  // at every shift the fold allows, on accumulators near +-2^30, ties and small values.
  for (const std::int32_t zero_point : {-128, -3, 127}) {
    for (int n = 1; n <= 30; ++n) {
      ChannelMultipliers<1> m{};
      m.shift[0] = -n;
      for (const std::int32_t multiplier : {std::int32_t{1} << 30, int32_max, std::int32_t{1518500250}}) {
        m.multiplier[0] = multiplier;
        if (!zero_point_foldable<1>(m, zero_point)) continue;
        const ShortOutputStage<1> stage = short_output_stage<1>(m, zero_point);
        for (const std::int32_t acc : {(1 << 30) - 1, -((1 << 30) - 1), 0, 1, -1, 1 << (n - 1), -(1 << (n - 1)), 12345, -54321}) {
          CAPTURE(n);
          CAPTURE(acc);
          REQUIRE(stage.scale(acc, 0) == tflm_multiply_by_quantized_multiplier(acc, multiplier, -n) + zero_point);
        }
      }
    }
  }
  ChannelMultipliers<2> m{};
  m.multiplier = {1 << 30, 1 << 30};
  m.shift = {-3, -22};
  CHECK(zero_point_foldable<2>(m, -128));
  m.shift = {-3, -23};  // 2^22 + 128 * 2^23 + 2^30 would overflow
  CHECK_FALSE(zero_point_foldable<2>(m, -128));
  CHECK(zero_point_foldable<2>(m, 5));
}

TEST_CASE("the short output stage is used only where the accumulator bound and shifts allow") {
  ChannelMultipliers<2> m{};
  m.multiplier = {1 << 30, 1 << 30};
  m.shift = {-3, -7};
  CHECK(short_output_stage_applies<2>(m, {1000, (std::int64_t{1} << 30) - 1}));
  CHECK_FALSE(short_output_stage_applies<2>(m, {1000, std::int64_t{1} << 30}));  // 2 * acc overflows
  m.shift = {-3, 0};                                                               // no right shift
  CHECK_FALSE(short_output_stage_applies<2>(m, {1000, 1000}));
  m.shift = {-31, -3};                                                             // 2^30 rounding overflows
  CHECK_FALSE(short_output_stage_applies<2>(m, {1000, 1000}));
}
