// A hand-written MLP and a small CNN, built twice with the same weights: once int8, once float.
// The int8 network must agree with the float one within one output quantization step. The
// scales are chosen so the error budget allows it: every int8 rounding is at most half a step,
// and the rounding of the hidden layer, propagated through the next layer's weights, adds less
// than another half step (bounds worked out in the comments).
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

namespace {

// A fixed pseudo-random sequence of int8 inputs in [-40, 40].
struct Lcg {
  std::uint32_t state = 12345;
  i8 next() {
    state = state * 1664525u + 1013904223u;
    return static_cast<i8>(static_cast<int>((state >> 16) % 81) - 40);
  }
};

template <std::size_t N>
constexpr std::array<float, N> scaled(const std::int32_t (&values)[N], float scale) {
  std::array<float, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<float>(values[i]) * scale;
  return out;
}
template <std::size_t N>
constexpr std::array<float, N> scaled(const i8 (&values)[N], float scale) {
  std::array<float, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<float>(values[i]) * scale;
  return out;
}

}  // namespace

namespace mlp {
// Input scale 1/16, zero point 3; weights at 1/128; hidden (ReLU) at 1/8 with zero point -128.
inline constexpr float input_scale = 1.0f / 16, weight_scale = 1.0f / 128;
inline constexpr Quant hidden_q{1.0f / 8, -128};
// Output at 0.75: the hidden rounding (1/16) times the largest row sum of |w2| (591/128 = 4.6)
// is 0.29, under half a step, so the total error stays under one step.
inline constexpr Quant output_q{0.75f, 0};
inline constexpr Quant input_q{input_scale, 3};
inline constexpr i8 w1[] = {113, 32, 47, 101, 20, 70, 85, -70, -113, -51, -55, 95, 105, -126, 0, 82,
                            -94, 76, -97, -8, 81, -50, -40, -57, 56, -63, 125, -14, -6, 1, 21, 14};
inline constexpr std::int32_t b1[] = {37, 1982, 1230, 1170, 801, 488, -636, 1955};
inline constexpr i8 w2[] = {-9, -73, 88, -87, 91, 29, -98, -116, -14, -118, -91, 4,
                            120, -9, 79, 106, 82, 33, -15, 4, -60, -1, -31, -64};
inline constexpr std::int32_t b2[] = {1973, -1953, -1612};
inline constexpr float scales[] = {weight_scale};
using quantized = Sequential<seq::Input<i8, Shape<1, 4>, input_q>,
                             seq::QuantizedDense<w1, b1, scales, hidden_q, Activation::relu>,
                             seq::QuantizedDense<w2, b2, scales, output_q>>;

inline constexpr auto w1f = scaled(w1, weight_scale);
inline constexpr auto b1f = scaled(b1, input_scale * weight_scale);
inline constexpr auto w2f = scaled(w2, weight_scale);
inline constexpr auto b2f = scaled(b2, hidden_q.scale * weight_scale);
using real = Sequential<seq::Input<float, Shape<1, 4>>, seq::Dense<w1f, b1f, Activation::relu>, seq::Dense<w2f, b2f>>;
}  // namespace mlp

TEST_CASE("int8 MLP agrees with its float twin within one quantization step") {
  Lcg random;
  for (int sample = 0; sample < 500; ++sample) {
    std::array<i8, 4> xq{};
    std::array<float, 4> xf{};
    for (std::size_t i = 0; i < 4; ++i) {
      xq[i] = random.next();
      xf[i] = static_cast<float>(xq[i] - mlp::input_q.zero_point) * mlp::input_scale;
    }
    const auto yq = mlp::quantized::evaluate(xq);
    const auto yf = mlp::real::evaluate(xf);
    for (std::size_t o = 0; o < 3; ++o) {
      const float dequantized = static_cast<float>(yq[o] - mlp::output_q.zero_point) * mlp::output_q.scale;
      CHECK(std::fabs(dequantized - yf[o]) <= mlp::output_q.scale * 1.0001f);
    }
  }
}

namespace cnn {
// 6x6x1 input -> 3x3 conv (4 channels, per-channel scales, SAME, ReLU) -> 6x6 average -> FC 3.
inline constexpr float input_scale = 1.0f / 16;
inline constexpr Quant input_q{input_scale, 3};
inline constexpr Quant hidden_q{1.0f / 8, -128};
// The pooled value carries the conv's rounding plus the pool's (one hidden step, 1/8); through
// the FC (largest row sum of |w| 225/128) that is 0.22, plus half an output step: under 0.5.
inline constexpr Quant output_q{0.5f, 0};
inline constexpr i8 cw[] = {-78, 120, 49,  97,  -76, 56, -33, -3,  -127, 30, 84,  42,
                            -88, 9,   -59, 119, 97,  -80, 2,  112, 89,   53, 36,  -117,
                            62,  -7,  -104, -65, 10, 58,  2,  29,  95,   47, -35, 37};
inline constexpr std::int32_t cb[] = {98, -392, -441, 160};
inline constexpr float cs[] = {1.0f / 128, 1.0f / 64, 1.0f / 128, 1.0f / 256};
inline constexpr i8 fw[] = {-29, 25, -45, -70, -89, -30, 81, -25, -31, 19, 122, -27};
inline constexpr std::int32_t fb[] = {89, -61, 105};
inline constexpr float fs[] = {1.0f / 128};
inline constexpr Conv2DOptions conv_options{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same,
                                            .activation = Activation::relu};
inline constexpr Pool2DOptions pool_options{.filter_h = 6, .filter_w = 6, .stride_h = 6, .stride_w = 6};
using quantized = Sequential<seq::Input<i8, Shape<1, 6, 6, 1>, input_q>, seq::Conv<cw, cb, conv_options, cs, hidden_q>,
                             seq::AveragePool<pool_options>, seq::Flatten, seq::QuantizedDense<fw, fb, fs, output_q>>;

inline constexpr auto cwf = [] {
  std::array<float, 36> out{};
  for (std::size_t i = 0; i < 36; ++i) out[i] = static_cast<float>(cw[i]) * cs[i / 9];
  return out;
}();
inline constexpr auto cbf = [] {
  std::array<float, 4> out{};
  for (std::size_t i = 0; i < 4; ++i) out[i] = static_cast<float>(cb[i]) * input_scale * cs[i];
  return out;
}();
inline constexpr auto fwf = scaled(fw, fs[0]);
inline constexpr auto fbf = scaled(fb, hidden_q.scale * fs[0]);
using real = Sequential<seq::Input<float, Shape<1, 6, 6, 1>>, seq::Conv<cwf, cbf, conv_options>,
                        seq::AveragePool<pool_options>, seq::Flatten, seq::Dense<fwf, fbf>>;
}  // namespace cnn

TEST_CASE("int8 CNN (per-channel conv, pool, dense) agrees with its float twin within one step") {
  Lcg random;
  for (int sample = 0; sample < 300; ++sample) {
    std::array<i8, 36> xq{};
    std::array<float, 36> xf{};
    for (std::size_t i = 0; i < 36; ++i) {
      xq[i] = random.next();
      xf[i] = static_cast<float>(xq[i] - cnn::input_q.zero_point) * cnn::input_scale;
    }
    const auto yq = cnn::quantized::evaluate(xq);
    const auto yf = cnn::real::evaluate(xf);
    for (std::size_t o = 0; o < 3; ++o) {
      const float dequantized = static_cast<float>(yq[o] - cnn::output_q.zero_point) * cnn::output_q.scale;
      CHECK(std::fabs(dequantized - yf[o]) <= cnn::output_q.scale * 1.0001f);
    }
  }
}
