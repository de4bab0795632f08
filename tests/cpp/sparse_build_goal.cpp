// The automatic sparse form follows the build's goal (core/sparsity.hpp, speed_build, size_build):
// not a unit test of its own (tests/conformance/test_sparse_conv_forms.py compiles it with
// -fsyntax-only at -O0, -O1, -O2, -O3, -Os and -Oz, with g++, clang++ and arm-none-eabi-g++, and
// says what to expect: -DEXPECT_GOAL=1 (speed) for -O1 to -O3, 2 (size) for -Os and -Oz, 0 for
// -O0). Three layers 20 % non-zero, each within unrolled's limits: a 1x1 Conv2D, a 3x3
// DepthwiseConv2D and a FullyConnected, and a wide DepthwiseConv2D. Built for speed they all
// unroll; built for size the Conv2D and the FullyConnected run `compressed`, the small
// DepthwiseConv2D unrolled (its code is smaller than its dense form) and the wide one dense;
// without optimization everything runs `compressed` or dense. Every depthwise form here runs in
// place.
#include <array>
#include <cstdint>

#include <tinynet/tinynet.hpp>

#include "random_weights.hpp"

#ifndef EXPECT_GOAL
#error "EXPECT_GOAL (0: none, 1: speed, 2: size) says what this build should be"
#endif

using namespace tinynet;
using i8 = std::int8_t;
using test_random::random_bias, test_random::random_weights, test_random::scales;

constexpr bool speed = EXPECT_GOAL == 1, size = EXPECT_GOAL == 2;
static_assert(sparsity::speed_build == speed && sparsity::size_build == size);

constexpr Quant conv_in_q{0.05f, -3}, conv_out_q{0.02f, 5}, dw_out_q{0.02f, -1}, fc_in_q{0.05f, 2}, fc_out_q{0.1f, 0};

constexpr std::array<i8, 32 * 32> conv_weights = random_weights<32 * 32>(20, 11);
constexpr std::array<std::int32_t, 32> conv_bias = random_bias<32>(12);
constexpr std::array<float, 32> conv_scales = scales<32>(0.01f);
struct conv_in : Tensor<i8, Shape<1, 8, 8, 32>, conv_in_q> {};
struct conv_out : Tensor<i8, Shape<1, 8, 8, 32>, conv_out_q> {};
using Pointwise = Conv2D<conv_in, conv_out, conv_weights, conv_bias, conv_scales, Conv2DOptions{}>;
static_assert(Pointwise::nonzero_weights * 4 < 32 * 32);
static_assert(Pointwise::sparse_form == (speed ? SparseForm::unrolled : SparseForm::compressed));

constexpr std::array<i8, 9 * 32> dw_weights = random_weights<9 * 32>(20, 21);
constexpr std::array<std::int32_t, 32> dw_bias = random_bias<32>(22);
struct dw_out : Tensor<i8, Shape<1, 8, 8, 32>, dw_out_q> {};
using Depthwise = DepthwiseConv2D<conv_out, dw_out, dw_weights, dw_bias, conv_scales,
                                  DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same}>;
static_assert(Depthwise::sparse_form == (speed || size ? SparseForm::unrolled : SparseForm::dense));
static_assert(Depthwise::in_place);
// 20 % of 9 x 256 weights: within unrolled's limits, but unrolled its 256 output stages as code
// (about 40 bytes each) outweigh the dense form (core/sparsity.hpp, depthwise_unrolls_smaller).
constexpr std::array<i8, 9 * 256> wide_weights = random_weights<9 * 256>(20, 23);
constexpr std::array<std::int32_t, 256> wide_bias = random_bias<256>(24);
constexpr std::array<float, 256> wide_scales = scales<256>(0.01f);
struct wide_in : Tensor<i8, Shape<1, 4, 4, 256>, conv_in_q> {};
struct wide_out : Tensor<i8, Shape<1, 4, 4, 256>, dw_out_q> {};
using WideDepthwise = DepthwiseConv2D<wide_in, wide_out, wide_weights, wide_bias, wide_scales,
                                      DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same}>;
static_assert(WideDepthwise::nonzero_weights * 5 <= 2 * 9 * 256);
static_assert(WideDepthwise::sparse_form == (speed ? SparseForm::unrolled : SparseForm::dense));

constexpr std::array<i8, 10 * 64> fc_weights = random_weights<10 * 64>(20, 31);
constexpr std::array<std::int32_t, 10> fc_bias = random_bias<10>(32);
constexpr std::array<float, 1> fc_scale{0.01f};
struct fc_in : Tensor<i8, Shape<1, 64>, fc_in_q> {};
struct fc_out : Tensor<i8, Shape<1, 10>, fc_out_q> {};
using Classifier = FullyConnected<fc_in, fc_out, fc_weights, fc_bias, fc_scale, FullyConnectedOptions{}>;
static_assert(Classifier::sparse_form == (speed ? SparseForm::unrolled : SparseForm::compressed));

// Asked for, `unrolled` is kept in every build.
using AskedUnrolled = Conv2D<conv_in, conv_out, conv_weights, conv_bias, conv_scales,
                             Conv2DOptions{.sparse_form = SparseForm::unrolled}>;
static_assert(AskedUnrolled::sparse_form == SparseForm::unrolled);
