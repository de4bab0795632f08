// Sum, ReduceMax, Exp, Log, Sqrt, Rsqrt (issue 12): axes, keep_dims-free layouts, float order and
// NaN rules, int8 rounding, and the compile-time sqrtf. Expected values are worked out by hand in
// the comments (or come from the C library, for the float functions TFLM calls); the byte-for-byte
// comparison with TFLM itself is the tflm-ops conformance suite.
#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

namespace reduce {
inline constexpr Quant half{0.5f, 0};
inline constexpr Quant one{1.0f, 0};
struct x23 : Tensor<i8, Shape<2, 3>, half> {};
struct rows : Tensor<i8, Shape<2>, one> {};
struct cols : Tensor<i8, Shape<1, 3>, one> {};
using sum_rows = Sum<x23, rows, axes(1)>;
using sum_cols = Sum<x23, cols, axes(0)>;
struct x232 : Tensor<i8, Shape<2, 3, 2>, half> {};
struct y22 : Tensor<i8, Shape<2, 1, 2>, half> {};
using max_middle = ReduceMax<x232, y22, axes(1)>;
struct f3 : Tensor<float, Shape<3>> {};
struct f1 : Tensor<float, Shape<1>> {};
using fsum = Sum<f3, f1, axes(0)>;
using fmax = ReduceMax<f3, f1, axes(0)>;
}  // namespace reduce

TEST_CASE("axes() is a bit mask of the reduced axes") {
  static_assert(axes(1, 2) == 0b110u && axes(0) == 1u && axes(3, 3) == 0b1000u);
}

TEST_CASE("Sum int8 over the last or the first axis: TFLM's requantization of the raw sum") {
  const std::array<i8, 6> x{1, 2, 3, 4, 5, -6};
  std::array<i8, 2> r{};
  reduce::sum_rows::run(x.data(), r.data());
  // rows 6 and 3 (x 0.5): MultiplyByQuantizedMultiplier(s, 2^30, 0) = (s * 2^30 + 2^30) >> 31 -> 3, 2
  CHECK(r == std::array<i8, 2>{3, 2});
  std::array<i8, 3> c{};
  reduce::sum_cols::run(x.data(), c.data());
  // columns 5, 7, -3: (6 * 2^30) >> 31 = 3, (8 * 2^30) >> 31 = 4, (-4 * 2^30 + 1) / 2^31 truncated = -1
  CHECK(c == std::array<i8, 3>{3, 4, -1});
}

TEST_CASE("ReduceMax over a middle axis keeps the outer and inner axes apart") {
  // x[b][k][j]: b = 0 -> {1, -5}, {7, 2}, {-3, 9}; b = 1 -> {-128, -128}, {-100, -127}, {-128, -128}
  const std::array<i8, 12> x{1, -5, 7, 2, -3, 9, -128, -128, -100, -127, -128, -128};
  std::array<i8, 4> y{};
  reduce::max_middle::run(x.data(), y.data());
  CHECK(y == std::array<i8, 4>{7, 9, -100, -127});
}

TEST_CASE("float Sum adds in input order; float ReduceMax never picks a NaN") {
  const std::array<float, 3> x{1e8f, 1.0f, -1e8f};
  std::array<float, 1> y{};
  reduce::fsum::run(x.data(), y.data());
  CHECK(y[0] == 0.0f);  // (1e8 + 1) rounds to 1e8 in float, then - 1e8
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::array<float, 3> all_nan{nan, nan, nan}, some{1.0f, nan, -2.0f};
  reduce::fmax::run(all_nan.data(), y.data());
  CHECK(y[0] == std::numeric_limits<float>::lowest());
  reduce::fmax::run(some.data(), y.data());
  CHECK(y[0] == 1.0f);
}

TEST_CASE("the compile-time sqrtf is std::sqrt's correctly rounded float") {
  static_assert(detail::sqrt_float(4.0f) == 2.0f && detail::sqrt_float(0.25f) == 0.5f);
  for (std::uint32_t bits = 0x00000001u; bits < 0x7f800000u; bits += 0x00012345u) {
    const float x = std::bit_cast<float>(bits);
    REQUIRE(detail::sqrt_float(x) == std::sqrt(x));
  }
}

namespace math {
struct f4 : Tensor<float, Shape<4>> {};
struct g4 : Tensor<float, Shape<4>> {};
inline constexpr Quant in_q{0.25f, -128};
inline constexpr Quant out_q{1.0f / 16, 0};
struct q4 : Tensor<i8, Shape<4>, in_q> {};
struct r4 : Tensor<i8, Shape<4>, out_q> {};
using rsqrt8 = Rsqrt<q4, r4>;
}  // namespace math

TEST_CASE("Exp, Log, Sqrt, Rsqrt float are the C library's functions") {
  const std::array<float, 4> x{0.0f, 1.0f, 2.5f, -1.0f};
  std::array<float, 4> y{};
  Exp<math::f4, math::g4>::run(x.data(), y.data());
  CHECK(y == std::array<float, 4>{1.0f, std::exp(1.0f), std::exp(2.5f), std::exp(-1.0f)});
  Log<math::f4, math::g4>::run(x.data(), y.data());
  CHECK((std::isinf(y[0]) && y[0] < 0 && y[1] == 0.0f && y[2] == std::log(2.5f) && std::isnan(y[3])));
  Sqrt<math::f4, math::g4>::run(x.data(), y.data());
  CHECK((y[0] == 0.0f && y[1] == 1.0f && y[2] == std::sqrt(2.5f) && std::isnan(y[3])));
  Rsqrt<math::f4, math::g4>::run(x.data(), y.data());
  CHECK((std::isinf(y[0]) && y[1] == 1.0f && y[2] == 1.0f / std::sqrt(2.5f) && std::isnan(y[3])));
}

TEST_CASE("Rsqrt int8: 1/sqrt of the real value; the zero point gives the maximum") {
  // input scale 1/4, zero point -128: -127 -> 0.25, -124 -> 1, -112 -> 4; output scale 1/16.
  const std::array<i8, 4> x{-128, -127, -124, -112};
  std::array<i8, 4> y{};
  math::rsqrt8::run(x.data(), y.data());
  CHECK(y == std::array<i8, 4>{127, 32, 16, 8});  // max; 1/sqrt(0.25) = 2; 1; 0.5 (x 16)
}
