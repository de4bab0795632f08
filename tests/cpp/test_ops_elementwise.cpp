// Element-wise ops of issue 12 (Mul, Maximum, Minimum, SquaredDifference, Abs, Neg, HardSwish,
// Prelu): int8/int16 edges -- rounding ties, saturation, broadcasting, constant operands. Every
// expected value is worked out by hand in the comment beside it, from the real-number meaning of
// the quantized values or from TFLM's integer formula step by step; the byte-for-byte comparison
// with TFLM itself is the tflm-ops conformance suite.
#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <cstdint>
#include <limits>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;
using i16 = std::int16_t;

template <class T, std::size_t N>
using arr = std::array<T, N>;

// ---- Mul ----------------------------------------------------------------------------------------
namespace mul {
inline constexpr Quant qa{0.5f, 10};
inline constexpr Quant qb{0.25f, -4};
inline constexpr Quant qo{0.5f, -3};
struct a : Tensor<i8, Shape<2, 3>, qa> {};
struct b : Tensor<i8, Shape<3>, qb> {};
struct o : Tensor<i8, Shape<2, 3>, qo> {};
inline constexpr i8 b_values[] = {2, 2, 100};
struct b_const : ConstantTensor<i8, Shape<3>, b_values, qb> {};
using layer = Mul<a, b, o>;
using relu = Mul<a, b, o, ArithmeticOptions{Activation::relu}>;
using by_constant = Mul<a, b_const, o>;
using constant_first = Mul<b_const, a, o>;

inline constexpr Quant q16{1.0f / 1024, 0};
struct x16 : Tensor<i16, Shape<4>, q16> {};
struct y16 : Tensor<i16, Shape<4>, q16> {};
struct o16 : Tensor<i16, Shape<4>, q16> {};
using int16 = Mul<x16, y16, o16>;

struct fa : Tensor<float, Shape<3>> {};
struct fb : Tensor<float, Shape<3>> {};
struct fo : Tensor<float, Shape<3>> {};
using float_relu6 = Mul<fa, fb, fo, ArithmeticOptions{Activation::relu6}>;
}  // namespace mul

TEST_CASE("Mul int8: ties round away from zero, saturation, broadcast of [C], fused ReLU") {
  // real out = (a - 10) * 0.5 * (b + 4) * 0.25 / 0.5 - 3 = (a - 10) * (b + 4) / 4 - 3
  // a - 10 = {3, -3, 0 | 117, -138, 1}; b + 4 = {6, 6, 104} repeated on both rows
  // products {18, -18, 0 | 702, -828, 104} / 4 = {4.5, -4.5, 0 | 175.5, -207, 26}
  // rounded {5, -5, 0 | 176, -207, 26} - 3 = {2, -8, -3 | 173 -> 127, -210 -> -128, 23}
  const arr<i8, 6> a{13, 7, 10, 127, -128, 11};
  const arr<i8, 3> b{2, 2, 100};
  arr<i8, 6> y{};
  mul::layer::run(a.data(), b.data(), y.data());
  CHECK(y == arr<i8, 6>{2, -8, -3, 127, -128, 23});
  mul::relu::run(a.data(), b.data(), y.data());  // ReLU: nothing below the zero point -3
  CHECK(y == arr<i8, 6>{2, -3, -3, 127, -3, 23});
  // The same factor as a constant operand, second or first: one runtime input.
  static_assert(mul::by_constant::inputs::size == 1 && mul::constant_first::inputs::size == 1);
  static_assert(mul::by_constant::weight_bytes == 3 && mul::by_constant::in_place);
  y = {};
  mul::by_constant::run(a.data(), y.data());
  CHECK(y == arr<i8, 6>{2, -8, -3, 127, -128, 23});
  y = {};
  mul::constant_first::run(a.data(), y.data());
  CHECK(y == arr<i8, 6>{2, -8, -3, 127, -128, 23});
}

TEST_CASE("Mul int16 (zero points 0) and float with ReLU6") {
  // multiplier 1/1024: 32 * 48 / 1024 = 1.5 -> 2; -1.5 -> -2; 32767^2 / 1024 saturates both ways
  const arr<i16, 4> x{32, -32, 32767, -32768}, y{48, 48, 32767, 32767};
  arr<i16, 4> out{};
  mul::int16::run(x.data(), y.data(), out.data());
  CHECK(out == arr<i16, 4>{2, -2, 32767, -32768});
  const arr<float, 3> fa{2.0f, -1.0f, 1.5f}, fb{4.0f, 3.0f, 2.0f};
  arr<float, 3> fo{};
  mul::float_relu6::run(fa.data(), fb.data(), fo.data());  // 8 -> 6, -3 -> 0, 3
  CHECK(fo == arr<float, 3>{6.0f, 0.0f, 3.0f});
}

// ---- Maximum, Minimum -----------------------------------------------------------------------------
namespace extremum {
inline constexpr Quant q{0.1f, 3};
struct a : Tensor<i8, Shape<2, 1, 1, 1, 3>, q> {};
struct b : Tensor<i8, Shape<1, 2, 1, 1, 1>, q> {};
struct o : Tensor<i8, Shape<2, 2, 1, 1, 3>, q> {};
using max = Maximum<a, b, o>;
using min = Minimum<a, b, o>;
struct f : Tensor<float, Shape<2>> {};
struct g : Tensor<float, Shape<2>> {};
struct h : Tensor<float, Shape<2>> {};
using fmax = Maximum<f, g, h>;
}  // namespace extremum

TEST_CASE("Maximum and Minimum int8: raw comparison, 5-D broadcast of both operands") {
  // out[i][j][0][0][k] = max(a[i][k], b[j])
  const arr<i8, 6> a{-128, 0, 127, 5, 6, 7};
  const arr<i8, 2> b{1, 6};
  arr<i8, 12> y{};
  extremum::max::run(a.data(), b.data(), y.data());
  CHECK(y == arr<i8, 12>{1, 1, 127, 6, 6, 127, 5, 6, 7, 6, 6, 7});
  extremum::min::run(a.data(), b.data(), y.data());
  CHECK(y == arr<i8, 12>{-128, 0, 1, -128, 0, 6, 1, 1, 1, 5, 6, 6});
}

TEST_CASE("Maximum float compares with >, as TFLM: a NaN first operand yields the second") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const arr<float, 2> f{nan, 1.0f}, g{1.0f, nan};
  arr<float, 2> h{};
  extremum::fmax::run(f.data(), g.data(), h.data());
  CHECK(h[0] == 1.0f);
  CHECK(h[1] != h[1]);  // 1 > NaN is false: the NaN
}

// ---- SquaredDifference ----------------------------------------------------------------------------
namespace sqdiff {
inline constexpr Quant qa{0.5f, 0};
inline constexpr Quant qo{0.5f, -128};
struct a : Tensor<i8, Shape<1, 2, 2>, qa> {};
struct b : Tensor<i8, Shape<2>, qa> {};
struct o : Tensor<i8, Shape<1, 2, 2>, qo> {};
using layer = SquaredDifference<a, b, o>;
struct fa : Tensor<float, Shape<1>> {};
struct fo : Tensor<float, Shape<1>> {};
using float_layer = SquaredDifference<fa, fa, fo>;
}  // namespace sqdiff

TEST_CASE("SquaredDifference int8: rounding tie, saturation, broadcast") {
  // real = (0.5 d)^2 = d^2 / 4, out = d^2 / 2 - 128 with d = a - b.
  // TFLM's steps: inputs * 2^7 * (0.5 / 1.0) = 64 a; (64 d)^2 = 4096 d^2; multiplier
  // 1.0^2 / (2^14 * 0.5) = 2^-13: d^2 / 2 rounded half away from zero.
  // b = {1, 127} broadcast over both rows; a = {4, 127 | 2, -128}
  // d = {3, 0 | 1, -255}: {4.5 -> 5, 0, 0.5 -> 1, 32512.5} - 128 = {-123, -128, -127, 127 (saturated)}
  const arr<i8, 4> a{4, 127, 2, -128};
  const arr<i8, 2> b{1, 127};
  arr<i8, 4> y{};
  sqdiff::layer::run(a.data(), b.data(), y.data());
  CHECK(y == arr<i8, 4>{-123, -128, -127, 127});
  const arr<float, 1> x{1.5f}, z{4.0f};
  arr<float, 1> f{};
  sqdiff::float_layer::run(x.data(), z.data(), f.data());
  CHECK(f[0] == 6.25f);
}

// ---- Abs, Neg --------------------------------------------------------------------------------------
namespace unary {
inline constexpr Quant q_in{0.75f, 0};
inline constexpr Quant q_out{0.5f, -60};
struct a : Tensor<i8, Shape<6>, q_in> {};
struct b : Tensor<i8, Shape<6>, q_out> {};
using abs_rescale = Abs<a, b>;
inline constexpr Quant q_same_in{0.5f, 10};
inline constexpr Quant q_same_out{0.5f, 100};
struct c : Tensor<i8, Shape<3>, q_same_in> {};
struct d : Tensor<i8, Shape<3>, q_same_out> {};
using abs_same_scale = Abs<c, d>;
struct raw16 : Tensor<i16, Shape<3>> {};
struct raw16_out : Tensor<i16, Shape<3>> {};
using abs_raw = Abs<raw16, raw16_out>;
struct f : Tensor<float, Shape<3>> {};
struct g : Tensor<float, Shape<3>> {};
using abs_float = Abs<f, g>;
using neg = Neg<f, g>;
}  // namespace unary

TEST_CASE("Abs int8: requantized (ties away from zero, saturation), same scale passes through") {
  // |x| * 0.75 / 0.5 - 60: 0 -> -60; +-1 -> 1.5 -> 2 -> -58; 3 -> 4.5 -> 5 -> -55;
  // 127 -> 190.5 -> 191 -> 131 -> 127; -128 -> 192 -> 132 -> 127
  const arr<i8, 6> x{0, 1, -1, 3, 127, -128};
  arr<i8, 6> y{};
  unary::abs_rescale::run(x.data(), y.data());
  CHECK(y == arr<i8, 6>{-60, -58, -58, -55, 127, 127});
  // equal scales: |x - 10| + 100 unscaled: 10 -> 100, 7 -> 103, -128 -> 238 -> 127
  const arr<i8, 3> s{10, 7, -128};
  arr<i8, 3> t{};
  unary::abs_same_scale::run(s.data(), t.data());
  CHECK(t == arr<i8, 3>{100, 103, 127});
}

TEST_CASE("Abs of unquantized int16 wraps -32768 like TFLM; float Abs and Neg flip the sign bit") {
  const arr<i16, 3> x{-32768, -5, 7};
  arr<i16, 3> y{};
  unary::abs_raw::run(x.data(), y.data());
  CHECK(y == arr<i16, 3>{-32768, 5, 7});
  const arr<float, 3> f{-0.0f, -2.5f, 1.5f};
  arr<float, 3> g{};
  unary::abs_float::run(f.data(), g.data());
  CHECK(std::bit_cast<std::uint32_t>(g[0]) == 0u);  // +0.0
  CHECK(g[1] == 2.5f);
  CHECK(g[2] == 1.5f);
  const arr<float, 3> z{0.0f, 1.5f, -2.0f};
  unary::neg::run(z.data(), g.data());
  CHECK(std::bit_cast<std::uint32_t>(g[0]) == 0x80000000u);  // -0.0
  CHECK(g[1] == -1.5f);
  CHECK(g[2] == 2.0f);
}

// ---- HardSwish ---------------------------------------------------------------------------------------
namespace hswish {
inline constexpr Quant q{0.0625f, 0};
inline constexpr Quant q_shifted{0.0625f, 100};
struct in : Tensor<i8, Shape<5>, q> {};
struct out : Tensor<i8, Shape<5>, q> {};
struct out_shifted : Tensor<i8, Shape<5>, q_shifted> {};
using layer = HardSwish<in, out>;
using shifted = HardSwish<in, out_shifted>;
struct f : Tensor<float, Shape<4>> {};
using float_layer = HardSwish<f, f>;
}  // namespace hswish

TEST_CASE("HardSwish int8: TFLM's 16-bit fixed point, step by step") {
  // Scales 1/16 in and out: hires scale 2^-11, output multiplier 2^-7 -> Q15 16384 (0.5), exponent
  // -6; reluish multiplier 2^-11 / (3 / 32768) = 16/3 -> 0.6667 * 2^3 -> Q15 21845, exponent 3.
  static_assert(hswish::layer::params.output_multiplier == 16384 && hswish::layer::params.output_exponent == -6);
  static_assert(hswish::layer::params.reluish_multiplier == 21845 && hswish::layer::params.reluish_exponent == 3);
  // x = 16 (1.0): hires 2048; on output scale 2048 * 0.5 = 1024; reluish 2048 << 2 = 8192,
  //   * 21845 / 2^15 = 5461.75 -> 5461 (truncated after the nudge), << 1 = 10922, to [0, 1]:
  //   (10922 + 32768) >> 1 = 21845; 21845 * 1024 / 2^15 = 682.6 -> 682; / 2^6 = 10.66 -> 11
  //   (real: 1 * 4 / 6 = 0.667 = 10.7 steps)
  // x = 48 (3.0): 6144 -> 3072; reluish 24576 * 21845 / 2^15 = 16384.25 -> 16384, << 1 saturates
  //   at 32767 -> 32767; 32767 * 3072 / 2^15 = 3071.9 -> 3071; / 64 = 47.98 -> 48 (real 3.0)
  // x = -16 (-1.0): -2048 -> -1024; reluish -5461 -> -10922 -> 10923; 10923 * -1024 / 2^15 =
  //   -341.3 -> -341; / 64 = -5.33 -> -5 (real -1/3 = -5.3 steps)
  // x = -128 (-8.0): reluish saturates at -32768 -> 0: the output is 0
  // x = 127 (7.94): reluish 32767; on output scale 8128; 32767 * 8128 / 2^15 = 8127.75 -> 8127;
  //   / 64 = 126.98 -> 127
  const arr<i8, 5> x{16, 48, -16, -128, 127};
  arr<i8, 5> y{};
  hswish::layer::run(x.data(), y.data());
  CHECK(y == arr<i8, 5>{11, 48, -5, 0, 127});
  hswish::shifted::run(x.data(), y.data());  // + 100, saturating at 127
  CHECK(y == arr<i8, 5>{111, 127, 95, 100, 127});
}

TEST_CASE("HardSwish float: x * relu6(x + 3) / 6") {
  const arr<float, 4> x{-4.0f, -1.5f, 0.0f, 3.0f};
  arr<float, 4> y{};
  hswish::float_layer::run(x.data(), y.data());
  CHECK(y == arr<float, 4>{0.0f, -0.375f, 0.0f, 3.0f});  // -1.5 * 1.5 / 6 = -0.375
}

// ---- Prelu ------------------------------------------------------------------------------------------
namespace prelu {
inline constexpr Quant q_in{0.5f, -10};
inline constexpr Quant q_alpha{0.25f, 0};
inline constexpr Quant q_out{0.5f, 5};
inline constexpr i8 alpha_values[] = {1, 2};
struct in : Tensor<i8, Shape<3, 2>, q_in> {};
struct alpha : ConstantTensor<i8, Shape<2>, alpha_values, q_alpha> {};
struct out : Tensor<i8, Shape<3, 2>, q_out> {};
using layer = Prelu<in, alpha, out>;

inline constexpr Quant q16{1.0f / 1024, 0};
inline constexpr Quant q_alpha8{1.0f / 128, 0};
inline constexpr i8 alpha8_values[] = {-128, 64};
struct in16 : Tensor<i16, Shape<2>, q16> {};
struct alpha8 : ConstantTensor<i8, Shape<2>, alpha8_values, q_alpha8> {};
struct out16 : Tensor<i16, Shape<2>, q16> {};
using int16 = Prelu<in16, alpha8, out16>;

inline constexpr float falpha_values[] = {0.25f};
struct f : Tensor<float, Shape<2>> {};
struct falpha : ConstantTensor<float, Shape<1>, falpha_values> {};
using float_layer = Prelu<f, falpha, f>;
}  // namespace prelu

TEST_CASE("Prelu int8: per-channel constant alpha, ties, saturation") {
  // x + 10 = {3, -1 | -2, -118 | 137, 110}; alpha = {0.25, 0.5} per channel (column)
  // >= 0: * 0.5 / 0.5; < 0: * alpha * 0.5 / 0.5 -> (x + 10) * alpha_q / 4
  // {3, -2 / 4 = -0.5 -> -1 | -2 / 4 = -0.5 -> -1, -236 / 4 = -59 | 137, 110} + 5
  const arr<i8, 6> x{-7, -11, -12, -128, 127, 100};
  arr<i8, 6> y{};
  prelu::layer::run(x.data(), y.data());
  CHECK(y == arr<i8, 6>{8, 4, 4, -54, 127, 115});
}

TEST_CASE("Prelu int16 with int8 alpha, and float") {
  // multiplier for x < 0: (1/1024) (1/128) / (1/1024) = 1/128
  // -32768 * -128 / 128 = 32768 -> 32767; -3 * 64 / 128 = -1.5 -> -2
  const arr<i16, 2> x{-32768, -3};
  arr<i16, 2> y{};
  prelu::int16::run(x.data(), y.data());
  CHECK(y == arr<i16, 2>{32767, -2});
  const arr<float, 2> f{-2.0f, 3.0f};
  arr<float, 2> g{};
  prelu::float_layer::run(f.data(), g.data());
  CHECK(g == arr<float, 2>{-0.5f, 3.0f});
}

// ---- In a network: a constant operand is not in the arena, and the whole thing is constexpr --------
namespace net {
inline constexpr Quant q{0.5f, 0};
inline constexpr i8 two_values[] = {4};  // 2.0
struct x : Tensor<i8, Shape<1, 4>, q> {};
struct two : ConstantTensor<i8, Shape<1>, two_values, q> {};
struct doubled : Tensor<i8, Shape<1, 4>, q> {};
struct out : Tensor<i8, Shape<1, 4>, q> {};
using network = Network<Inputs<x>, Outputs<out>, Mul<x, two, doubled>, Maximum<doubled, x, out>>;
}  // namespace net

TEST_CASE("Network with a constant Mul operand, evaluated at compile time") {
  // x * 2.0 then max with x: {1, -3, 0, 60} -> {2, -6, 0, 120} -> {2, -3, 0, 120}
  static_assert(net::network::evaluate(arr<i8, 4>{1, -3, 0, 60}) == arr<i8, 4>{2, -3, 0, 120});
  static_assert(net::network::weight_bytes == 1);
  // Two 16-byte-aligned buffers: x, and doubled (x is read again by Maximum), which out overwrites
  // in place; without the sharing it would be three.
  CHECK(net::network::arena_bytes == 32);
}

// ---- Div, Elu ---------------------------------------------------------------------------------------
namespace divide {
inline constexpr Quant qa{0.5f, 0};
inline constexpr Quant qb{0.25f, 4};
inline constexpr Quant qo{0.25f, -10};
inline constexpr i8 divisor_values[] = {12, -4, 44};  // 2.0, -2.0, 10.0
struct a : Tensor<i8, Shape<2, 3>, qa> {};
struct b : ConstantTensor<i8, Shape<3>, divisor_values, qb> {};
struct o : Tensor<i8, Shape<2, 3>, qo> {};
using layer = Div<a, b, o>;
struct f : Tensor<float, Shape<2>> {};
using float_relu = Div<f, f, f, ArithmeticOptions{Activation::relu}>;
}  // namespace divide

TEST_CASE("Div int8 by a constant: sign of the divisor, saturation, TFLM's 0 / b") {
  // real a = x / 2; out = quotient / 0.25 - 10 = 4 * quotient - 10
  // x = 3 (1.5): / 2.0 = 0.75 -> 3 - 10 = -7; / -2.0 -> -3 - 10 = -13; / 10.0 = 0.15 -> 0.6 -> 1 - 10 = -9
  // x = 127 (63.5): / 2 = 31.75 -> 127 - 10 = 117; / -2 -> -137 -> -128; / 10 = 6.35 -> 25.4 -> 25 - 10 = 15
  const arr<i8, 6> x{3, 3, 3, 127, 127, 127};
  arr<i8, 6> y{};
  divide::layer::run(x.data(), y.data());
  CHECK(y == arr<i8, 6>{-7, -13, -9, 117, -128, 15});
  // A dividend at its zero point (0 has 31 leading sign bits). Multiplier 8 = 0.5 * 2^4 (shift 4);
  // the divisors are 8, -8 and 40 steps, reciprocal shifts 3, 3 and 5. TFLM's final rounding
  // shift is 31 + 3 - 4 = 30 for the first two (0 stays 0: the zero point, -10) and 31 + 5 - 4 =
  // 32 for the third, where gemmlowp's RoundingDivideByPOT, compiled, returns 1 for 0: -9.
  const arr<i8, 6> zero{0, 0, 0, 0, 0, 0};
  divide::layer::run(zero.data(), y.data());
  CHECK(y == arr<i8, 6>{-10, -10, -9, -10, -10, -9});
  const arr<float, 2> p{3.0f, -3.0f}, q{2.0f, 2.0f};
  arr<float, 2> r{};
  divide::float_relu::run(p.data(), q.data(), r.data());
  CHECK(r == arr<float, 2>{1.5f, 0.0f});
}

namespace elu {
inline constexpr Quant q_in{0.5f, 0};
inline constexpr Quant q_out{0.25f, 10};
struct in : Tensor<i8, Shape<4>, q_in> {};
struct out : Tensor<i8, Shape<4>, q_out> {};
using layer = Elu<in, out>;
}  // namespace elu

TEST_CASE("Elu int8: the table TFLM builds with expf") {
  // x = -2 (-1.0): e^-1 - 1 = -0.632 / 0.25 = -2.53 -> -3 + 10 = 7
  // x = -128 (-64): -1.0 / 0.25 = -4 -> 6;  x = 1 (0.5) -> 2 -> 12;  x = 127 (63.5) -> 254 + 10 -> 127
  const arr<i8, 4> x{-2, -128, 1, 127};
  arr<i8, 4> y{};
  elu::layer::run(x.data(), y.data());
  CHECK(y == arr<i8, 4>{7, 6, 12, 127});
}
