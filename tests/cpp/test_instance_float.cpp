// Instance::set_input_float / output_float: real numbers in and out through the tensors'
// compile-time quantization. Expected values are worked out by hand from TFLM's formulas
// (AffineQuantize: round half away from zero of x / scale, plus the zero point, clamped;
// Dequantize: scale * (q - zero point)).
#include <doctest/doctest.h>

#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

namespace float_io {
inline constexpr Quant in_q{0.5f, -3};
inline constexpr Quant out_q{0.125f, -128};
struct x : Tensor<i8, Shape<1, 6>, in_q> {};
struct y : Tensor<i8, Shape<1, 2>, out_q> {};
inline constexpr i8 w[2 * 6] = {1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
inline constexpr std::int32_t b[2] = {0, 0};
inline constexpr float s[1] = {0.25f};
using net = Network<Inputs<x>, Outputs<y>, FullyConnected<x, y, w, b, s>>;

inline constexpr float fw[] = {1.0f, -1.0f, 0.5f, 0.25f};
inline constexpr float fb[] = {0.0f, 0.5f};
using float_net = Sequential<seq::Input<float, Shape<1, 2>>, seq::Dense<fw, fb>>;
}  // namespace float_io

TEST_CASE("set_input_float quantizes with the input tensor's scale and zero point") {
  static Instance<float_io::net> net;
  const float real[6] = {1.0f, 1.25f, -1.25f, 0.0f, 1000.0f, -1000.0f};
  net.set_input_float(real);
  const auto in = net.input();
  CHECK(in[0] == -1);    // 1.0 / 0.5 = 2, + (-3)
  CHECK(in[1] == 0);     // 2.5 rounds away from zero to 3
  CHECK(in[2] == -6);    // -2.5 rounds to -3
  CHECK(in[3] == -3);    // 0.0 is the zero point
  CHECK(in[4] == 127);   // clamped
  CHECK(in[5] == -128);
}

TEST_CASE("output_float dequantizes with the output tensor's scale and zero point") {
  static Instance<float_io::net> net;
  net.output()[0] = -120;
  net.output()[1] = -128;
  CHECK(net.output_float(0) == 1.0f);   // 0.125 * (-120 + 128)
  CHECK(net.output_float(1) == 0.0f);
  float all[2] = {-7.0f, -7.0f};
  net.output_float(all);
  CHECK(all[0] == 1.0f);
  CHECK(all[1] == 0.0f);
}

TEST_CASE("float in, invoke, float out on an int8 network") {
  static Instance<float_io::net> net;
  const float real[6] = {2.0f, -1.0f, 0.0f, 0.0f, 0.0f, 0.0f};   // int8: 1, -5, -3, -3, -3, -3
  net.set_input_float(real);
  net.invoke();
  // unit 0 reads input 0: 0.5 * 0.25 * (1 - (-3)) = 0.5 -> 4 steps of 0.125 -> q = -124
  // unit 1 reads input 1: 0.5 * 0.25 * (-5 + 3) = -0.25 -> below the range, clamped to -128 (0.0)
  CHECK(net.output()[0] == -124);
  CHECK(net.output_float(0) == 0.5f);
  CHECK(net.output_float(1) == 0.0f);
}

TEST_CASE("on a float network the helpers copy") {
  static Instance<float_io::float_net> net;
  const float real[2] = {2.0f, 1.0f};
  net.set_input_float(real);
  CHECK(net.input()[0] == 2.0f);
  net.invoke();
  CHECK(net.output_float(0) == 1.0f);    // 2 - 1
  CHECK(net.output_float(1) == 1.75f);   // 1 + 0.25 + 0.5
}
