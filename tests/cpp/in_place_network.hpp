// A network whose convolutions run in place (layers/conv/in_place_rows.hpp, Conv2D::in_place):
// depthwise 5x5 stride 1 (a ring of three rows), 3x3 stride 1, 3x3 stride 2 with a padded first
// row, and pointwise convolutions with as many and with fewer output channels; one pointwise
// convolution with more output channels cannot go in place and must not. Used by the host unit
// tests (test_in_place.cpp) and by the device image (tests/cortex-m/device_tests.cpp): invoke()
// in the planned arena must give the bytes constant evaluation gives with a buffer per tensor.
// (On Cortex-M4/M7 at -O2 it also caught a miscompile of the pointwise convolutions `widen` and
// `mix`, with or without in-place: see kernels/dot.hpp, patch_position.)
#pragma once

#include <array>
#include <cstdint>

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
static_assert(!widen::in_place);  // more output channels than input channels
static_assert(dw3::in_place && dw3::in_place_rows::ring_rows == 2 && mix::in_place);
static_assert(dw3_s2::in_place && dw3_s2::pad_h == 1 && narrow::in_place);
// Sharing as planned: {image, a} and {b, c, d, e, f}, alive together only while `widen` runs:
// 15*4*4 + 15*4*8 = 240 + 480 bytes (without in-place ops: 480 + 480 + ... at least 960).
static_assert(network::offset_of<image> == network::offset_of<a>);
static_assert(network::offset_of<b> == network::offset_of<c> && network::offset_of<c> == network::offset_of<d> &&
              network::offset_of<d> == network::offset_of<e> && network::offset_of<e> == network::offset_of<f>);
static_assert(network::arena_bytes == 240 + 480);

inline constexpr auto input = pseudo_random<15 * 4 * 4>(2026);
// Computed by the compiler, one std::array per tensor (no aliasing, the portable loops).
inline constexpr auto expected = network::evaluate(input);

}  // namespace in_place_net
