// Conv2D with few input channels (layers/conv/conv2d_few_channels.hpp, the DSP kernel
// kernels/arm_dsp/conv_few_channels.hpp; kernels/x86_simd/ on the host): 1 to 4 input channels,
// SAME padding at every border, VALID, strides 1 and 2, 3x3, 10x4 and 1x1 kernels (a 1x1 kernel's
// patch is too short for the kernel: the general path), output channel counts that are odd or not
// a multiple of four, per-channel scales, output zero points whose clamp cuts at both ends. Each
// case is one layer in a network of its own. Used by the host unit tests
// (test_few_channels_edges.cpp) and by the device image (tests/cortex-m/device_tests.cpp):
// invoke() must give the bytes constant evaluation gives (the portable loops).
#pragma once

#include <array>
#include <cstdint>

#include <tinynet/tinynet.hpp>

#include "edge_harness.hpp"
#include "in_place_network.hpp"

namespace few_edges {

using in_place_net::biases;
using in_place_net::pseudo_random;

inline constexpr tinynet::Quant q_in{0.05f, -3};
inline constexpr tinynet::Quant q_wide{0.03f, -128};  // a ReLU output as the models have them
inline constexpr tinynet::Quant q_clamp{0.01f, 5};    // clamps at 5 (ReLU) and at 127

// Per-channel weight scales, all different.
template <int N>
inline constexpr auto channel_scales = [] {
  std::array<float, N> s{};
  for (int i = 0; i < N; ++i) s[static_cast<std::size_t>(i)] = 0.002f + 0.0007f * static_cast<float>(i);
  return s;
}();

template <int H, int W, int C, int OH, int OW, int OC, tinynet::Conv2DOptions Options, const tinynet::Quant& QOut, std::uint32_t Seed>
struct Case {
  struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, H, W, C>, q_in> {};
  struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, OH, OW, OC>, QOut> {};
  static constexpr auto weights = pseudo_random<static_cast<std::size_t>(OC * Options.kernel_h * Options.kernel_w * C)>(Seed);
  static constexpr auto bias = biases<static_cast<std::size_t>(OC)>(60);
  using layer = tinynet::Conv2D<in, out, weights, bias, channel_scales<OC>, Options>;
  using network = tinynet::Network<tinynet::Inputs<in>, tinynet::Outputs<out>, layer>;
  static constexpr auto input = pseudo_random<static_cast<std::size_t>(H * W * C)>(Seed + 100);
  static constexpr auto expected = network::evaluate(input);
};

using tinynet::Activation;
using tinynet::Conv2DOptions;
using tinynet::Padding;
// vww's first layer, smaller: 3 channels, 3x3 stride 2 SAME (padding after only), 8 out.
using vww_like = Case<9, 10, 3, 5, 5, 8, Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, .padding = Padding::same,
                                                          .activation = Activation::relu},
                      q_wide, 1>;
// resnet's: 3 channels, 3x3 stride 1 SAME (padding on all four sides), 7 out (4 + 2 + 1).
using resnet_like = Case<6, 7, 3, 6, 7, 7, Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same, .activation = Activation::relu},
                         q_clamp, 2>;
// kws's: 1 channel, 10x4 stride 2 SAME, 6 out (4 + 2), an odd number of pixels.
using kws_like = Case<13, 6, 1, 7, 3, 6, Conv2DOptions{.kernel_h = 10, .kernel_w = 4, .stride_h = 2, .stride_w = 2, .padding = Padding::same},
                      q_clamp, 3>;
// 2 channels, VALID, 5 out (4 + 1).
using two_valid = Case<7, 8, 2, 5, 6, 5, Conv2DOptions{.kernel_h = 3, .kernel_w = 3}, q_clamp, 4>;
// 4 channels (rows of whole words), 3x3 stride 2 VALID, 9 out.
using four_stride2 = Case<7, 9, 4, 3, 4, 9, Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2}, q_wide, 5>;
// 1x1 over 3 channels (the general path), 5 out.
using pointwise3 = Case<5, 5, 3, 5, 5, 5, Conv2DOptions{}, q_clamp, 6>;

// Every case, in order: for_each_case(f) calls f.template operator()<Case>() for each.
inline constexpr edge_harness::CaseList<vww_like, resnet_like, kws_like, two_valid, four_stride2, pointwise3> for_each_case{};

}  // namespace few_edges
