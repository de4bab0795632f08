// Add and Sub (int8, same shape) edge cases for the DSP cores' loop (layers/elementwise/arithmetic.hpp,
// the short form of TFLM's three scalings): zero points at -128 and 127 on inputs and output,
// outputs that saturate at both ends, a fused ReLU6 that clamps inside the int8 range, the
// larger-scale input first or second (its multiplier 0.5 exactly), equal scales, and element
// counts that are odd or not a multiple of four. Each input holds every int8 value at least once
// (a permutation, repeated), so every pair below exercises both saturations and both zero points.
// Used by the host unit tests (test_elementwise_edges.cpp: the short form against TFLM's formula on
// every pair of inputs) and by the device image (tests/cortex-m/device_tests.cpp: invoke(), with
// SMMLAR and SSAT, against constant evaluation, which uses TFLM's formula).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <tinynet/tinynet.hpp>

#include "edge_harness.hpp"

namespace elementwise_edges {

// Count values covering every int8 value (a stride-coprime walk), offset by Seed.
template <std::size_t Count>
constexpr std::array<std::int8_t, Count> all_values(unsigned seed) {
  std::array<std::int8_t, Count> x{};
  for (std::size_t i = 0; i < Count; ++i) x[i] = static_cast<std::int8_t>(static_cast<int>((i * 77 + seed) % 256) - 128);
  return x;
}

inline constexpr tinynet::Quant q_low{0.05f, -128};
inline constexpr tinynet::Quant q_high{0.031f, 127};
inline constexpr tinynet::Quant q_mid{0.013f, -3};
inline constexpr tinynet::Quant q_same{0.05f, 10};
inline constexpr tinynet::Quant q_out_low{0.02f, -128};  // saturates at both ends
inline constexpr tinynet::Quant q_out_high{0.03f, 127};
inline constexpr tinynet::Quant q_out_fine{0.004f, 0};  // a tiny output scale: large output multiplier

template <class Layer, int Count, const tinynet::Quant& Q1, const tinynet::Quant& Q2, const tinynet::Quant& QOut,
          tinynet::Activation Act, unsigned Seed>
struct Case {
  struct a : tinynet::Tensor<std::int8_t, tinynet::Shape<1, Count>, Q1> {};
  struct b : tinynet::Tensor<std::int8_t, tinynet::Shape<1, Count>, Q2> {};
  struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, Count>, QOut> {};
  using layer = typename Layer::template apply<a, b, out, tinynet::ArithmeticOptions{Act}>;
  using network = tinynet::Network<tinynet::Inputs<a, b>, tinynet::Outputs<out>, layer>;
  static constexpr auto input1 = all_values<static_cast<std::size_t>(Count)>(Seed);
  static constexpr auto input2 = all_values<static_cast<std::size_t>(Count)>(Seed * 31 + 5);
  static constexpr auto expected = network::evaluate(input1, input2);
};

struct add {
  template <class A, class B, class O, tinynet::ArithmeticOptions Options>
  using apply = tinynet::Add<A, B, O, Options>;
};
struct sub {
  template <class A, class B, class O, tinynet::ArithmeticOptions Options>
  using apply = tinynet::Sub<A, B, O, Options>;
};

using tinynet::Activation;
using add_low_high = Case<add, 259, q_low, q_high, q_out_low, Activation::none, 1>;   // odd, 259 % 4 == 3
using add_high_low = Case<add, 258, q_high, q_low, q_out_high, Activation::none, 2>;  // 258 % 4 == 2
using add_relu6 = Case<add, 257, q_mid, q_low, q_out_fine, Activation::relu6, 3>;     // 257 % 4 == 1
using add_same_scale = Case<add, 256, q_same, q_same, q_out_low, Activation::relu, 4>;
using sub_low_high = Case<sub, 261, q_low, q_high, q_out_low, Activation::none, 5>;
using sub_mid_high = Case<sub, 263, q_mid, q_high, q_out_high, Activation::relu, 6>;

// Every case, in order: for_each_case(f) calls f.template operator()<Case>() for each.
inline constexpr edge_harness::CaseList<add_low_high, add_high_low, add_relu6, add_same_scale, sub_low_high, sub_mid_high> for_each_case{};

}  // namespace elementwise_edges
