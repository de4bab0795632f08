// Networks whose convolutions run in place (layers/conv/in_place_rows.hpp, Conv2D::in_place):
// depthwise 5x5 stride 1 (a ring of three rows), 3x3 stride 1, 3x3 stride 2 with a padded first
// row, and pointwise convolutions with as many, with fewer and with more output channels (that one
// overlaps its output with its input, the output starting below it). Used by the host unit
// tests (test_in_place.cpp) and by the device image (tests/cortex-m/device_tests.cpp): invoke()
// in the planned arena must give the bytes constant evaluation gives with a buffer per tensor.
// (On Cortex-M4/M7 at -O2 it also caught a miscompile of the pointwise convolutions `widen` and
// `mix`, with or without in-place: see kernels/dot.hpp, patch_position.)
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#include <tinynet/tinynet.hpp>

namespace in_place_net {

template <std::size_t N>
constexpr std::array<std::int8_t, N> pseudo_random(std::uint32_t state) {
  std::array<std::int8_t, N> v{};
  for (auto& x : v) {
    state = state * 1103515245u + 12345u;
    x = static_cast<std::int8_t>((state >> 16) & 0xFF);
  }
  return v;
}
template <std::size_t N>
constexpr std::array<std::int32_t, N> biases(std::int32_t step) {
  std::array<std::int32_t, N> v{};
  for (std::size_t i = 0; i < N; ++i) v[i] = (static_cast<std::int32_t>(i) - 3) * step;
  return v;
}

inline constexpr tinynet::Quant q_in{0.05f, -3};
inline constexpr tinynet::Quant q_a{0.08f, 5};
inline constexpr tinynet::Quant q_b{0.1f, -7};
// image -> a (dw 5x5) -> b (1x1, 4 -> 8) -> c (dw 3x3 + ReLU) -> d (1x1, 8 -> 8) -> e (dw 3x3 /2) -> f (1x1, 8 -> 4)
struct image : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 15, 4, 4>, q_in> {};
struct a : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 15, 4, 4>, q_a> {};
struct b : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 15, 4, 8>, q_b> {};
struct c : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 15, 4, 8>, q_a> {};
struct d : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 15, 4, 8>, q_b> {};
struct e : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8, 2, 8>, q_a> {};
struct f : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8, 2, 4>, q_b> {};

inline constexpr auto w_a = pseudo_random<5 * 5 * 4>(11);
inline constexpr auto w_b = pseudo_random<8 * 4>(12);
inline constexpr auto w_c = pseudo_random<3 * 3 * 8>(13);
inline constexpr auto w_d = pseudo_random<8 * 8>(14);
inline constexpr auto w_e = pseudo_random<3 * 3 * 8>(15);
inline constexpr auto w_f = pseudo_random<4 * 8>(16);
inline constexpr auto bias4 = biases<4>(50);
inline constexpr auto bias8 = biases<8>(70);
inline constexpr float scales[] = {0.004f};

using dw5 = tinynet::DepthwiseConv2D<image, a, w_a, bias4, scales,
                                     tinynet::DepthwiseConv2DOptions{.kernel_h = 5, .kernel_w = 5, .padding = tinynet::Padding::same}>;
using widen = tinynet::Conv2D<a, b, w_b, bias8, scales, tinynet::Conv2DOptions{}>;
using dw3 = tinynet::DepthwiseConv2D<b, c, w_c, bias8, scales,
                                     tinynet::DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same,
                                                                     .activation = tinynet::Activation::relu}>;
using mix = tinynet::Conv2D<c, d, w_d, bias8, scales, tinynet::Conv2DOptions{}>;
using dw3_s2 = tinynet::DepthwiseConv2D<d, e, w_e, bias8, scales,
                                        tinynet::DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
                                                                        .padding = tinynet::Padding::same}>;
using narrow = tinynet::Conv2D<e, f, w_f, bias4, scales, tinynet::Conv2DOptions{}>;
using network = tinynet::Network<tinynet::Inputs<image>, tinynet::Outputs<f>, dw5, widen, dw3, mix, dw3_s2, narrow>;

static_assert(dw5::in_place && dw5::in_place_rows::ring_rows == 3 && dw5::pad_h == 2);  // lag 2
// 4 -> 8 channels over 60 pixels: the output starts 59 x 4 bytes (rounded up to 16: 240) below
// the input.
static_assert(widen::in_place && widen::in_place_below == 240);
static_assert(dw3::in_place && dw3::in_place_rows::ring_rows == 2 && mix::in_place);
static_assert(dw3_s2::in_place && dw3_s2::pad_h == 1 && narrow::in_place);
// Sharing as planned: {image, a} (240 bytes) at 240 and {b, c, d} at 0, b's 480 bytes ending
// where a's end (the widening overlap: 480 bytes instead of 240 + 480). The stride-2 depthwise
// layer's 128-byte output would keep the 480-byte buffer reserved while it lives (more than its own
// size of dead bytes), so {e, f} is a buffer of its own: 480 + 128 bytes (without in-place ops at
// least 960; before the overlap, 720).
static_assert(network::offset_of<image> == network::offset_of<a> && network::offset_of<a> == 240);
static_assert(network::offset_of<b> == 0 && network::offset_of<c> == 0 && network::offset_of<d> == 0);
static_assert(network::offset_of<e> == network::offset_of<f> && network::offset_of<e> == 480);
static_assert(network::arena_bytes == 480 + 128);

inline constexpr auto input = pseudo_random<15 * 4 * 4>(2026);
// Computed by the compiler, one std::array per tensor (no aliasing, the portable loops).
inline constexpr auto expected = network::evaluate(input);

}  // namespace in_place_net

// A residual block as in resnet (layers/conv/conv2d.hpp, rows_in_place): x0 = conv 3x3 (image),
// y1 = conv 3x3 (x0), y2 = conv 3x3 (y1) over y1 through a ring of two rows, sum = x0 + y2 over
// x0 (x0 is read until then, so y1 cannot go over it), z = conv 3x3 stride 2 (sum), which could
// go over sum but is not kept there: the arena would not shrink (graph/network.hpp, `tried`).
namespace residual_net {
using in_place_net::pseudo_random;
using in_place_net::biases;
inline constexpr tinynet::Quant q_in{0.05f, -3};
inline constexpr tinynet::Quant q_a{0.08f, 5};
inline constexpr tinynet::Quant q_b{0.1f, -7};
struct image : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 9, 6, 4>, q_in> {};
struct x0 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 9, 6, 8>, q_a> {};
struct y1 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 9, 6, 8>, q_b> {};
struct y2 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 9, 6, 8>, q_a> {};
struct sum : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 9, 6, 8>, q_b> {};
struct z : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 5, 3, 8>, q_a> {};

inline constexpr auto w_0 = pseudo_random<8 * 3 * 3 * 4>(21);
inline constexpr auto w_1 = pseudo_random<8 * 3 * 3 * 8>(22);
inline constexpr auto w_2 = pseudo_random<8 * 3 * 3 * 8>(23);
inline constexpr auto w_3 = pseudo_random<8 * 3 * 3 * 8>(24);
inline constexpr auto bias8 = biases<8>(90);
inline constexpr float scales[] = {0.002f};
inline constexpr tinynet::Conv2DOptions same3{.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same};
inline constexpr tinynet::Conv2DOptions same3_relu{.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same,
                                                   .activation = tinynet::Activation::relu};
inline constexpr tinynet::Conv2DOptions same3_s2{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
                                                 .padding = tinynet::Padding::same};

// A stride-1 residual block's three layers: y1 = conv 3x3 + ReLU (x), y2 = conv 3x3 (y1),
// sum = x + y2 (y2 + x when YFirst). residual_blocks below builds two more of this shape.
template <class X, class Y1, class Y2, class Sum, const auto& W1, const auto& W2, const auto& Bias, bool YFirst = false,
          tinynet::ArithmeticOptions AddOptions = tinynet::ArithmeticOptions{}>
struct Block {
  using conv1 = tinynet::Conv2D<X, Y1, W1, Bias, scales, same3_relu>;
  using conv2 = tinynet::Conv2D<Y1, Y2, W2, Bias, scales, same3>;
  using add = std::conditional_t<YFirst, tinynet::Add<Y2, X, Sum, AddOptions>, tinynet::Add<X, Y2, Sum, AddOptions>>;
};

using conv0 = tinynet::Conv2D<image, x0, w_0, bias8, scales, same3_relu>;
using block = Block<x0, y1, y2, sum, w_1, w_2, bias8>;
using conv1 = block::conv1;
using conv2 = block::conv2;
using add = block::add;
using conv3 = tinynet::Conv2D<sum, z, w_3, bias8, scales, same3_s2>;
using network = tinynet::Network<tinynet::Inputs<image>, tinynet::Outputs<z>, conv0, conv1, conv2, add, conv3>;

static_assert(!conv0::in_place && conv1::rows_in_place && conv2::rows_in_place && conv3::rows_in_place);
static_assert(conv2::in_place_rows::ring_rows == 2 && conv3::in_place_rows::ring_rows == 1);
// conv1 -> conv2 -> add runs fused, row by row (layers/conv/residual_rows.hpp): y1 and y2 never
// exist whole, the sum goes over x0, and the peak is conv0's (the image's 216 bytes, rounded up
// to 224, beside x0's 432), instead of 2 x 432 with conv2 over y1 and 3 x 432 with neither.
static_assert(network::fused_block<conv1> && network::fused_away<conv2> && network::fused_away<add> &&
              network::fused_blocks == 1);
static_assert(network::offset_of<sum> == network::offset_of<x0>);
static_assert(network::arena_bytes < 2 * 432);

inline constexpr auto input = pseudo_random<9 * 6 * 4>(2027);
inline constexpr auto expected = network::evaluate(input);
}  // namespace residual_net

// Residual blocks run fused, row by row (layers/conv/residual_rows.hpp), against the same
// network layer by layer (constant evaluation: a buffer per tensor). Odd widths, 6 and 10
// channels (not multiples of 4), ReLU on each block's first convolution, ADDs with their own
// quantization and both operand orders; between the two stride-1 blocks a stride-2 block whose 1x1
// stride-2 shortcut may go over its input.
namespace residual_blocks {
using in_place_net::pseudo_random;
using in_place_net::biases;
using residual_net::q_in;  // the quantizations, scales, 3x3 options and block shape of residual_net
using residual_net::q_a;
using residual_net::q_b;
using residual_net::scales;
using residual_net::same3;
using residual_net::same3_relu;
inline constexpr tinynet::Quant q_s{0.13f, 2};
struct image : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 7, 5, 3>, q_in> {};
struct x : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 7, 5, 6>, q_a> {};
struct a1 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 7, 5, 6>, q_b> {};
struct a2 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 7, 5, 6>, q_a> {};
struct s1 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 7, 5, 6>, q_s> {};
struct b1 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 3, 10>, q_b> {};
struct b2 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 3, 10>, q_a> {};
struct sc : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 3, 10>, q_b> {};
struct s2 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 3, 10>, q_s> {};
struct c1 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 3, 10>, q_a> {};
struct c2 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 3, 10>, q_b> {};
struct s3 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 3, 10>, q_a> {};

inline constexpr auto w_0 = pseudo_random<6 * 3 * 3 * 3>(31);
inline constexpr auto w_a1 = pseudo_random<6 * 3 * 3 * 6>(32);
inline constexpr auto w_a2 = pseudo_random<6 * 3 * 3 * 6>(33);
inline constexpr auto w_b1 = pseudo_random<10 * 3 * 3 * 6>(34);
inline constexpr auto w_b2 = pseudo_random<10 * 3 * 3 * 10>(35);
inline constexpr auto w_sc = pseudo_random<10 * 6>(36);
inline constexpr auto w_c1 = pseudo_random<10 * 3 * 3 * 10>(37);
inline constexpr auto w_c2 = pseudo_random<10 * 3 * 3 * 10>(38);
inline constexpr auto bias6 = biases<6>(80);
inline constexpr auto bias10 = biases<10>(60);
inline constexpr tinynet::Conv2DOptions same3_s2_relu{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
                                                      .padding = tinynet::Padding::same, .activation = tinynet::Activation::relu};
inline constexpr tinynet::Conv2DOptions point_s2{.stride_h = 2, .stride_w = 2, .padding = tinynet::Padding::same};

using conv0 = tinynet::Conv2D<image, x, w_0, bias6, scales, same3_relu>;
using block_a = residual_net::Block<x, a1, a2, s1, w_a1, w_a2, bias6, true, tinynet::ArithmeticOptions{tinynet::Activation::relu}>;  // y2 first
using conv_a1 = block_a::conv1;
using conv_a2 = block_a::conv2;
using add_a = block_a::add;
using conv_b1 = tinynet::Conv2D<s1, b1, w_b1, bias10, scales, same3_s2_relu>;
using conv_b2 = tinynet::Conv2D<b1, b2, w_b2, bias10, scales, same3>;
using shortcut = tinynet::Conv2D<s1, sc, w_sc, bias10, scales, point_s2>;
using add_b = tinynet::Add<sc, b2, s2>;
using block_c = residual_net::Block<s2, c1, c2, s3, w_c1, w_c2, bias10>;  // x first
using conv_c1 = block_c::conv1;
using conv_c2 = block_c::conv2;
using add_c = block_c::add;
using network = tinynet::Network<tinynet::Inputs<image>, tinynet::Outputs<s3>, conv0, conv_a1, conv_a2, add_a, conv_b1,
                                 conv_b2, shortcut, add_b, conv_c1, conv_c2, add_c>;

static_assert(tinynet::detail::ResidualRows<conv_a1, conv_a2, add_a>::applies &&
              tinynet::detail::ResidualRows<conv_c1, conv_c2, add_c>::applies &&
              !tinynet::detail::ResidualRows<conv_b1, conv_b2, shortcut>::applies);
static_assert(network::fused_block<conv_a1> && network::fused_away<conv_a2> && network::fused_away<add_a>);
static_assert(network::offset_of<s1> == network::offset_of<x>);

inline constexpr auto input = pseudo_random<7 * 5 * 3>(2028);
inline constexpr auto expected = network::evaluate(input);
}  // namespace residual_blocks

// Layout ops without copies (graph/network.hpp): slices that are views of their input, in-place
// ops over views, Pack and Concatenation whose inputs are written straight into the output.
//   x [1,4,8] -> r = Relu(x)            in place over x
//   s0 = rows 0-1 of r, s1 = rows 2-3   views (r + 0, r + 16): not run
//   p = Relu6(s0)                       NOT over s0: r (under s0's bytes) is still read by s1's slice
//   n = Relu(s0)                        over s0: r is dead, s1 alive but beside it
//   m = Maximum(s1, n)                  over s1 (n, in the same buffer, lies beside it)
//   q1 = Relu6(m), q2 = Relu(p)         not in place: m and p are read later
//   y = Pack(p, m)                      p written in y's first slot by its producer; m copied
//   y2 = Concatenation(q1, q2)          both written in place by their producers: not run
namespace layout_net {
inline constexpr tinynet::Quant q{0.05f, -3};
struct x : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 8>, q> {};
struct r : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 8>, q> {};
struct s0 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 8>, q> {};
struct s1 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 8>, q> {};
struct p : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 8>, q> {};
struct n : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 8>, q> {};
struct m : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 8>, q> {};
struct q1 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 8>, q> {};
struct q2 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 8>, q> {};
struct y : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 1, 2, 8>, q> {};
struct y2 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 8>, q> {};

inline constexpr tinynet::StridedSliceOptions rows01{.start = {0, 0, 0, 0}, .stride = {1, 1, 1, 1}, .count = {1, 2, 8, 1}};
inline constexpr tinynet::StridedSliceOptions rows23{.start = {0, 2, 0, 0}, .stride = {1, 1, 1, 1}, .count = {1, 2, 8, 1}};
using relu_x = tinynet::Relu<x, r>;
using slice0 = tinynet::StridedSlice<r, s0, rows01>;
using relu6_p = tinynet::Relu6<s0, p>;
using slice1 = tinynet::StridedSlice<r, s1, rows23>;
using relu_n = tinynet::Relu<s0, n>;
using max_m = tinynet::Maximum<s1, n, m>;
using relu6_q1 = tinynet::Relu6<m, q1>;
using relu_q2 = tinynet::Relu<p, q2>;
using pack_y = tinynet::Pack<y, tinynet::PackOptions{.axis = 0}, p, m>;
using concat_y2 = tinynet::Concatenation<y2, tinynet::ConcatenationOptions{.axis = 1}, q1, q2>;
using network = tinynet::Network<tinynet::Inputs<x>, tinynet::Outputs<y, y2>, relu_x, slice0, relu6_p, slice1, relu_n,
                                 max_m, relu6_q1, relu_q2, pack_y, concat_y2>;

template <class T>
inline constexpr std::size_t at = network::offset_of<T>;
static_assert(slice0::view_offset == 0 && slice1::view_offset == 16);
static_assert(at<r> == at<x> && at<s0> == at<r> && at<s1> == at<r> + 16);
static_assert(network::elided<slice0> && network::elided<slice1>);
static_assert(at<p> != at<s0> && at<n> == at<s0> && at<m> == at<s1>);
static_assert(at<p> == at<y> && at<m> != at<y> + 16 && !network::elided<pack_y>);
static_assert(at<q1> == at<y2> && at<q2> == at<y2> + 16 && network::elided<concat_y2>);

inline constexpr auto input = in_place_net::pseudo_random<32>(7);
inline constexpr auto expected = network::evaluate(input);  // one std::array per tensor, every op run
}  // namespace layout_net
