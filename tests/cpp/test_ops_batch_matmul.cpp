// BatchMatMul: int8, int16 and float edges. Every expected value is worked out by hand in the
// comment beside it from TFLM's reference_ops::BatchMatMul: acc = sum_k (lhs - lhs_zp) * (rhs -
// rhs_zp), MultiplyByQuantizedMultiplier by lhs_scale * rhs_scale / out_scale, + out_zp, clamp.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;
using i16 = std::int16_t;

namespace bmm {
inline constexpr Quant lhs_q{0.5f, -1};
inline constexpr Quant rhs_q{0.25f, 2};
inline constexpr Quant out_q{4.0f, 3};  // multiplier 0.5 * 0.25 / 4 = 1/32
struct lhs : Tensor<i8, Shape<2, 3>, lhs_q> {};
struct rhs : Tensor<i8, Shape<3, 2>, rhs_q> {};
struct lhs_t : Tensor<i8, Shape<3, 2>, lhs_q> {};  // the same matrices stored transposed
struct rhs_t : Tensor<i8, Shape<2, 3>, rhs_q> {};
struct out : Tensor<i8, Shape<2, 2>, out_q> {};
using plain = BatchMatMul<lhs, rhs, out>;
using adjoint = BatchMatMul<lhs_t, rhs_t, out, BatchMatMulOptions{.adj_x = true, .adj_y = true}>;
inline constexpr i8 rhs_values[] = {3, 2, 2, 4, -128, 127};
struct rhs_const : ConstantTensor<i8, Shape<3, 2>, rhs_values, rhs_q> {};
using constant_rhs = BatchMatMul<lhs, rhs_const, out>;
}  // namespace bmm

TEST_CASE("BatchMatMul int8: zero points on both operands, rounding, adj_x/adj_y, a constant rhs") {
  // lhs - zp = [[2, 0, 4], [128, -127, 1]]; rhs - zp = [[1, 0], [0, 2], [-130, 125]].
  // acc = [[2 - 520, 500], [128 - 130, -254 + 125]] = [[-518, 500], [-2, -129]]; / 32:
  // -16.19 -> -16, 15.63 -> 16, -0.06 -> 0, -4.03 -> -4; + 3 = -13, 19, 3, -1.
  const std::array<i8, 6> a{1, -1, 3, 127, -128, 0};
  const std::array<i8, 6> b{3, 2, 2, 4, -128, 127};
  std::array<i8, 4> y{};
  bmm::plain::run(a.data(), b.data(), y.data());
  CHECK(y == std::array<i8, 4>{-13, 19, 3, -1});

  const std::array<i8, 6> at{1, 127, -1, -128, 3, 0};
  const std::array<i8, 6> bt{3, 2, -128, 2, 4, 127};
  std::array<i8, 4> z{};
  bmm::adjoint::run(at.data(), bt.data(), z.data());
  CHECK(z == std::array<i8, 4>{-13, 19, 3, -1});

  std::array<i8, 4> c{};
  bmm::constant_rhs::run(a.data(), c.data());
  CHECK(c == std::array<i8, 4>{-13, 19, 3, -1});
  CHECK(bmm::constant_rhs::weight_bytes == 6);
  CHECK(bmm::plain::weight_bytes == 0);
  CHECK(bmm::plain::macs == 12);
}

namespace bmm16 {
inline constexpr Quant one{1.0f, 0};
inline constexpr Quant out_q{131072.0f, 0};  // multiplier 2^-17
struct lhs : Tensor<i16, Shape<1, 3>, one> {};
struct rhs : Tensor<i16, Shape<3, 2>, one> {};
struct out : Tensor<i16, Shape<1, 2>, out_q> {};
using layer = BatchMatMul<lhs, rhs, out>;
}  // namespace bmm16

TEST_CASE("BatchMatMul int16: the sum leaves 32 bits, TFLM's 64-bit requantization") {
  // column 0: 3 * 32767 * -32768 = -3221127168 (beyond int32) / 2^17 = -24575.25 -> floor(+ 1/2) = -24575
  // column 1: 3 * 32767^2 = 3221028867 / 2^17 = 24574.50002 -> 24575
  const std::array<i16, 3> a{32767, 32767, 32767};
  const std::array<i16, 6> b{-32768, 32767, -32768, 32767, -32768, 32767};
  std::array<i16, 2> y{};
  bmm16::layer::run(a.data(), b.data(), y.data());
  CHECK(y == std::array<i16, 2>{-24575, 24575});
}

namespace bmmf {
struct lhs : Tensor<float, Shape<2, 1, 2>> {};
inline constexpr float rhs_values[] = {10.0f, 100.0f};
struct rhs : ConstantTensor<float, Shape<1, 2, 1>, rhs_values> {};
struct out : Tensor<float, Shape<2, 1, 1>> {};
using layer = BatchMatMul<lhs, rhs, out>;
}  // namespace bmmf

TEST_CASE("BatchMatMul float: a batch of 1 in the rhs repeats for every lhs batch") {
  // batch 0: 1 * 10 + 2 * 100 = 210; batch 1: 3 * 10 + 4 * 100 = 430.
  const std::array<float, 4> a{1.0f, 2.0f, 3.0f, 4.0f};
  std::array<float, 2> y{};
  bmmf::layer::run(a.data(), y.data());
  CHECK(y == std::array<float, 2>{210.0f, 430.0f});
  CHECK(bmmf::layer::macs == 4);
  CHECK(bmmf::layer::weight_bytes == 8);
}
