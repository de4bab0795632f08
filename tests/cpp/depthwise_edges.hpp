// DepthwiseConv2D edge cases for the target kernels (kernels/arm_dsp/depthwise_conv2d.hpp: pairs
// of interior pixels, border pixels, channels left over after the groups of four;
// kernels/x86_simd/ on the host): channel counts that are odd or not a multiple of four,
// padding at every border, stride 2 (with SAME padding only after, on even inputs), VALID, a 5x5
// and a 2x3 kernel, unequal strides, dilation, depth multiplier 2, a kws-like width of 5, and
// output zero points whose clamp cuts at both ends; and the same shapes with packed int4 weights
// (kernels/arm_dsp/depthwise_conv2d.hpp's QuadTapsInt4 records; the long output stage in
// kernels/int4_dot.hpp's DepthwiseInt4). Each case is one layer in a network of its own. Used by the host unit tests (test_depthwise_edges.cpp) and by the device image
// (tests/cortex-m/device_tests.cpp): invoke() must give the bytes constant evaluation gives
// (the portable loops, checked against TFLM by the conformance tests).
#pragma once

#include <array>
#include <cstdint>

#include <tinynet/tinynet.hpp>

#include "edge_harness.hpp"
#include "in_place_network.hpp"

namespace dw_edges {

using in_place_net::biases;
using in_place_net::pseudo_random;

inline constexpr tinynet::Quant q_in{0.05f, -3};
inline constexpr tinynet::Quant q_wide{0.03f, -128};  // a ReLU output as the models have them
inline constexpr tinynet::Quant q_clamp{0.01f, 5};    // clamps at 5 (ReLU) and at 127
inline constexpr tinynet::Quant q_long{0.0003f, 0};   // a real multiplier of 2/3: the long output stage
inline constexpr float scales[] = {0.004f};

// Int4: the weights packed two to a byte, the nibbles of pseudo-random bytes (-8..7).
template <std::size_t N, bool Int4>
constexpr auto case_weights(std::uint32_t seed) {
  if constexpr (Int4) {
    tinynet::PackedInt4<N> w{};
    const auto bytes = pseudo_random<(N + 1) / 2>(seed);
    for (std::size_t i = 0; i < w.packed.size(); ++i) w.packed[i] = static_cast<std::uint8_t>(bytes[i]);
    return w;
  } else {
    return pseudo_random<N>(seed);
  }
}

template <int H, int W, int C, int OH, int OW, int M, tinynet::DepthwiseConv2DOptions Options, const tinynet::Quant& QOut,
          std::uint32_t Seed, bool Int4 = false>
struct Case {
  struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, H, W, C>, q_in> {};
  struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, OH, OW, C * M>, QOut> {};
  static constexpr auto weights = case_weights<static_cast<std::size_t>(Options.kernel_h * Options.kernel_w * C * M), Int4>(Seed);
  static constexpr auto bias = biases<static_cast<std::size_t>(C * M)>(60);
  using layer = tinynet::DepthwiseConv2D<in, out, weights, bias, scales, Options>;
  using network = tinynet::Network<tinynet::Inputs<in>, tinynet::Outputs<out>, layer>;
  static constexpr auto input = pseudo_random<static_cast<std::size_t>(H * W * C)>(Seed + 100);
  static constexpr auto expected = network::evaluate(input);
};

using tinynet::Activation;
using tinynet::DepthwiseConv2DOptions;
using tinynet::Padding;
// 6 channels (one group of four and two left over), 9 wide (pairs and one pixel left over).
using odd6 = Case<7, 9, 6, 7, 9, 1, DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same, .activation = Activation::relu},
                  q_clamp, 1>;
// 5 channels, stride 2: padding before and after.
using stride2_odd = Case<9, 9, 5, 5, 5, 1,
                         DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, .padding = Padding::same}, q_wide, 2>;
// Even input, stride 2, SAME: padding after only.
using stride2_even = Case<8, 10, 8, 4, 5, 1,
                          DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, .padding = Padding::same,
                                                 .activation = Activation::relu},
                          q_wide, 3>;
using valid12 = Case<6, 10, 12, 4, 8, 1, DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3}, q_clamp, 4>;
using kernel5 = Case<6, 7, 8, 6, 7, 1, DepthwiseConv2DOptions{.kernel_h = 5, .kernel_w = 5, .padding = Padding::same}, q_wide, 5>;
// 2x3, stride 1 down and 2 across; 7 channels.
using rect = Case<5, 9, 7, 5, 5, 1, DepthwiseConv2DOptions{.kernel_h = 2, .kernel_w = 3, .stride_h = 1, .stride_w = 2, .padding = Padding::same},
                  q_clamp, 6>;
using dilated = Case<7, 7, 4, 7, 7, 1, DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .dilation_h = 2, .dilation_w = 2, .padding = Padding::same},
                     q_wide, 7>;
using multiplier2 = Case<6, 7, 3, 6, 7, 2, DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .depth_multiplier = 2, .padding = Padding::same},
                         q_clamp, 8>;
// kws's geometry, narrower: width 5, 3x3 SAME (one interior pair per row, borders both sides).
using kws_like = Case<6, 5, 12, 6, 5, 1, DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same, .activation = Activation::relu},
                      q_wide, 9>;

// Packed int4 weights: channels left over, stride 2 with an odd width, VALID, an even tap count
// (2x3: no odd last tap) and 25 taps, dilation, kws's width, the long output stage.
using int4_odd6 = Case<7, 9, 6, 7, 9, 1, DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same, .activation = Activation::relu},
                       q_clamp, 11, true>;
using int4_stride2 = Case<9, 9, 5, 5, 5, 1,
                          DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, .padding = Padding::same}, q_wide, 12,
                          true>;
using int4_valid12 = Case<6, 10, 12, 4, 8, 1, DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3}, q_clamp, 13, true>;
using int4_rect = Case<5, 9, 7, 5, 5, 1,
                       DepthwiseConv2DOptions{.kernel_h = 2, .kernel_w = 3, .stride_h = 1, .stride_w = 2, .padding = Padding::same}, q_clamp, 14, true>;
using int4_kernel5 = Case<6, 7, 8, 6, 7, 1, DepthwiseConv2DOptions{.kernel_h = 5, .kernel_w = 5, .padding = Padding::same}, q_wide, 15, true>;
using int4_dilated = Case<7, 7, 4, 7, 7, 1,
                          DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .dilation_h = 2, .dilation_w = 2, .padding = Padding::same}, q_wide, 16,
                          true>;
using int4_kws_like = Case<6, 5, 12, 6, 5, 1, DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same}, q_wide, 17, true>;
using int4_long = Case<6, 5, 7, 6, 5, 1, DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same}, q_long, 18, true>;
static_assert(int4_kws_like::layer::use_quad_stages && !int4_long::layer::short_stage && int4_long::layer::packed_int4);

// Every case, in order: for_each_case(f) calls f.template operator()<Case>() for each.
inline constexpr edge_harness::CaseList<odd6, stride2_odd, stride2_even, valid12, kernel5, rect, dilated, multiplier2, kws_like, int4_odd6,
                                        int4_stride2, int4_valid12, int4_rect, int4_kernel5, int4_dilated, int4_kws_like, int4_long>
    for_each_case{};

}  // namespace dw_edges
