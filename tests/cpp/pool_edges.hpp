// AveragePool2D int8 edge cases for the DSP cores' loop (layers/pool/pool2d.hpp: four channels
// per word summed with SXTB16/SADD16 in 16-bit lanes, then TFLM's rounding division): a whole
// plane (resnet's final pool, smaller), the largest window the 16-bit sums allow (256 taps) on
// inputs all -128 (the sum -32768 exactly) and all 127, SAME padding with stride 2 (windows cut
// at the borders: tap counts 4, 6 and 9), a fused ReLU6 clamping inside the int8 range, and
// channel counts that are not a multiple of four. Each case is one layer in a network of its own.
// Used by the host unit tests (test_pool_edges.cpp) and by the device image
// (tests/cortex-m/device_tests.cpp): invoke() must give the bytes constant evaluation gives
// (the portable loop, checked against TFLM by the conformance tests).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <tinynet/tinynet.hpp>

#include "edge_harness.hpp"
#include "in_place_network.hpp"

namespace pool_edges {

inline constexpr tinynet::Quant q{0.05f, -3};
inline constexpr tinynet::Quant q_relu6{0.03f, -100};  // ReLU6 clamps at -100 and at 100

template <int H, int W, int C, int OH, int OW, tinynet::Pool2DOptions Options, const tinynet::Quant& Q, int Fill, std::uint32_t Seed>
struct Case {
  struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, H, W, C>, Q> {};
  struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, OH, OW, C>, Q> {};
  using layer = tinynet::AveragePool2D<in, out, Options>;
  using network = tinynet::Network<tinynet::Inputs<in>, tinynet::Outputs<out>, layer>;
  // Fill 0: pseudo-random bytes; otherwise every byte is Fill.
  static constexpr auto input = [] {
    auto x = in_place_net::pseudo_random<static_cast<std::size_t>(H * W * C)>(Seed);
    if (Fill != 0)
      for (auto& v : x) v = static_cast<std::int8_t>(Fill);
    return x;
  }();
  static constexpr auto expected = network::evaluate(input);
};

using tinynet::Activation;
using tinynet::Padding;
using tinynet::Pool2DOptions;
// A whole 6x5 plane, 13 channels (three words and one left over).
using plane = Case<6, 5, 13, 1, 1, Pool2DOptions{.filter_h = 6, .filter_w = 5, .stride_h = 6, .stride_w = 5}, q, 0, 21>;
// 256 taps, the sums at their ends.
using low_256 = Case<16, 16, 5, 1, 1, Pool2DOptions{.filter_h = 16, .filter_w = 16, .stride_h = 16, .stride_w = 16}, q, -128, 22>;
using high_256 = Case<16, 16, 4, 1, 1, Pool2DOptions{.filter_h = 16, .filter_w = 16, .stride_h = 16, .stride_w = 16}, q, 127, 23>;
// 3x3 SAME, stride 2 on 7x7: border windows of 4 and 6 taps; 6 channels.
using same3 = Case<7, 7, 6, 4, 4,
                   Pool2DOptions{.filter_h = 3, .filter_w = 3, .stride_h = 2, .stride_w = 2, .padding = Padding::same,
                                 .activation = Activation::relu6},
                   q_relu6, 0, 24>;
// 2x2 VALID stride 2 on 8 channels with an odd row left out.
using valid2 = Case<5, 6, 8, 2, 3, Pool2DOptions{.filter_h = 2, .filter_w = 2, .stride_h = 2, .stride_w = 2}, q, 0, 25>;

// Every case, in order: for_each_case(f) calls f.template operator()<Case>() for each.
inline constexpr edge_harness::CaseList<plane, low_256, high_256, same3, valid2> for_each_case{};

}  // namespace pool_edges
