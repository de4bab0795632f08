// Svdf int8 edges. Every expected value is worked out by hand from TFLM's EvalIntegerSvdfReference
// (micro/kernels/svdf_common.cc): shift the state one frame left, newest frame =
// clamp(MBQM(sum wf * (x - input_zp), m1) + state_zp), then bias + sum wt * (frame - state_zp),
// output = clamp(MBQM(total, m2) + output_zp, -128, 127). The scales make m1 and m2 exactly 1 or
// 1/2, so MBQM is the identity or gemmlowp's rounding halving (SaturatingRoundingDoublingHighMul
// with 2^30: +6.5 -> 7, -6.5 -> -6, as its nudge gives).
#include <doctest/doctest.h>

#include <array>
#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;
using i16 = std::int16_t;

namespace svdf_test {
// One filter (rank 1, one unit), two inputs, memory 2: wf = {3, -2}; wt = {2 (older), 1 (newest)}.
inline constexpr Quant in_q{0.5f, 1};
inline constexpr Quant state_q{0.125f, 0};        // m1 = 0.5 * 0.25 / 0.125 = 1
inline constexpr Quant out_q{0.0625f, -3};        // m2 = 0.125 * 0.5 / 0.0625 = 1
inline constexpr Quant half_q{0.125f, 0};         // m2 = 1/2
inline constexpr Quant int8_state_q{0.125f, 10};  // int8 state: zero point 10
inline constexpr i8 wf[2] = {3, -2};
inline constexpr i16 wt16[2] = {2, 1};
inline constexpr i8 wt8[2] = {2, 1};
inline constexpr std::int32_t bias[1] = {5};
inline constexpr std::int32_t bias_minus5[1] = {-5};
inline constexpr float scales[2] = {0.25f, 0.5f};

struct x : Tensor<i8, Shape<1, 2>, in_q> {};
struct s16 : StateTensor<i16, Shape<1, 2>, state_q> {};
struct s8 : StateTensor<i8, Shape<1, 2>, int8_state_q> {};
struct y : Tensor<i8, Shape<1, 1>, out_q> {};
struct y_half : Tensor<i8, Shape<1, 1>, half_q> {};

using identity = Network<Inputs<x>, Outputs<y>, Svdf<x, s16, y, wf, wt16, bias, scales>>;
using halving = Network<Inputs<x>, Outputs<y_half>, Svdf<x, s16, y_half, wf, wt16, bias_minus5, scales>>;
using int8_state = Network<Inputs<x>, Outputs<y>, Svdf<x, s8, y, wf, wt8, bias, scales>>;

using op = Svdf<x, s16, y, wf, wt16, bias, scales>;
static_assert(op::feature_multiplier.multiplier == (1 << 30) && op::feature_multiplier.shift == 1);
static_assert(op::macs == 4 && op::weight_bytes == 2 + 4 + 4);
static_assert(identity::is_stateful && identity::state_bytes == 4);

// x = {4, 2}: dot = 3 * 3 - 2 * 1 = 7, state {0, 7}, total = 5 + 2 * 0 + 7 = 12, y = 12 - 3 = 9.
static_assert(identity::evaluate(std::array<i8, 2>{4, 2})[0] == 9);
// Three invokes of {4, 2}: states {0, 7}, {7, 7}, {7, 7}: totals 12, 5 + 14 + 7 = 26: y = 23.
static_assert(identity::evaluate_repeated(3, std::array<i8, 2>{4, 2})[0] == 23);
}  // namespace svdf_test

using namespace svdf_test;

TEST_CASE("Svdf int8: the state shifts one frame per invoke and the time weights read it") {
  static Instance<identity> net;
  const std::array<std::array<i8, 2>, 3> inputs{{{4, 2}, {1, 5}, {4, 2}}};
  // dots 7, 3 * 0 - 2 * 4 = -8, 7; states {0, 7}, {7, -8}, {-8, 7};
  // totals 5 + 7 = 12, 5 + 14 - 8 = 11, 5 - 16 + 7 = -4; outputs minus 3.
  const std::array<int, 3> expected{9, 8, -7};
  for (std::size_t k = 0; k < 3; ++k) {
    net.input()[0] = inputs[k][0];
    net.input()[1] = inputs[k][1];
    net.invoke();
    CHECK(net.output()[0] == expected[k]);
  }
  CHECK(net.state()[0] == -8);
  CHECK(net.state()[1] == 7);
  net.reset();                       // back to {0, 0}: the first output again
  net.input()[0] = 4;
  net.input()[1] = 2;
  net.invoke();
  CHECK(net.output()[0] == 9);
}

TEST_CASE("Svdf int8: output rounding (m2 = 1/2) and saturation") {
  // From the reset state each time, so time = the newest frame: total = -5 + dot.
  const auto run = [](i8 a, i8 b) { return halving::evaluate(std::array<i8, 2>{a, b})[0]; };
  CHECK(run(7, 1) == 7);       // dot 18, total 13: 6.5 -> 7
  CHECK(run(1, 5) == -6);      // dot -8, total -13: -6.5 -> -6 (gemmlowp's nudge)
  CHECK(run(4, 2) == 1);       // total 2 -> 1
  CHECK(run(127, -128) == 127);   // dot 3 * 126 + 2 * 129 = 636, total 631 -> 316: saturates
  CHECK(run(-128, 127) == -128);  // dot -387 - 252 = -639, total -644 -> -322: saturates
}

TEST_CASE("Svdf int8 state: starts at its zero point; the zero point is added before the clamp") {
  static Instance<int8_state> net;
  net.input()[0] = 4;
  net.input()[1] = 2;
  net.invoke();
  // Initial state {10, 10}; newest frame 7 + 10 = 17; time 2 * (10 - 10) + (17 - 10) = 7; y = 9.
  CHECK(net.output()[0] == 9);
  CHECK(net.state()[0] == 10);
  CHECK(net.state()[1] == 17);
  net.reset();
  net.input()[0] = 127;
  net.input()[1] = -128;
  net.invoke();
  // dot 636 + 10 = 646 clamps to 127 (adding 10 after the clamp would wrap to -119);
  // time (127 - 10) = 117, total 122, y = 119.
  CHECK(net.state()[1] == 127);
  CHECK(net.output()[0] == 119);
}
