// Sparse Conv2D and DepthwiseConv2D: the `unrolled` and `compressed` forms (and the automatic
// choice) give the dense kernel's bytes for random pruned weights: 1x1 convolutions (the input
// pixel read in place, with and without stride), larger kernels with SAME padding, stride and
// dilation (the receptive field copied into a patch, padded taps reading the input zero point),
// depthwise windows at the border and inside, depth multiplier 1 and 2, and constant evaluation.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>

#include <tinynet/tinynet.hpp>

#include "random_weights.hpp"

using namespace tinynet;
using i8 = std::int8_t;

namespace sparse_conv_test {

using test_random::Lcg, test_random::random_weights, test_random::random_bias, test_random::scales,
    test_random::random_input;

// A Conv2D: H x W x InC -> OutC, Kernel x Kernel, stride, dilation, SAME padding.
template <int H, int W, int InC, int OutC, int Kernel, int Stride, int Dilation, int DensityPercent, int InputZeroPoint>
struct ConvCase {
  static constexpr std::uint32_t seed = static_cast<std::uint32_t>(H * 131 + InC * 31 + OutC * 7 + Kernel + DensityPercent);
  static constexpr int depth = Kernel * Kernel * InC;
  static constexpr std::array<i8, OutC * depth> weights = random_weights<OutC * depth>(DensityPercent, seed);
  static constexpr std::array<std::int32_t, OutC> bias = random_bias<OutC>(seed + 1);
  static constexpr std::array<float, OutC> weight_scales = scales<OutC>(0.01f);
  static constexpr Quant in_q{0.05f, InputZeroPoint};
  static constexpr Quant out_q{0.05f * 0.01f * 4.0f * depth / 16.0f, -7};
  static constexpr Padding padding = Padding::same;
  static constexpr int out_h = (H + Stride - 1) / Stride, out_w = (W + Stride - 1) / Stride;
  struct in : Tensor<i8, Shape<1, H, W, InC>, in_q> {};
  struct out : Tensor<i8, Shape<1, out_h, out_w, OutC>, out_q> {};
  template <SparseForm Form>
  using layer = Conv2D<in, out, weights, bias, weight_scales,
                       Conv2DOptions{.kernel_h = Kernel, .kernel_w = Kernel, .stride_h = Stride, .stride_w = Stride,
                                     .dilation_h = Dilation, .dilation_w = Dilation, .padding = padding,
                                     .activation = Activation::relu, .sparse_form = Form}>;
  static constexpr int in_size = H * W * InC, out_size = out_h * out_w * OutC;
};

// A DepthwiseConv2D: H x W x InC, multiplier M, Kernel x Kernel, stride, SAME padding.
template <int H, int W, int InC, int M, int Kernel, int Stride, int DensityPercent, int InputZeroPoint>
struct DepthwiseCase {
  static constexpr std::uint32_t seed = static_cast<std::uint32_t>(H * 17 + InC * 101 + M * 3 + Kernel + DensityPercent);
  static constexpr int out_c = InC * M;
  static constexpr std::array<i8, Kernel * Kernel * out_c> weights = random_weights<Kernel * Kernel * out_c>(DensityPercent, seed);
  static constexpr std::array<std::int32_t, out_c> bias = random_bias<out_c>(seed + 1);
  static constexpr std::array<float, out_c> weight_scales = scales<out_c>(0.01f);
  static constexpr Quant in_q{0.05f, InputZeroPoint};
  static constexpr Quant out_q{0.05f * 0.01f * 4.0f * Kernel * Kernel / 16.0f, 3};
  static constexpr int out_h = (H + Stride - 1) / Stride, out_w = (W + Stride - 1) / Stride;
  struct in : Tensor<i8, Shape<1, H, W, InC>, in_q> {};
  struct out : Tensor<i8, Shape<1, out_h, out_w, out_c>, out_q> {};
  template <SparseForm Form>
  using layer = DepthwiseConv2D<in, out, weights, bias, weight_scales,
                                DepthwiseConv2DOptions{.kernel_h = Kernel, .kernel_w = Kernel, .stride_h = Stride,
                                                       .stride_w = Stride, .depth_multiplier = M, .padding = Padding::same,
                                                       .sparse_form = Form}>;
  static constexpr int in_size = H * W * InC, out_size = out_h * out_w * out_c;
};

template <class Layer, class C>
std::array<i8, C::out_size> run(const std::array<i8, C::in_size>& x) {
  std::array<i8, C::out_size> y{};
  Layer::run(x.data(), y.data());
  return y;
}

template <class C>
void check_forms() {
  using dense = typename C::template layer<SparseForm::dense>;
  using unrolled = typename C::template layer<SparseForm::unrolled>;
  using compressed = typename C::template layer<SparseForm::compressed>;
  using automatic = typename C::template layer<SparseForm::automatic>;
  static_assert(dense::sparse_form == SparseForm::dense && unrolled::sparse_form == SparseForm::unrolled &&
                compressed::sparse_form == SparseForm::compressed && automatic::sparse_form != SparseForm::automatic);
  CAPTURE(dense::nonzero_weights);
  for (std::uint32_t trial = 0; trial < 2; ++trial) {
    const auto x = random_input<C::in_size>(C::seed * 13 + trial);
    const auto expected = run<dense, C>(x);
    // The scales put the outputs in range: not all clamped to one value.
    int distinct = 0;
    for (std::size_t i = 1; i < expected.size(); ++i) distinct += expected[i] != expected[0] ? 1 : 0;
    CHECK(distinct > 0);
    CHECK(run<unrolled, C>(x) == expected);
    CHECK(run<compressed, C>(x) == expected);
    CHECK(run<automatic, C>(x) == expected);
  }
}

}  // namespace sparse_conv_test

using namespace sparse_conv_test;

TEST_CASE("sparse Conv2D: 1x1, stride 1 and 2, densities 10/30/100 %") {
  check_forms<ConvCase<5, 6, 16, 12, 1, 1, 1, 10, -3>>();
  check_forms<ConvCase<5, 6, 16, 12, 1, 1, 1, 30, -128>>();
  check_forms<ConvCase<5, 6, 16, 12, 1, 1, 1, 100, 9>>();
  check_forms<ConvCase<7, 5, 8, 33, 1, 2, 1, 20, 4>>();
}

TEST_CASE("sparse Conv2D: 3x3 and 4x4 SAME padding, stride 2, dilation 2, one input channel") {
  check_forms<ConvCase<6, 7, 5, 6, 3, 1, 1, 20, 17>>();
  check_forms<ConvCase<9, 8, 3, 5, 4, 2, 1, 40, -60>>();
  check_forms<ConvCase<7, 7, 4, 4, 3, 1, 2, 25, 0>>();
  check_forms<ConvCase<10, 4, 1, 9, 3, 2, 1, 30, -5>>();
}

TEST_CASE("sparse DepthwiseConv2D: 3x3 SAME, stride 1 and 2, multiplier 1 and 2, 300 channels (gaps past 255)") {
  check_forms<DepthwiseCase<6, 5, 8, 1, 3, 1, 20, -11>>();
  check_forms<DepthwiseCase<7, 6, 3, 2, 3, 2, 50, 6>>();
  check_forms<DepthwiseCase<5, 5, 4, 1, 5, 1, 100, -128>>();
  check_forms<DepthwiseCase<3, 4, 300, 1, 3, 1, 15, 2>>();
}

namespace sparse_conv_network {
using C = ConvCase<4, 4, 3, 4, 3, 1, 1, 30, 5>;
using D = DepthwiseCase<4, 4, 3, 2, 3, 1, 30, 1>;
inline constexpr auto x = random_input<C::in_size>(77);
template <class Layer, int N, int M>
constexpr std::array<i8, M> evaluate(const std::array<i8, N>& in) {
  std::array<i8, M> y{};
  Layer::run(in.data(), y.data());
  return y;
}
}  // namespace sparse_conv_network

TEST_CASE("sparse Conv2D and DepthwiseConv2D: every form in constant evaluation") {
  using namespace sparse_conv_network;
  constexpr auto conv = evaluate<C::layer<SparseForm::dense>, C::in_size, C::out_size>(x);
  static_assert(evaluate<C::layer<SparseForm::unrolled>, C::in_size, C::out_size>(x) == conv);
  static_assert(evaluate<C::layer<SparseForm::compressed>, C::in_size, C::out_size>(x) == conv);
  constexpr auto depthwise = evaluate<D::layer<SparseForm::dense>, D::in_size, D::out_size>(x);
  static_assert(evaluate<D::layer<SparseForm::unrolled>, D::in_size, D::out_size>(x) == depthwise);
  static_assert(evaluate<D::layer<SparseForm::compressed>, D::in_size, D::out_size>(x) == depthwise);
  // ... and equal to the run-time dense kernels.
  CHECK(run<C::layer<SparseForm::dense>, C>(x) == conv);
  CHECK(run<D::layer<SparseForm::dense>, D>(x) == depthwise);
}
