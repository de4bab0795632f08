// Integer edges, op by op: inputs at -128 and 127, zero points at -128 and 127, multipliers whose
// Q0.31 mantissa is 2^31 - 128 (a real ratio just below 1) and ratios of 2^-31, 2^-32 (the last
// shift TFLite keeps) and 2^-33 (flushed to a zero multiplier), outputs driven into saturation.
// Each op is compared with a reference written here from TFLM's formulas (../shared/
// tflite-int8-facts.md): std::frexp/std::llround for QuantizeMultiplier, 64-bit arithmetic for the
// doubling high multiply and the rounding shift -- none of the library's fixed-point code.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

namespace ref {

struct Multiplier {
  std::int32_t m;
  int shift;
};

// QuantizeMultiplier (quantization_util.cc).
Multiplier quantize(double real) {
  if (real == 0.0) return {0, 0};
  int exponent = 0;
  const double mantissa = std::frexp(real, &exponent);
  std::int64_t q = std::llround(mantissa * 2147483648.0);  // half away from zero
  if (q == (std::int64_t{1} << 31)) {
    q /= 2;
    ++exponent;
  }
  if (exponent < -31) return {0, 0};
  return {static_cast<std::int32_t>(q), exponent};
}

// gemmlowp SaturatingRoundingDoublingHighMul: (a*b + nudge) / 2^31, truncating toward zero.
std::int32_t srdhm(std::int32_t a, std::int32_t b) {
  if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t ab = std::int64_t{a} * b;
  const std::int64_t nudge = ab >= 0 ? (std::int64_t{1} << 30) : (1 - (std::int64_t{1} << 30));
  return static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));
}

// RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from zero (as a real division).
std::int32_t rdbpot(std::int32_t x, int e) {
  if (e == 0) return x;
  const double exact = static_cast<double>(x) / std::ldexp(1.0, e);
  return static_cast<std::int32_t>(exact >= 0 ? std::floor(exact + 0.5) : -std::floor(-exact + 0.5));
}

// MultiplyByQuantizedMultiplier, double rounding (TFLM's default build).
std::int32_t mbqm(std::int32_t x, Multiplier q) {
  const int left = q.shift > 0 ? q.shift : 0;
  const int right = q.shift > 0 ? 0 : -q.shift;
  const auto shifted = static_cast<std::int32_t>(static_cast<std::uint32_t>(x) << left);
  return rdbpot(srdhm(shifted, q.m), right);
}

i8 clamp8(std::int64_t v, int low = -128, int high = 127) {
  return static_cast<i8>(std::clamp<std::int64_t>(v, low, high));
}

}  // namespace ref

// Inputs that reach the edges: all -128, all 127, alternating, the zero point, one value off it.
template <std::size_t N>
std::vector<std::array<i8, N>> edge_inputs(int zero_point) {
  std::vector<std::array<i8, N>> out(5);
  for (std::size_t i = 0; i < N; ++i) {
    out[0][i] = -128;
    out[1][i] = 127;
    out[2][i] = static_cast<i8>(i % 2 ? 127 : -128);
    out[3][i] = static_cast<i8>(zero_point);
    out[4][i] = static_cast<i8>(zero_point + (zero_point > 0 ? -1 : 1));
  }
  return out;
}

// Parameter sets: input scale (the weight and output scales are 1, so the real multiplier of a
// weighted layer is exactly this float), input and output zero points.
#define EDGE_PARAMS(name, scale, in_zp, out_zp)        \
  struct name {                                         \
    static constexpr float in_scale = scale;            \
    static constexpr int in_zero_point = in_zp;         \
    static constexpr int out_zero_point = out_zp;       \
  };
EDGE_PARAMS(near_one, 0.99999994f, -128, 127)         // mantissa 2^31 - 128, shift 0
EDGE_PARAMS(near_one_flipped, 0.99999994f, 127, -128)
EDGE_PARAMS(two_pow_m31, 4.656612873e-10f, -128, -128)  // 2^-31: shift -30
EDGE_PARAMS(two_pow_m32, 2.328306437e-10f, 127, 127)    // 2^-32: shift -31, kept
EDGE_PARAMS(two_pow_m33, 1.164153218e-10f, 127, -128)   // 2^-33: zero multiplier
EDGE_PARAMS(mid, 0.001953125f, -128, 127)             // 2^-9: outputs across the whole range
EDGE_PARAMS(mid_flipped, 0.003f, 127, -128)

// ---- FullyConnected -----------------------------------------------------------------------------
inline constexpr i8 fc_weights[2 * 3] = {127, -127, 127, -127, 127, -127};
inline constexpr std::int32_t fc_bias[2] = {-20000, 20000};
inline constexpr float unit_scale[1] = {1.0f};

template <class P>
struct FcEdge {
  static constexpr Quant in_q{P::in_scale, P::in_zero_point};
  static constexpr Quant out_q{1.0f, P::out_zero_point};
  struct in : Tensor<i8, Shape<1, 3>, in_q> {};
  struct out : Tensor<i8, Shape<1, 2>, out_q> {};
  using layer = FullyConnected<in, out, fc_weights, fc_bias, unit_scale>;

  static void check() {
    // Per-tensor FullyConnected: double(float(in_scale * weight_scale)) / double(out_scale).
    const auto q = ref::quantize(static_cast<double>(P::in_scale * 1.0f) / 1.0);
    for (const auto& x : edge_inputs<3>(P::in_zero_point)) {
      std::array<i8, 2> y{};
      layer::run(x.data(), y.data());
      for (int o = 0; o < 2; ++o) {
        std::int32_t acc = fc_bias[o];
        for (int i = 0; i < 3; ++i) acc += fc_weights[o * 3 + i] * (x[static_cast<std::size_t>(i)] - P::in_zero_point);
        CHECK(y[static_cast<std::size_t>(o)] == ref::clamp8(ref::mbqm(acc, q) + P::out_zero_point));
      }
    }
  }
};

TEST_CASE("integer edges: FullyConnected") {
  FcEdge<near_one>::check();
  FcEdge<near_one_flipped>::check();
  FcEdge<two_pow_m31>::check();
  FcEdge<two_pow_m32>::check();
  FcEdge<two_pow_m33>::check();
  FcEdge<mid>::check();
  FcEdge<mid_flipped>::check();
  CHECK(ref::quantize(0.99999994f).m == 2147483520);
  CHECK(ref::quantize(2.328306437e-10).shift == -31);
  CHECK(ref::quantize(1.164153218e-10).m == 0);
}

// ---- Conv2D and DepthwiseConv2D (per channel: double(in) * double(w[c]) / double(out)) ----------
inline constexpr i8 conv_weights[2 * 2 * 2 * 2] = {127, -127, 127, -127, -127, 127, -127, 127,
                                                  127, 127, 127, 127, -127, -127, -127, -127};
inline constexpr std::int32_t conv_bias[2] = {1000000, -1000000};
inline constexpr float conv_scales[2] = {1.0f, 0.5f};

template <class P>
struct ConvEdge {
  static constexpr Quant in_q{P::in_scale, P::in_zero_point};
  static constexpr Quant out_q{1.0f, P::out_zero_point};
  struct in : Tensor<i8, Shape<1, 2, 2, 2>, in_q> {};
  struct out : Tensor<i8, Shape<1, 1, 1, 2>, out_q> {};
  using conv = Conv2D<in, out, conv_weights, conv_bias, conv_scales, Conv2DOptions{.kernel_h = 2, .kernel_w = 2}>;
  struct dw_out : Tensor<i8, Shape<1, 1, 1, 4>, out_q> {};
  inline static constexpr float dw_scales[4] = {1.0f, 0.5f, 0.25f, 0.125f};
  inline static constexpr std::int32_t dw_bias[4] = {0, 300, -300, 0};
  using dw = DepthwiseConv2D<in, dw_out, conv_weights, dw_bias, dw_scales,
                             DepthwiseConv2DOptions{.kernel_h = 2, .kernel_w = 2, .depth_multiplier = 2}>;

  static void check() {
    for (const auto& x : edge_inputs<8>(P::in_zero_point)) {
      std::array<i8, 2> y{};
      conv::run(x.data(), y.data());
      for (int c = 0; c < 2; ++c) {  // OHWI weights, NHWC input: one output pixel
        std::int32_t acc = conv_bias[c];
        for (int t = 0; t < 8; ++t) acc += conv_weights[c * 8 + t] * (x[static_cast<std::size_t>(t)] - P::in_zero_point);
        const auto q = ref::quantize(static_cast<double>(P::in_scale) * static_cast<double>(conv_scales[c]) / 1.0);
        CHECK(y[static_cast<std::size_t>(c)] == ref::clamp8(ref::mbqm(acc, q) + P::out_zero_point));
      }
      std::array<i8, 4> d{};
      dw::run(x.data(), d.data());
      for (int c = 0; c < 4; ++c) {  // 1HWO weights: output channel c reads input channel c / 2
        std::int32_t acc = dw_bias[c];
        for (int t = 0; t < 4; ++t) acc += conv_weights[t * 4 + c] * (x[static_cast<std::size_t>(t * 2 + c / 2)] - P::in_zero_point);
        const auto q = ref::quantize(static_cast<double>(P::in_scale) * static_cast<double>(dw_scales[c]) / 1.0);
        CHECK(d[static_cast<std::size_t>(c)] == ref::clamp8(ref::mbqm(acc, q) + P::out_zero_point));
      }
    }
  }
};

TEST_CASE("integer edges: Conv2D and DepthwiseConv2D, per channel") {
  ConvEdge<near_one>::check();
  ConvEdge<near_one_flipped>::check();
  ConvEdge<two_pow_m31>::check();
  ConvEdge<two_pow_m32>::check();
  ConvEdge<two_pow_m33>::check();
  ConvEdge<mid>::check();
  ConvEdge<mid_flipped>::check();
}

// ---- Add and Sub (left shift 20, TFLM add.cc / sub.cc) ---------------------------------------
template <class P>
struct AddEdge {
  static constexpr Quant a_q{P::in_scale, P::in_zero_point};
  static constexpr Quant b_q{P::in_scale * 0.5f, -P::in_zero_point - 1};
  static constexpr Quant out_q{P::in_scale * 0.75f, P::out_zero_point};
  struct a : Tensor<i8, Shape<1, 5>, a_q> {};
  struct b : Tensor<i8, Shape<1, 5>, b_q> {};
  struct out : Tensor<i8, Shape<1, 5>, out_q> {};

  template <class Layer, int Sign>
  static void check_one() {
    const double twice_max = 2.0 * static_cast<double>(std::max(a_q.scale, b_q.scale));
    const auto qa = ref::quantize(static_cast<double>(a_q.scale) / twice_max);
    const auto qb = ref::quantize(static_cast<double>(b_q.scale) / twice_max);
    const auto qo = ref::quantize(twice_max / (static_cast<double>(1 << 20) * static_cast<double>(out_q.scale)));
    REQUIRE(qo.shift <= 0);
    for (const auto& x : edge_inputs<5>(P::in_zero_point)) {
      auto z = edge_inputs<5>(b_q.zero_point)[4];
      z[0] = -128;
      z[4] = 127;
      std::array<i8, 5> y{};
      Layer::run(x.data(), z.data(), y.data());
      for (std::size_t i = 0; i < 5; ++i) {
        // MultiplyByQuantizedMultiplierSmallerThanOneExp: high multiply, then the rounding shift.
        const std::int32_t sa = ref::rdbpot(ref::srdhm((x[i] - a_q.zero_point) * (1 << 20), qa.m), -qa.shift);
        const std::int32_t sb = ref::rdbpot(ref::srdhm((z[i] - b_q.zero_point) * (1 << 20), qb.m), -qb.shift);
        const std::int32_t raw = ref::rdbpot(ref::srdhm(sa + Sign * sb, qo.m), -qo.shift) + out_q.zero_point;
        CHECK(y[i] == ref::clamp8(raw));
      }
    }
  }
  static void check() {
    check_one<Add<a, b, out>, 1>();
    check_one<Sub<a, b, out>, -1>();
  }
};

TEST_CASE("integer edges: Add and Sub") {
  AddEdge<near_one>::check();
  AddEdge<near_one_flipped>::check();
  AddEdge<mid>::check();
  AddEdge<mid_flipped>::check();
}

// ---- AveragePool2D, MaxPool2D (no requantization; clamp with the output range) -----------------
template <class P>
struct PoolEdge {
  static constexpr Quant q{P::in_scale, P::in_zero_point};
  struct in : Tensor<i8, Shape<1, 3, 3, 1>, q> {};
  struct out : Tensor<i8, Shape<1, 2, 2, 1>, q> {};
  using avg = AveragePool2D<in, out, Pool2DOptions{.filter_h = 2, .filter_w = 2, .stride_h = 1, .stride_w = 1}>;
  using max = MaxPool2D<in, out, Pool2DOptions{.filter_h = 2, .filter_w = 2, .stride_h = 1, .stride_w = 1}>;
  static void check() {
    for (auto x : edge_inputs<9>(P::in_zero_point)) {
      x[4] = static_cast<i8>(-x[4] - 1);  // the centre (in every window) opposite to the others
      std::array<i8, 4> a{}, m{};
      avg::run(x.data(), a.data());
      max::run(x.data(), m.data());
      for (int oy = 0; oy < 2; ++oy) {
        for (int ox = 0; ox < 2; ++ox) {
          std::int32_t sum = 0, best = -128;
          for (int ky = 0; ky < 2; ++ky) {
            for (int kx = 0; kx < 2; ++kx) {
              const int v = x[static_cast<std::size_t>((oy + ky) * 3 + ox + kx)];
              sum += v;
              best = std::max(best, v);
            }
          }
          const std::int32_t avg_value = sum > 0 ? (sum + 2) / 4 : (sum - 2) / 4;  // C division
          CHECK(a[static_cast<std::size_t>(oy * 2 + ox)] == ref::clamp8(avg_value));
          CHECK(m[static_cast<std::size_t>(oy * 2 + ox)] == best);
        }
      }
    }
  }
};

TEST_CASE("integer edges: AveragePool2D and MaxPool2D") {
  PoolEdge<near_one>::check();
  PoolEdge<near_one_flipped>::check();
  PoolEdge<mid>::check();
}

// ---- LeakyRelu and Quantize (int8 -> int8 requantization) ----------------------------------------
inline constexpr float leak = 0.1f;

template <class P>
struct ElementwiseEdge {
  static constexpr Quant in_q{P::in_scale, P::in_zero_point};
  static constexpr Quant out_q{P::in_scale * 0.5f, P::out_zero_point};
  struct in : Tensor<i8, Shape<1, 6>, in_q> {};
  struct out : Tensor<i8, Shape<1, 6>, out_q> {};
  using leaky = LeakyRelu<in, out, leak>;
  using requantize = Quantize<in, out>;
  static void check() {
    // leaky_relu.cc: identity and alpha multipliers from float products, widened to double.
    const auto identity = ref::quantize(static_cast<double>(in_q.scale / out_q.scale));
    const auto alpha = ref::quantize(static_cast<double>(in_q.scale * leak / out_q.scale));
    const auto effective = ref::quantize(static_cast<double>(in_q.scale) / static_cast<double>(out_q.scale));
    for (const auto& x : edge_inputs<6>(P::in_zero_point)) {
      std::array<i8, 6> y{}, r{};
      leaky::run(x.data(), y.data());
      requantize::run(x.data(), r.data());
      for (std::size_t i = 0; i < 6; ++i) {
        const std::int32_t v = x[i] - in_q.zero_point;
        CHECK(y[i] == ref::clamp8(ref::mbqm(v, v >= 0 ? identity : alpha) + out_q.zero_point));
        CHECK(r[i] == ref::clamp8(ref::mbqm(v, effective) + out_q.zero_point));
      }
    }
  }
};

TEST_CASE("integer edges: LeakyRelu and Quantize int8 -> int8") {
  ElementwiseEdge<near_one>::check();
  ElementwiseEdge<near_one_flipped>::check();
  ElementwiseEdge<mid>::check();
  ElementwiseEdge<mid_flipped>::check();
}

// ---- Softmax, Logistic, Tanh: saturation at the input extremes -------------------------------------
template <class P>
struct SaturatingEdge {
  static constexpr Quant in_q{0.5f, P::in_zero_point};
  static constexpr Quant logistic_q{1.0f / 256, -128};
  static constexpr Quant tanh_q{1.0f / 128, 0};
  struct in : Tensor<i8, Shape<1, 4>, in_q> {};
  struct lo : Tensor<i8, Shape<1, 4>, logistic_q> {};
  struct th : Tensor<i8, Shape<1, 4>, tanh_q> {};
  static void check() {
    // With scale 0.5, -128 and 127 are at least 63.5 from any zero point in [-128, 127] on one
    // side: logistic and tanh must saturate there (real values beyond +-8 round to the ends).
    const std::array<i8, 4> x{-128, 127, static_cast<i8>(P::in_zero_point), -128};
    std::array<i8, 4> l{}, t{};
    Logistic<in, lo>::run(x.data(), l.data());
    Tanh<in, th>::run(x.data(), t.data());
    const double low = (-128 - P::in_zero_point) * 0.5, high = (127 - P::in_zero_point) * 0.5;
    if (low <= -8) CHECK(l[0] == -128);
    if (high >= 8) CHECK(l[1] == 127);
    if (low <= -8) CHECK(t[0] == -128);  // tanh's -1 is -128 at scale 1/128
    if (high >= 8) CHECK(t[1] == 127);
    CHECK(l[2] == 0);                     // logistic(0) = 0.5 -> 128 - 128
    CHECK(t[2] == 0);
  }
};

TEST_CASE("integer edges: Logistic and Tanh saturate at the input extremes") {
  SaturatingEdge<near_one>::check();          // zero point -128
  SaturatingEdge<near_one_flipped>::check();  // zero point 127
  SaturatingEdge<mid_flipped>::check();
}
