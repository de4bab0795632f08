// Per-op int8 tests. Every expected value is worked out by hand in the comment beside it from the
// real-number meaning of the quantized values, then checked against the integer path.
#include <doctest/doctest.h>

#include <array>
#include <limits>
#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

template <class Op, class In, class Out>
static std::array<typename Out::element, Out::size> run1(const std::array<typename In::element, In::size>& x) {
  std::array<typename Out::element, Out::size> y{};
  Op::run(x.data(), y.data());
  return y;
}

// ---- FullyConnected ------------------------------------------------------------------------
namespace fc {
inline constexpr Quant in_q{0.5f, -1};
inline constexpr Quant out_q{1.0f, 5};
struct in : Tensor<i8, Shape<1, 3>, in_q> {};
struct out : Tensor<i8, Shape<1, 4>, out_q> {};
inline constexpr i8 weights[] = {1, 2, 3, -1, 0, 127, -127, -127, -127, 127, 127, 127};
inline constexpr std::int32_t bias[] = {4, -2, 0, 10000};
inline constexpr float scales[] = {0.25f};
using plain = FullyConnected<in, out, weights, bias, scales>;
using relu = FullyConnected<in, out, weights, bias, scales, FullyConnectedOptions{Activation::relu}>;
}  // namespace fc

TEST_CASE("FullyConnected int8: per-tensor, zero point folded into the bias, saturation, fused ReLU") {
  // x = {1, -1, 3} means real {1, 0, 2}. acc = bias + sum w * (x + 1); multiplier 0.5 * 0.25 = 0.125.
  // unit 0: 4 + 2 + 0 + 12 = 18    -> 2.25 -> 2 + 5 = 7
  // unit 1: -2 - 2 + 0 + 508 = 504 -> 63 + 5 = 68
  // unit 2: -127 * 6 = -762        -> -95.25 -> -95 + 5 = -90 (ReLU: 5)
  // unit 3: 10000 + 762 = 10762    -> 1345.25 + 5 -> saturates at 127
  const auto y = run1<fc::plain, fc::in, fc::out>({1, -1, 3});
  CHECK(y == std::array<i8, 4>{7, 68, -90, 127});
  const auto r = run1<fc::relu, fc::in, fc::out>({1, -1, 3});
  CHECK(r == std::array<i8, 4>{7, 68, 5, 127});
}

namespace fc_edge {
inline constexpr Quant in_q{1.0f, 127};
inline constexpr Quant out_q{4.0f, 10};
struct in : Tensor<i8, Shape<1, 3>, in_q> {};
struct out : Tensor<i8, Shape<1, 1>, out_q> {};
inline constexpr i8 weights[] = {1, 1, 1};
inline constexpr std::int32_t bias[] = {0};
inline constexpr float scales[] = {1.0f};
using layer = FullyConnected<in, out, weights, bias, scales>;
}  // namespace fc_edge

TEST_CASE("FullyConnected int8: input zero point at the extreme (127)") {
  // x - 127 = {0, -1, -255}: acc = -256, multiplier 1/4 -> -64 + 10 = -54
  CHECK(run1<fc_edge::layer, fc_edge::in, fc_edge::out>({127, 126, -128})[0] == -54);
}

// ---- Conv2D ---------------------------------------------------------------------------------
namespace conv {
inline constexpr Quant in_q{1.0f, 2};
inline constexpr Quant out_q{1.0f, 0};
struct in : Tensor<i8, Shape<1, 3, 3, 1>, in_q> {};
struct out_same : Tensor<i8, Shape<1, 3, 3, 2>, out_q> {};
struct out_stride : Tensor<i8, Shape<1, 1, 1, 1>, out_q> {};
// Two output channels: all ones at scale 1, all twos at scale 0.5 (the same real filter).
inline constexpr i8 weights2[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2};
inline constexpr std::int32_t bias2[] = {0, 0};
inline constexpr float scales2[] = {1.0f, 0.5f};
using same = Conv2D<in, out_same, weights2, bias2, scales2,
                    Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same}>;
inline constexpr i8 weights1[] = {1, 1, 1, 1};
inline constexpr std::int32_t bias1[] = {0};
inline constexpr float scales1[] = {1.0f};
using strided = Conv2D<in, out_stride, weights1, bias1, scales1,
                       Conv2DOptions{.kernel_h = 2, .kernel_w = 2, .stride_h = 2, .stride_w = 2}>;
using dilated = Conv2D<in, out_stride, weights1, bias1, scales1,
                       Conv2DOptions{.kernel_h = 2, .kernel_w = 2, .dilation_h = 2, .dilation_w = 2}>;
}  // namespace conv

TEST_CASE("Conv2D int8: SAME padding with a non-zero input zero point, per-channel scales") {
  // Input q = 3..11 means real 1..9 in a 3x3 grid; a 3x3 box filter with zero padding gives the
  // neighbourhood sums 12 21 16 / 27 45 33 / 24 39 28. Channel 1 is the same filter at scale 0.5.
  const auto y = run1<conv::same, conv::in, conv::out_same>({3, 4, 5, 6, 7, 8, 9, 10, 11});
  const std::array<i8, 9> sums{12, 21, 16, 27, 45, 33, 24, 39, 28};
  for (std::size_t p = 0; p < 9; ++p) {
    CHECK(y[2 * p] == sums[p]);
    CHECK(y[2 * p + 1] == sums[p]);
  }
}

TEST_CASE("Conv2D int8: stride 2 and dilation 2, VALID") {
  // stride 2, 2x2: the top-left window 1 + 2 + 4 + 5 = 12; dilation 2: corners 1 + 3 + 7 + 9 = 20
  CHECK(run1<conv::strided, conv::in, conv::out_stride>({3, 4, 5, 6, 7, 8, 9, 10, 11})[0] == 12);
  CHECK(run1<conv::dilated, conv::in, conv::out_stride>({3, 4, 5, 6, 7, 8, 9, 10, 11})[0] == 20);
}

// ---- DepthwiseConv2D ------------------------------------------------------------------------
namespace dw {
inline constexpr Quant q{1.0f, 0};
struct in : Tensor<i8, Shape<1, 2, 2, 2>, q> {};
struct out : Tensor<i8, Shape<1, 1, 1, 4>, q> {};
// [kh][kw][out_c]; out_c = ic * 2 + m
inline constexpr i8 weights[] = {1, 1, 1, -1, 1, 0, 1, -1, 1, 0, 1, -1, 1, 1, 1, -1};
inline constexpr std::int32_t bias[] = {0, 0, 0, 0};
inline constexpr float scales[] = {1.0f};
using layer = DepthwiseConv2D<in, out, weights, bias, scales,
                              DepthwiseConv2DOptions{.kernel_h = 2, .kernel_w = 2, .depth_multiplier = 2}>;
}  // namespace dw

TEST_CASE("DepthwiseConv2D int8: depth multiplier 2") {
  // channel 0 = {1,2,3,4}, channel 1 = {10,20,30,40}:
  // out 0 = sum ch0 = 10; out 1 = ch0 corners 1 + 4 = 5; out 2 = sum ch1 = 100; out 3 = -100
  CHECK(run1<dw::layer, dw::in, dw::out>({1, 10, 2, 20, 3, 30, 4, 40}) == std::array<i8, 4>{10, 5, 100, -100});
}

// ---- Pools, Mean ----------------------------------------------------------------------------
namespace pool {
inline constexpr Quant q{0.5f, 0};
struct in : Tensor<i8, Shape<1, 2, 2, 1>, q> {};
struct one : Tensor<i8, Shape<1, 1, 1, 1>, q> {};
struct same : Tensor<i8, Shape<1, 2, 2, 1>, q> {};
struct flat : Tensor<i8, Shape<1, 1>, q> {};
using avg_valid = AveragePool2D<in, one, Pool2DOptions{.filter_h = 2, .filter_w = 2}>;
using avg_same = AveragePool2D<in, same, Pool2DOptions{.filter_h = 2, .filter_w = 2, .padding = Padding::same}>;
using max_same = MaxPool2D<in, same, Pool2DOptions{.filter_h = 2, .filter_w = 2, .padding = Padding::same}>;
using mean = Mean<in, one>;
}  // namespace pool

TEST_CASE("AveragePool2D int8 rounds half away from zero and counts only in-image taps") {
  CHECK(run1<pool::avg_valid, pool::in, pool::one>({1, 2, 3, 5})[0] == 3);       // 11/4 = 2.75
  CHECK(run1<pool::avg_valid, pool::in, pool::one>({-1, -2, -3, -5})[0] == -3);  // -2.75
  CHECK(run1<pool::avg_valid, pool::in, pool::one>({1, 2, 1, 2})[0] == 2);       // 6/4 = 1.5 -> 2
  CHECK(run1<pool::avg_valid, pool::in, pool::one>({-1, -2, -1, -2})[0] == -2);  // -1.5 -> -2
  // SAME: windows (0,0) 4 taps 11/4; (0,1) 2+5 = 7/2; (1,0) 3+5 = 8/2; (1,1) 5/1
  CHECK(run1<pool::avg_same, pool::in, pool::same>({1, 2, 3, 5}) == std::array<i8, 4>{3, 4, 4, 5});
}

TEST_CASE("MaxPool2D int8") {
  CHECK(run1<pool::max_same, pool::in, pool::same>({7, 2, 3, 5}) == std::array<i8, 4>{7, 5, 5, 5});
  CHECK(run1<pool::max_same, pool::in, pool::same>({-128, -128, -128, -127}) == std::array<i8, 4>{-127, -127, -127, -127});
}

TEST_CASE("Mean over H and W, int8") {
  CHECK(run1<pool::mean, pool::in, pool::one>({1, 2, 3, 5})[0] == 3);  // 11 / 4 = 2.75
}

// ---- Add --------------------------------------------------------------------------------------
namespace add {
inline constexpr Quant q1{0.5f, 0};
inline constexpr Quant q2{0.25f, 10};
inline constexpr Quant qo{1.0f, -3};
inline constexpr Quant qo_fine{0.5f, -3};
struct a : Tensor<i8, Shape<1, 2>, q1> {};
struct b : Tensor<i8, Shape<1, 2>, q2> {};
struct o : Tensor<i8, Shape<1, 2>, qo> {};
struct o_fine : Tensor<i8, Shape<1, 2>, qo_fine> {};
using layer = Add<a, b, o>;
using fine = Add<a, b, o_fine>;
using relu = Add<a, b, o, ArithmeticOptions{Activation::relu}>;
using sub = Sub<a, b, o>;
}  // namespace add

TEST_CASE("Add int8 requantizes both inputs") {
  std::array<i8, 2> y{};
  // (4 -> 2.0) + (14 -> 1.0) = 3 -> 0; (127 -> 63.5) + (127 -> 29.25) = 92.75 -> 93 - 3 = 90
  const std::array<i8, 2> a{4, 127}, b{14, 127};
  add::layer::run(a.data(), b.data(), y.data());
  CHECK(y == std::array<i8, 2>{0, 90});
  add::fine::run(a.data(), b.data(), y.data());  // 3 / 0.5 - 3 = 3; 185.5 saturates
  CHECK(y == std::array<i8, 2>{3, 127});
  const std::array<i8, 2> neg_a{-20, 0}, neg_b{10, 10};  // -10 + 0 = -10 -> -13, ReLU -> -3
  add::relu::run(neg_a.data(), neg_b.data(), y.data());
  CHECK(y == std::array<i8, 2>{-3, -3});
  add::sub::run(a.data(), b.data(), y.data());  // 2 - 1 = 1 -> -2; 63.5 - 29.25 = 34.25 -> 31
  CHECK(y == std::array<i8, 2>{-2, 31});
}

// ---- Concatenation, Pad, Reshape --------------------------------------------------------------
namespace shape_ops {
inline constexpr Quant q{0.5f, -7};
struct a : Tensor<i8, Shape<1, 2, 2>, q> {};
struct b : Tensor<i8, Shape<1, 2, 1>, q> {};
struct ab : Tensor<i8, Shape<1, 2, 3>, q> {};
using concat = Concatenation<ab, ConcatenationOptions{.axis = -1}, a, b>;
struct small : Tensor<i8, Shape<1, 1, 2, 1>, q> {};
struct padded : Tensor<i8, Shape<1, 2, 3, 1>, q> {};
using pad = Pad<small, padded, PadOptions{.before = {0, 1, 0, 0}, .after = {0, 0, 1, 0}}>;
}  // namespace shape_ops

TEST_CASE("Concatenation along the last axis, Pad with the zero point") {
  std::array<i8, 6> y{};
  const std::array<i8, 4> a{1, 2, 3, 4};
  const std::array<i8, 2> b{9, 8};
  shape_ops::concat::run(a.data(), b.data(), y.data());
  CHECK(y == std::array<i8, 6>{1, 2, 9, 3, 4, 8});
  const auto p = run1<shape_ops::pad, shape_ops::small, shape_ops::padded>({5, 6});
  CHECK(p == std::array<i8, 6>{-7, -7, -7, 5, 6, -7});
}

// ---- Softmax, Logistic, Tanh ---------------------------------------------------------------
namespace act {
inline constexpr Quant in_q{1.0f, 0};
inline constexpr Quant tenth{0.1f, 0};
inline constexpr Quant softmax_q{1.0f / 256, -128};
inline constexpr Quant tanh_q{1.0f / 128, 0};
struct x4 : Tensor<i8, Shape<1, 4>, in_q> {};
struct p4 : Tensor<i8, Shape<1, 4>, softmax_q> {};
using softmax = Softmax<x4, p4>;
struct x : Tensor<i8, Shape<1, 5>, tenth> {};
struct s : Tensor<i8, Shape<1, 5>, softmax_q> {};
struct t : Tensor<i8, Shape<1, 5>, tanh_q> {};
using logistic = Logistic<x, s>;
using tanh = Tanh<x, t>;
}  // namespace act

TEST_CASE("Softmax int8: uniform row gives 1/4, a dominant entry saturates") {
  CHECK(run1<act::softmax, act::x4, act::p4>({3, 3, 3, 3}) == std::array<i8, 4>{-64, -64, -64, -64});
  CHECK(run1<act::softmax, act::x4, act::p4>({127, -128, -128, -128}) == std::array<i8, 4>{127, -128, -128, -128});
}

TEST_CASE("Logistic and Tanh int8: zero, saturation, and within one step of the real function") {
  // inputs real {0, 1.0, -1.0, 12.7, -12.8}; sigmoid(1) * 256 - 128 = 59.16; tanh(1) * 128 = 97.48
  const auto s = run1<act::logistic, act::x, act::s>({0, 10, -10, 127, -128});
  CHECK(s[0] == 0);
  CHECK(s[1] >= 58);
  CHECK(s[1] <= 60);
  CHECK(s[2] >= -60);
  CHECK(s[2] <= -58);
  CHECK(s[3] == 127);
  CHECK(s[4] == -128);
  const auto t = run1<act::tanh, act::x, act::t>({0, 10, -10, 127, -128});
  CHECK(t[0] == 0);
  CHECK(t[1] >= 96);
  CHECK(t[1] <= 98);
  CHECK(t[2] == -t[1]);
  CHECK(t[3] == 127);
  CHECK(t[4] == -128);
}

// ---- Quantize / Dequantize ------------------------------------------------------------------
namespace quant {
inline constexpr Quant q{0.1f, -3};
inline constexpr Quant one{1.0f, 0};
inline constexpr Quant two{2.0f, 1};
struct f : Tensor<float, Shape<3>> {};
struct q8 : Tensor<i8, Shape<3>, q> {};
struct a : Tensor<i8, Shape<3>, one> {};
struct b : Tensor<i8, Shape<3>, two> {};
inline constexpr Quant dq{0.5f, 4};
struct d8 : Tensor<i8, Shape<3>, dq> {};
using quantize = Quantize<f, q8>;
using requantize = Quantize<a, b>;
using dequantize = Dequantize<d8, f>;
}  // namespace quant

TEST_CASE("Quantize float -> int8, requantize int8 -> int8, Dequantize") {
  // -1.0 / 0.1 = -10 - 3 = -13; 100 saturates; 0.26 / 0.1 = 2.6 -> 3 - 3 = 0
  CHECK(run1<quant::quantize, quant::f, quant::q8>({-1.0f, 100.0f, 0.26f}) == std::array<i8, 3>{-13, 127, 0});
  // 5 / 2 = 2.5 -> 3 (rounded up by the high multiply) + 1 = 4; -128 / 2 = -64 + 1 = -63
  CHECK(run1<quant::requantize, quant::a, quant::b>({5, -128, 0}) == std::array<i8, 3>{4, -63, 1});
  CHECK(run1<quant::dequantize, quant::d8, quant::f>({10, 4, -128}) == std::array<float, 3>{3.0f, 0.0f, -66.0f});
}

// ---- quantize_value / dequantize_value (AffineQuantize at a model's edge) -----------------------
namespace edge_values {
inline constexpr Quant q{0.5f, -3};
struct t : Tensor<i8, Shape<1>, q> {};
inline constexpr Quant q16{0.25f, 7};
struct t16 : Tensor<std::int16_t, Shape<1>, q16> {};
}  // namespace edge_values

TEST_CASE("quantize_value rounds half away from zero in float, then clamps") {
  using edge_values::t;
  // x / 0.5: 2.5 -> 3, -2.5 -> -3, 2.4 -> 2, then + zero point -3.
  static_assert(quantize_value<t>(1.25f) == 0);
  static_assert(quantize_value<t>(-1.25f) == -6);
  static_assert(quantize_value<t>(1.2f) == -1);
  static_assert(quantize_value<t>(1000.0f) == 127);
  static_assert(quantize_value<t>(-1e30f) == -128);
  static_assert(quantize_value<edge_values::t16>(8000.0f) == 32007);
  // The same rounding without the clamp: 1000 / 0.5 - 3, and half away from zero as above.
  static_assert(quantize_unclamped<t>(1000.0f) == 1997 && quantize_unclamped<t>(-1000.0f) == -2003);
  static_assert(quantize_unclamped<t>(1.25f) == 0 && quantize_unclamped<t>(-1.25f) == -6);
  CHECK(quantize_value<t>(std::numeric_limits<float>::quiet_NaN()) == -3);
  CHECK(quantize_value<t>(std::numeric_limits<float>::infinity()) == 127);
  static_assert(dequantize_value<t>(-3) == 0.0f);
  static_assert(dequantize_value<t>(127) == 65.0f);
  // Every int8 value survives dequantize -> quantize.
  for (int v = -128; v <= 127; ++v) CHECK(quantize_value<t>(dequantize_value<t>(static_cast<i8>(v))) == v);
}
