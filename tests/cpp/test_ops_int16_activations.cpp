// The 16x8 activations of issue 12: int16 Logistic and Tanh (TFLM's sigmoid_table_uint16 with
// interpolation), int16 Softmax (the exp and 1 / (1 + x) tables of SoftmaxPrepare) and int8 -> int16
// Softmax. Expected values are worked out by hand beside each check from TFLM's integer formula
// (reference_integer_ops::Logistic / Tanh, reference_ops::Softmax / SoftmaxInt16), or computed here
// by a transliteration of TFLM's gen_lut / LUTLookup / SoftmaxInt16 with the host's std::exp --
// none of the library's code. The byte-for-byte comparison with TFLM itself is the tflm-ops suite.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;
using i16 = std::int16_t;

namespace act16 {
inline constexpr Quant out_q{1.0f / 32768, 0};
inline constexpr Quant pot12{1.0f / 4096, 0};  // 2^-12: shift 12 - 12 = 0, the power-of-two path
inline constexpr Quant pot11{1.0f / 2048, 0};  // 2^-11: Tanh's power-of-two path (shift 1), not Logistic's
inline constexpr Quant pot10{1.0f / 1024, 0};  // 2^-10: shift 2, the general path for both
struct y : Tensor<i16, Shape<4>, out_q> {};
template <const Quant& Q>
struct x : Tensor<i16, Shape<4>, Q> {};
}  // namespace act16

TEST_CASE("int16 Logistic and Tanh read TFLM's sigmoid table") {
  // The entries the hand computations below use (TFLM's internal/common.h).
  const auto& t = detail::sigmoid_table_uint16;
  CHECK(t[0] == 32768);
  CHECK(t[1] == 33451);
  CHECK(t[2] == 34133);
  CHECK(t[3] == 34813);
  CHECK(t[255] == 65535);
}

TEST_CASE("int16 Logistic: midpoint, interpolation and saturation") {
  using namespace act16;
  std::array<i16, 4> out{};
  {
    // 2^-12: multiplier 3 << 0. x = 0 -> (32768 << 9) + 512 >> 10 = 16384 (0.5).
    // x = 100 -> 300: 300 >> 9 = 0, 300 & 511 = 300: (32768 << 9) + 300 * 683 = 16982116,
    // + 512 = 16982628 >> 10 = 16584. x = -100: (1 << 25) - 16982116 + 511 = 16572827 >> 10 = 16184.
    const std::array<i16, 4> in{0, 100, -100, 1};
    Logistic<x<pot12>, y>::run(in.data(), out.data());
    CHECK(out[0] == 16384);
    CHECK(out[1] == 16584);
    CHECK(out[2] == 16184);
    CHECK(out[1] + out[2] == 32768);
  }
  {
    // 2^-11 is not Logistic's power-of-two path: 2^-11 * 12288 = 6, doubled to 24576 (shift 12), so
    // the input is (x * 24576 + 2048) >> 12 = 6x. x = 100 -> 600: index 1, fraction 88:
    // 33451 * 512 + 88 * 682 = 17186928, + 512 >> 10 = 16784; x = -100: (1 << 25) - 17186928 + 511
    // = 16368015 >> 10 = 15984.
    const std::array<i16, 4> in{100, -100, 0, 0};
    Logistic<x<pot11>, y>::run(in.data(), out.data());
    CHECK(out[0] == 16784);
    CHECK(out[1] == 15984);
  }
  {
    // 2^-10: 12 doubled to 24576 (shift 11): 12x. 32767 -> 393204, 393204 >> 9 >= 255: saturated,
    // (0x7FFF << 10) + 512 >> 10 = 32767. -32768: (1 << 25) - (0x7FFF << 10) + 511 = 1535 >> 10 = 1
    // (TFLM's logistic never reaches 0).
    const std::array<i16, 4> in{32767, -32768, 0, 0};
    Logistic<x<pot10>, y>::run(in.data(), out.data());
    CHECK(out[0] == 32767);
    CHECK(out[1] == 1);
    CHECK(out[2] == 16384);
  }
}

TEST_CASE("int16 Tanh: zero, both power-of-two shifts, the general path and saturation") {
  using namespace act16;
  std::array<i16, 4> out{};
  {
    // 2^-12: multiplier 3. x = 100 -> 300: 300 >> 8 = 1, 300 & 255 = 44:
    // 33451 * 256 + 44 * 682 = 8593464, - 2^23 + 128 = 204984 >> 8 = 800.
    // x = -100: -8593464 + 2^23 + 127 = -204729 >> 8 = -800 (floor of -799.7).
    // x = 0: (32768 << 8) - 2^23 + 128 = 128 >> 8 = 0.
    const std::array<i16, 4> in{100, -100, 0, 0};
    Tanh<x<pot12>, y>::run(in.data(), out.data());
    CHECK(out[0] == 800);
    CHECK(out[1] == -800);
    CHECK(out[2] == 0);
  }
  {
    // 2^-11: Tanh's power-of-two path with shift 1, multiplier 3 << 1 = 6. x = 100 -> 600: 600 >> 8
    // = 2, 600 & 255 = 88: 34133 * 256 + 88 * 680 = 8797888, - 2^23 + 128 = 409408 >> 8 = 1599.
    const std::array<i16, 4> in{100, 0, 0, 0};
    Tanh<x<pot11>, y>::run(in.data(), out.data());
    CHECK(out[0] == 1599);
  }
  {
    // 2^-10: general path, 12x. 32767 -> 393204 >> 8 >= 255: (0xFFFF << 8) - 2^23 + 128 >> 8 = 32767;
    // -32768: -(0xFFFF << 8) + 2^23 + 127 = -8388225 >> 8 = -32767.
    const std::array<i16, 4> in{32767, -32768, 0, 0};
    Tanh<x<pot10>, y>::run(in.data(), out.data());
    CHECK(out[0] == 32767);
    CHECK(out[1] == -32767);
  }
}

namespace softmax_ref {
namespace {
// gen_lut<float, int16_t, int16_t> (TFLM internal/common.h), in float with the host's std::exp.
template <class F>
std::array<i16, 513> gen_lut(F func, float input_min, float input_max) {
  std::array<i16, 513> lut{};
  const float step = (input_max - input_min) / 512;
  const float half_step = step / 2;
  const float scaling_inv = 65536.0f / 2.0f;  // output range [-1, 1]
  const auto clamp = [](float v) { return static_cast<i16>(std::min(std::max(v, -32768.0f), 32767.0f)); };
  for (int i = 0; i < 512; ++i) {
    const float val = func(input_min + i * step);
    const float val_midpoint = func(input_min + i * step + half_step);
    const float val_next = func(input_min + (i + 1) * step);
    const float sample = std::round(val * scaling_inv);
    const float midpoint_interp = std::round((val_next * scaling_inv + std::round(val * scaling_inv)) / 2);
    const float midpoint = std::round(val_midpoint * scaling_inv);
    const float bias = std::round((midpoint_interp - midpoint) / 2);
    lut[i] = clamp(sample - bias);
  }
  lut[512] = clamp(std::round(func(input_max) * scaling_inv));
  return lut;
}

i16 lookup(i16 value, const std::array<i16, 513>& lut) {
  const int index = 256 + (value >> 7);
  const int offset = value & 0x7f;
  const int slope = static_cast<i16>(lut[index + 1] - lut[index]);
  return static_cast<i16>(lut[index] + ((slope * offset + 64) >> 7));
}
}  // namespace
}  // namespace softmax_ref

namespace softmax16 {
inline constexpr Quant in_q{1.0f / 4096, 0};
inline constexpr Quant out_q{1.0f / 32768, 0};
struct in : Tensor<i16, Shape<2, 4>, in_q> {};
struct out : Tensor<i16, Shape<2, 4>, out_q> {};
inline constexpr Quant in8_q{0.1f, 0};
inline constexpr Quant out8_16_q{1.0f / 65536, -32768};
struct in8 : Tensor<i8, Shape<3, 2>, in8_q> {};
struct out8_16 : Tensor<i16, Shape<3, 2>, out8_16_q> {};
struct in8_single : Tensor<i8, Shape<2, 1>, in8_q> {};
struct out8_16_single : Tensor<i16, Shape<2, 1>, out8_16_q> {};
}  // namespace softmax16

TEST_CASE("int16 Softmax: the compile-time tables are SoftmaxPrepare's, built with std::exp") {
  const auto exp_lut = softmax_ref::gen_lut([](float v) { return std::exp(v); }, -10.0f, 0.0f);
  const auto reciprocal_lut = softmax_ref::gen_lut([](float v) { return 1.0f / (1.0f + v); }, 0.0f, 1.0f);
  for (int i = 0; i < 513; ++i) {
    CAPTURE(i);
    CHECK(detail::softmax_exp_lut[i] == exp_lut[i]);
    CHECK(detail::softmax_one_over_one_plus_x_lut[i] == reciprocal_lut[i]);
  }
  CHECK(exp_lut[512] == 32767);         // exp(0) * 32768 clamps to the int16 maximum
  CHECK(reciprocal_lut[0] == 32767);    // 1 / (1 + 0) likewise
  CHECK(reciprocal_lut[512] == 16384);  // 1 / 2
}

TEST_CASE("int16 Softmax follows SoftmaxInt16: uniform rows, a dominant value, extremes") {
  using namespace softmax16;
  // Row 0 uniform; row 1 the int16 extremes (a difference of 65535 steps of 2^-12: exp(-16) is 0).
  const std::array<i16, 8> x{5, 5, 5, 5, 32767, -32768, -32768, 32767};
  std::array<i16, 8> y{};
  Softmax<in, out>::run(x.data(), y.data());

  // TFLM's SoftmaxInt16, transliterated: beta 1, QuantizeMultiplier(2^-12 / (10 / 65535)).
  const auto exp_lut = softmax_ref::gen_lut([](float v) { return std::exp(v); }, -10.0f, 0.0f);
  const auto reciprocal_lut = softmax_ref::gen_lut([](float v) { return 1.0f / (1.0f + v); }, 0.0f, 1.0f);
  int exponent = 0;
  const double mantissa = std::frexp((1.0 / 4096) / (10.0 / 65535.0), &exponent);
  const auto multiplier = static_cast<std::int32_t>(std::llround(mantissa * 2147483648.0));
  for (int r = 0; r < 2; ++r) {
    i16 max = -32768;
    for (int c = 0; c < 4; ++c) max = std::max(max, x[r * 4 + c]);
    std::array<i16, 4> e{};
    std::int32_t sum = 0;
    for (int c = 0; c < 4; ++c) {
      // MultiplyByQuantizedMultiplier with a left shift (exponent > 0): (diff << shift) high-multiplied.
      const std::int64_t shifted = std::int64_t{x[r * 4 + c] - max} * (std::int64_t{1} << exponent);
      const std::int64_t product = shifted * multiplier;
      const std::int64_t nudge = product >= 0 ? (std::int64_t{1} << 30) : (1 - (std::int64_t{1} << 30));
      const auto scaled = static_cast<std::int32_t>((product + nudge) / (std::int64_t{1} << 31));
      e[c] = softmax_ref::lookup(static_cast<i16>(std::min(std::max(scaled + 32767, -32768), 32767)), exp_lut);
      sum += e[c];
    }
    int headroom_plus_one = 0;
    while (headroom_plus_one < 32 && !(static_cast<std::uint32_t>(sum) & (0x80000000u >> headroom_plus_one)))
      ++headroom_plus_one;
    const auto shifted_sum =
        static_cast<std::int32_t>(((std::int64_t{sum} << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
    const i16 reciprocal = softmax_ref::lookup(
        static_cast<i16>(std::min(std::max(shifted_sum - 98304, -32768), 32767)), reciprocal_lut);
    const int right_shift = 31 - headroom_plus_one;
    for (int c = 0; c < 4; ++c) {
      const std::int64_t v = (std::int64_t{e[c]} * reciprocal + (std::int64_t{1} << (right_shift - 1))) >> right_shift;
      CAPTURE(r);
      CAPTURE(c);
      CHECK(y[r * 4 + c] == std::min<std::int64_t>(std::max<std::int64_t>(v, 0), 32767));
    }
  }
  // Facts of the real softmax that the integer result keeps: a uniform row of 4 is about 1/4
  // (8192 in Q0.15), the row of extremes is about 1/2 on its two maxima and one step elsewhere:
  // TFLM's exp table stops at exp(-10) * 32768 = 1.5 (2 after its bias), so a far smaller value
  // still weighs 1 / 32768.
  for (int c = 0; c < 4; ++c) CHECK(std::abs(y[c] - 8192) <= 8);
  CHECK(std::abs(y[4] - 16384) <= 8);
  CHECK(exp_lut[0] > 0);
  CHECK(y[5] == 1);
  CHECK(y[6] == 1);
  CHECK(y[7] == y[4]);
}

TEST_CASE("int8 -> int16 Softmax: Softmax<int8, int16> with offset -32768") {
  using namespace softmax16;
  std::array<i16, 6> y{};
  // Row 0 uniform pair: each exp is one (Q0.31 2^31 - 1, Rescale<12> 2^19); the sum 2^20 has 11
  // leading zeros, so num_bits_over_unit 1 and a reciprocal of (nearly) one; exponent 1 + 31 - 16 =
  // 16: (2^31 - 2) / 2^16 rounds to 32768, - 32768 = 0, i.e. 1/2 at scale 1/65536 with offset -32768.
  // Row 1: 127 and -128 differ by 255 steps, below diff_min (-CalculateInputRadius(5, 23) = -31 * 2^26
  // / 2^23 = -248 for scale 0.1: multiplier 0.8 * 2^31, shift 23): the loser is skipped and written
  // as -32768, the winner alone sums 2^19 (exponent 15): 65536 - 32768 = 32768, clamped to 32767.
  // Row 2: -128 twice: uniform again, 0.
  const std::array<i8, 6> x{3, 3, 127, -128, -128, -128};
  Softmax<in8, out8_16>::run(x.data(), y.data());
  CHECK(y[0] == 0);
  CHECK(y[1] == 0);
  CHECK(y[2] == 32767);
  CHECK(y[3] == -32768);
  CHECK(y[4] == 0);
  CHECK(y[5] == 0);

  // A row of one element: sum 2^19, 12 leading zeros, num_bits_over_unit 0, exponent 15: 65536
  // - 32768 = 32768, clamped to 32767.
  const std::array<i8, 2> single{-128, 100};
  std::array<i16, 2> z{};
  Softmax<in8_single, out8_16_single>::run(single.data(), z.data());
  CHECK(z[0] == 32767);
  CHECK(z[1] == 32767);
}
