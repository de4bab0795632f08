// TransposeConv: int8, 16x8 and float edges. Every expected value is worked out by hand in the
// comment beside it from TFLM's reference kernels (reference_integer_ops::TransposeConv,
// reference_ops::TransposeConv): output (oy, ox) receives input (iy, ix) times tap
// (oy - iy * stride + pad, ox - ix * stride + pad); then bias, requantization, clamp.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;
using i16 = std::int16_t;

template <class Op>
static std::array<typename Op::output::element, Op::output::size> run_tc(
    const std::array<typename Op::input::element, Op::input::size>& x) {
  std::array<typename Op::output::element, Op::output::size> y{};
  Op::run(x.data(), y.data());
  return y;
}

namespace tc_paint {
// Stride 2, 2x2 kernel, VALID: every input pixel paints its own 2x2 block, no overlap.
inline constexpr Quant in_q{1.0f, 3};
inline constexpr Quant out_q{1.0f, -1};
struct in : Tensor<i8, Shape<1, 2, 2, 1>, in_q> {};
struct out : Tensor<i8, Shape<1, 4, 4, 1>, out_q> {};
inline constexpr i8 weights[] = {1, 2, 3, 4};
inline constexpr std::int32_t bias[] = {10};
inline constexpr float scales[] = {1.0f};
using layer = TransposeConv<in, out, weights, bias, scales,
                            TransposeConvOptions{.kernel_h = 2, .kernel_w = 2, .stride_h = 2, .stride_w = 2}>;
}  // namespace tc_paint

TEST_CASE("TransposeConv int8: stride 2 paints one block per input pixel, input zero point, bias") {
  // q = {4, 5, 6, 7} means real {1, 2, 3, 4}; output = 10 + real * w[tap] - 1 (output zero point).
  // rows: r=1 taps w1 w2 | r=2 taps w1 w2 -> 10 11 11 13
  //       r=1 taps w3 w4 | r=2 taps w3 w4 -> 12 13 15 17
  //       r=3 taps w1 w2 | r=4 taps w1 w2 -> 12 15 13 17
  //       r=3 taps w3 w4 | r=4 taps w3 w4 -> 18 21 21 25
  const auto y = run_tc<tc_paint::layer>({4, 5, 6, 7});
  CHECK(y == std::array<i8, 16>{10, 11, 11, 13, 12, 13, 15, 17, 12, 15, 13, 17, 18, 21, 21, 25});
  // MACs: each axis has 2 inputs x 2 taps landing inside the output.
  CHECK(tc_paint::layer::macs == 16);
}

namespace tc_same {
// Stride 1, 3x3 box, SAME (pad 1 on the 3x3 output): the transpose of a box filter is a box filter.
inline constexpr Quant in_q{1.0f, 2};
inline constexpr Quant out_q{1.0f, 0};
struct in : Tensor<i8, Shape<1, 3, 3, 1>, in_q> {};
struct out : Tensor<i8, Shape<1, 3, 3, 2>, out_q> {};
// Channel 0: ones at scale 1; channel 1: twos at scale 0.5 (the same real filter).
inline constexpr i8 weights[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2};
inline constexpr float scales[] = {1.0f, 0.5f};
using layer = TransposeConv<in, out, weights, no_bias, scales,
                            TransposeConvOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same}>;
}  // namespace tc_same

TEST_CASE("TransposeConv int8: overlapping taps, SAME padding, per-channel scales, no bias") {
  // Real input 1..9 in a 3x3 grid; each output sums its in-image 3x3 neighbourhood:
  // 12 21 16 / 27 45 33 / 24 39 28 (taps outside the input contribute nothing, as in TFLM).
  const auto y = run_tc<tc_same::layer>({3, 4, 5, 6, 7, 8, 9, 10, 11});
  const std::array<i8, 9> sums{12, 21, 16, 27, 45, 33, 24, 39, 28};
  for (std::size_t p = 0; p < 9; ++p) {
    CHECK(y[2 * p] == sums[p]);
    CHECK(y[2 * p + 1] == sums[p]);
  }
  // Per axis: input 0 lands 2 taps, input 1 three, input 2 two = 7; 7 * 7 * 1 input * 2 output channels.
  CHECK(tc_same::layer::macs == 98);
}

namespace tc_edge {
// Input zero point -128, stride 3 with a 1x1 kernel: output rows/columns 1, 2, 4, 5 get no tap.
inline constexpr Quant in_q{1.0f, -128};
inline constexpr Quant out_q{256.0f, -5};
struct in : Tensor<i8, Shape<1, 2, 2, 1>, in_q> {};
struct out : Tensor<i8, Shape<1, 4, 4, 2>, out_q> {};
inline constexpr i8 weights[] = {127, -127};
inline constexpr std::int32_t bias[] = {0, 1280};
inline constexpr float scales[] = {1.0f};
using plain = TransposeConv<in, out, weights, bias, scales, TransposeConvOptions{.stride_h = 3, .stride_w = 3}>;
using relu = TransposeConv<in, out, weights, bias, scales,
                           TransposeConvOptions{.stride_h = 3, .stride_w = 3, .activation = Activation::relu}>;
}  // namespace tc_edge

TEST_CASE("TransposeConv int8: input at 127 over zero point -128, saturation, holes, fused ReLU") {
  // x - zp = 255. Channel 0: 255 * 127 = 32385, / 256 = 126.504 -> 127, - 5 = 122.
  // Channel 1: 1280 - 32385 = -31105, / 256 = -121.50 -> -122 (half away from zero), - 5 = -127.
  // Holes (no input lands): channel 0 = 0 - 5 = -5; channel 1 = 1280 / 256 = 5, - 5 = 0.
  // ReLU clamps at the output zero point -5.
  const auto y = run_tc<tc_edge::plain>({127, 127, 127, 127});
  const auto r = run_tc<tc_edge::relu>({127, 127, 127, 127});
  for (int oy = 0; oy < 4; ++oy) {
    for (int ox = 0; ox < 4; ++ox) {
      const bool hit = oy % 3 == 0 && ox % 3 == 0;
      const std::size_t p = static_cast<std::size_t>((oy * 4 + ox) * 2);
      CHECK(y[p] == (hit ? 122 : -5));
      CHECK(y[p + 1] == (hit ? -127 : 0));
      CHECK(r[p] == (hit ? 122 : -5));
      CHECK(r[p + 1] == (hit ? -5 : 0));
    }
  }
  // Inputs at the zero point leave the bias alone: channel 1 everywhere 0, channel 0 everywhere -5.
  const auto z = run_tc<tc_edge::plain>({-128, -128, -128, -128});
  for (std::size_t p = 0; p < z.size(); p += 2) {
    CHECK(z[p] == -5);
    CHECK(z[p + 1] == 0);
  }
}

namespace tc16 {
inline constexpr Quant in_q{1.0f, 0};
inline constexpr Quant out_q{1024.0f, 0};
struct in : Tensor<i16, Shape<1, 1, 1, 1>, in_q> {};
struct out : Tensor<i16, Shape<1, 1, 1, 3>, out_q> {};
inline constexpr i8 weights[] = {127, -127, 1};
inline constexpr std::int64_t bias[] = {0, 0, std::int64_t{1} << 36};
inline constexpr float scales[] = {1.0f};
using layer = TransposeConv<in, out, weights, bias, scales, TransposeConvOptions{}>;
}  // namespace tc16

TEST_CASE("TransposeConv 16x8: 64-bit accumulator and bias, TFLM's 64-bit requantization") {
  // Multiplier 2^-10: (acc * 2^14 + 2^23) >> 24 = floor(acc / 1024 + 1/2).
  // 32767 * 127 = 4161409 -> 4063.88 -> 4064; -4161409 -> -4063.38 floored -> -4064;
  // 2^36 + 32767 does not fit in 32 bits and saturates at 32767.
  CHECK(run_tc<tc16::layer>({32767}) == std::array<i16, 3>{4064, -4064, 32767});
  // -32768 * 127 = -4161536 -> -4064.0 + 0.5 floored -> -4064; 4161536 -> 4064; 2^36 - 32768 -> 32767.
  CHECK(run_tc<tc16::layer>({-32768}) == std::array<i16, 3>{-4064, 4064, 32767});
}

namespace tcf {
struct in : Tensor<float, Shape<1, 1, 2, 1>> {};
struct out : Tensor<float, Shape<1, 1, 3, 1>> {};
inline constexpr float weights[] = {0.5f, -2.0f};
inline constexpr float bias[] = {1.0f};
using layer = TransposeConv<in, out, weights, bias, no_scales,
                            TransposeConvOptions{.kernel_h = 1, .kernel_w = 2, .activation = Activation::relu6}>;
}  // namespace tcf

TEST_CASE("TransposeConv float: overlapping taps summed, bias, fused ReLU6") {
  // x = {4, 3}, taps {0.5, -2}: out0 = 4*0.5 = 2; out1 = 4*-2 + 3*0.5 = -6.5; out2 = 3*-2 = -6;
  // plus bias 1: 3, -5.5, -5; ReLU6: 3, 0, 0.
  CHECK(run_tc<tcf::layer>({4.0f, 3.0f}) == std::array<float, 3>{3.0f, 0.0f, 0.0f});
  // x = {20, 1}: 10 + 1 = 11 -> 6; -40 + 0.5 + 1 -> 0; -2 + 1 -> 0.
  CHECK(run_tc<tcf::layer>({20.0f, 1.0f}) == std::array<float, 3>{6.0f, 0.0f, 0.0f});
}
