// The hybrid layers' input quantization and rescale (core/hybrid.hpp), against values worked out
// by hand from TFLite's SymmetricQuantizeFloats / AsymmetricQuantizeFloats (numbers chosen so that
// every step is exact in float: the expected codes do not depend on the last bit).
#include <doctest/doctest.h>

#include <cstdint>

#include <tinynet/core/hybrid.hpp>

using namespace tinynet;

namespace {
template <HybridInputs Mode, int N>
HybridScale quantize(const float (&x)[N], std::int8_t (&q)[N]) {
  return hybrid::quantize_floats<Mode>(x, N, q);
}
}  // namespace

TEST_CASE("symmetric: scale max|x| / 127, codes rounded half away from zero, no zero point") {
  // max|x| = 127: scale 1 and inverse 1, so each code is x rounded (ties away from zero, not to even).
  const float x[] = {127.0f, -2.5f, 1.5f, 0.5f, -0.5f, 0.0f, -127.0f};
  std::int8_t q[7];
  const HybridScale s = quantize<HybridInputs::symmetric>(x, q);
  CHECK(s.scale == 1.0f);
  CHECK(s.offset == 0);
  const std::int8_t want[] = {127, -3, 2, 1, -1, 0, -127};
  for (int i = 0; i < 7; ++i) CHECK(q[i] == want[i]);
  // Range 0.5 (the negative end decides): scale 0.5 / 127, -0.5 -> -127, 0.25 -> 63.5 -> 64.
  const float y[] = {0.25f, -0.5f, 0.125f};
  std::int8_t r[3];
  const HybridScale t = quantize<HybridInputs::symmetric>(y, r);
  CHECK(t.scale == 0.5f / 127);
  CHECK(r[0] == 64);
  CHECK(r[1] == -127);
  CHECK(r[2] == 32);   // 31.75
}

TEST_CASE("asymmetric: [min(x,0), max(x,0)] over 255 steps, zero point from the end with the smaller error") {
  // All >= 0: rmin 0, rmax 63.75, scale 0.25; the zero point from the minimum is -128 (error 128
  // against 382 from the maximum). q = round(-128 + 4 x): 10.375 -> -86.5 -> -87 (half away).
  const float x[] = {0.0f, 63.75f, 10.375f, 1.0f};
  std::int8_t q[4];
  const HybridScale s = quantize<HybridInputs::asymmetric>(x, q);
  CHECK(s.scale == 0.25f);
  CHECK(s.offset == -128);
  const std::int8_t want[] = {-128, 127, -87, -124};
  for (int i = 0; i < 4; ++i) CHECK(q[i] == want[i]);
  // [-1, 3]: scale 4/255, both ends give zero point -64.25 (errors 191.75 and 318.25): -64;
  // -1 -> -64 - 63.75 = -127.75 -> -128, 3 -> -64 + 191.25 -> 127, 0 -> -64.
  const float y[] = {-1.0f, 3.0f, 0.0f};
  std::int8_t r[3];
  const HybridScale t = quantize<HybridInputs::asymmetric>(y, r);
  CHECK(t.scale == static_cast<float>(4.0 / 255.0));
  CHECK(t.offset == -64);
  CHECK(r[0] == -128);
  CHECK(r[1] == 127);
  CHECK(r[2] == -64);
  CHECK(hybrid::centered<HybridInputs::asymmetric>(3.0f, t) == 191);
}

TEST_CASE("an all-zero input: scale 1, offset 0, every code 0, in both modes") {
  const float x[] = {0.0f, 0.0f, -0.0f, 0.0f};
  std::int8_t q[4] = {1, 1, 1, 1};
  const HybridScale s = quantize<HybridInputs::symmetric>(x, q);
  CHECK(s.scale == 1.0f);
  CHECK(s.offset == 0);
  for (std::int8_t v : q) CHECK(v == 0);
  std::int8_t r[4] = {1, 1, 1, 1};
  const HybridScale t = quantize<HybridInputs::asymmetric>(x, r);
  CHECK(t.scale == 1.0f);
  CHECK(t.offset == 0);
  for (std::int8_t v : r) CHECK(v == 0);
}

TEST_CASE("a constant input: one end of the range, the other end at 0") {
  const float pos[] = {0.75f, 0.75f, 0.75f};
  std::int8_t q[3];
  // Symmetric: range 0.75, every value at the top code.
  CHECK(quantize<HybridInputs::symmetric>(pos, q).scale == 0.75f / 127);
  for (std::int8_t v : q) CHECK(v == 127);
  // Asymmetric: [0, 0.75], zero point -128, every value at 127.
  const HybridScale s = quantize<HybridInputs::asymmetric>(pos, q);
  CHECK(s.offset == -128);
  for (std::int8_t v : q) CHECK(v == 127);
  // Asymmetric, negative: [-2.5, 0], the maximum's end wins (error 127 against 383): zero point
  // 127, every value at -128, which represents scale * (-128 - 127) = -2.5.
  const float neg[] = {-2.5f, -2.5f};
  std::int8_t r[2];
  const HybridScale t = quantize<HybridInputs::asymmetric>(neg, r);
  CHECK(t.offset == 127);
  for (std::int8_t v : r) CHECK(v == -128);
  CHECK(hybrid::centered<HybridInputs::asymmetric>(-2.5f, t) == -255);
}

TEST_CASE("output: float(acc) * (batch scale * filter scale) + bias, then the fused activation's clamp") {
  const FloatRange relu = activation_range_float(Activation::relu);
  const FloatRange none = activation_range_float(Activation::none);
  CHECK(hybrid::output(100, 0.5f, 0.25f, 1.0f, none) == 13.5f);
  CHECK(hybrid::output(-100, 0.5f, 0.25f, 1.0f, none) == -11.5f);
  CHECK(hybrid::output(-100, 0.5f, 0.25f, 1.0f, relu) == 0.0f);
  static_assert(hybrid::output(8, 0.25f, 2.0f, -1.0f, activation_range_float(Activation::relu6)) == 3.0f);
}

// Constant evaluation gives the same codes (the compiler runs the same functions).
static_assert([] {
  const float x[] = {127.0f, -2.5f};
  std::int8_t q[2]{};
  hybrid::quantize_floats<HybridInputs::symmetric>(x, 2, q);
  return q[0] == 127 && q[1] == -3;
}());
