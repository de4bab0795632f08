// 4-bit weights (core/int4.hpp): the nibbles read as TFLite/TFLM read them, and a FullyConnected
// over packed int4 weights gives the bytes of the same layer over the weights unpacked to int8.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

namespace int4_test {

// Written by hand: low nibble first; 0x8 is -8, 0xF is -1, 0x7 is 7.
inline constexpr std::uint8_t bytes[4] = {0x87, 0xF0, 0x7F, 0x18};
inline constexpr std::array<i8, 8> values = unpack_int4<8>(bytes);
static_assert(values == std::array<i8, 8>{7, -8, 0, -1, -1, 7, -8, 1});
inline constexpr auto packed = packed_int4<8>(bytes);
static_assert(packed[0] == 7 && packed[1] == -8 && packed[3] == -1 && packed[5] == 7 && packed[7] == 1);
static_assert(sizeof(packed) == 4);
// An odd count: the last byte's high nibble is not a value.
inline constexpr std::uint8_t odd_bytes[2] = {0x9A, 0x06};
static_assert(unpack_int4<3>(odd_bytes) == std::array<i8, 3>{-6, -7, 6});

// Packed bytes of Count pseudo-random nibbles.
template <int Count>
constexpr auto random_bytes(std::uint32_t seed) {
  std::array<std::uint8_t, (Count + 1) / 2> b{};
  for (auto& v : b) {
    seed = seed * 1664525u + 1013904223u;
    v = static_cast<std::uint8_t>(seed >> 20);
  }
  return b;
}

// The int8 values of packed int4 weights, read through PackedInt4's operator[].
template <const auto& Packed, int Count>
constexpr std::array<i8, Count> unpacked() {
  std::array<i8, Count> w{};
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = Packed[i];
  return w;
}

// Biases (o * step) % (2 * half + 1) - half: spread over [-half, half].
template <int Count>
constexpr std::array<std::int32_t, Count> spread_bias(int step, int half) {
  std::array<std::int32_t, Count> b{};
  for (int o = 0; o < Count; ++o) b[static_cast<std::size_t>(o)] = (o * step) % (2 * half + 1) - half;
  return b;
}

// Per-channel scales 0.02 * (1 + o % period).
template <int Count>
constexpr std::array<float, Count> cycling_scales(int period) {
  std::array<float, Count> s{};
  for (int o = 0; o < Count; ++o) s[static_cast<std::size_t>(o)] = 0.02f * static_cast<float>(1 + o % period);
  return s;
}

template <int Count>
constexpr std::array<i8, Count> input_values(std::uint32_t seed) {
  std::array<i8, Count> x{};
  for (auto& v : x) {
    seed = seed * 1103515245u + 12345u;
    v = static_cast<i8>(seed >> 16);
  }
  return x;
}

// A layer's output on x.
template <class Layer, class Input>
constexpr std::array<i8, Layer::output::size> run_layer(const Input& x) {
  std::array<i8, Layer::output::size> y{};
  Layer::run(x.data(), y.data());
  return y;
}

// The packed layer gives the int8 layer's bytes, at run time and in constant evaluation; half the
// weight bytes (rounded up), the same folded bias and multipliers; at least min_distinct outputs
// differ from the first (the case is not degenerate).
template <class C>
void check_packed_against_int8(int min_distinct) {
  static_assert(C::packed_layer::packed_int4 && !C::int8_layer::packed_int4);
  static_assert(C::packed_layer::sparse_form == SparseForm::dense);
  static_assert(C::int8_layer::weight_bytes - C::packed_layer::weight_bytes == sizeof(C::int8_weights) - sizeof(C::raw));
  constexpr auto at_compile_time = run_layer<typename C::packed_layer>(C::input);
  const auto packed = run_layer<typename C::packed_layer>(C::input);
  const auto unpacked = run_layer<typename C::int8_layer>(C::input);
  CHECK(packed == unpacked);
  CHECK(at_compile_time == unpacked);
  int distinct = 0;
  for (std::size_t i = 1; i < unpacked.size(); ++i) distinct += unpacked[i] != unpacked[0];
  INFO("first output " << int(unpacked[0]));
  CHECK(distinct >= min_distinct);
}

template <int Units, int Depth, int Batches, int InputZeroPoint>
struct Case {
  static constexpr auto raw = random_bytes<Units * Depth>(Units * 131u + Depth);
  static constexpr PackedInt4<Units * Depth> packed_weights{raw};
  static constexpr auto int8_weights = unpacked<packed_weights, Units * Depth>();
  static constexpr auto bias = spread_bias<Units>(977, 1000);
  static constexpr auto scales = cycling_scales<Units>(3);
  static constexpr Quant in_q{0.05f, InputZeroPoint};
  static constexpr Quant out_q{0.05f * 0.02f * (16.0f + Depth / 5.0f), 3};  // outputs spread over int8
  struct in : Tensor<i8, Shape<Batches, Depth>, in_q> {};
  struct out : Tensor<i8, Shape<Batches, Units>, out_q> {};
  using packed_layer = FullyConnected<in, out, packed_weights, bias, scales, FullyConnectedOptions{Activation::relu}>;
  using int8_layer = FullyConnected<in, out, int8_weights, bias, scales, FullyConnectedOptions{Activation::relu}>;
  static constexpr auto input = input_values<Batches * Depth>(77u + Depth);
};

}  // namespace int4_test

TEST_CASE("int4: a packed FullyConnected gives the bytes of the int8 layer with the unpacked weights") {
  using namespace int4_test;
  check_packed_against_int8<Case<5, 16, 1, -3>>(1);   // odd units, two groups of eight
  check_packed_against_int8<Case<4, 12, 2, 5>>(1);    // a tail of four after one group, two batches
  check_packed_against_int8<Case<6, 640, 1, 7>>(1);   // blocks of 512 and 128 (ad01's first depth)
  check_packed_against_int8<Case<3, 2, 1, -128>>(1);  // no full group
}

namespace int4_test {
// A Conv2D over packed int4 weights against the same layer over the weights unpacked to int8:
// SAME padding (border taps read the zero point), stride 2, an odd channel count, and a filter
// size (3 * 3 * 6 = 54) with a tail after six groups of eight.
template <int OutC, int InC, int K, int Stride>
struct ConvCase {
  static constexpr int count = OutC * K * K * InC;
  static constexpr auto raw = random_bytes<count>(OutC * 17u + InC);
  static constexpr PackedInt4<count> packed_weights{raw};
  static constexpr auto int8_weights = unpacked<packed_weights, count>();
  static constexpr auto bias = spread_bias<OutC>(613, 750);
  static constexpr auto scales = cycling_scales<OutC>(4);
  static constexpr Quant in_q{0.05f, -9};
  static constexpr Quant out_q{0.05f * 0.02f * (16.0f + K * K * InC / 5.0f), 4};
  static constexpr int size = 7, out_size = (size + Stride - 1) / Stride;
  struct in : Tensor<i8, Shape<1, size, size, InC>, in_q> {};
  struct out : Tensor<i8, Shape<1, out_size, out_size, OutC>, out_q> {};
  static constexpr Conv2DOptions options{.kernel_h = K, .kernel_w = K, .stride_h = Stride, .stride_w = Stride,
                                         .padding = Padding::same, .activation = Activation::relu6};
  using packed_layer = Conv2D<in, out, packed_weights, bias, scales, options>;
  using int8_layer = Conv2D<in, out, int8_weights, bias, scales, options>;
  static constexpr auto input = input_values<size * size * InC>(5u + InC);
};
}  // namespace int4_test

TEST_CASE("int4: a packed Conv2D gives the bytes of the int8 layer with the unpacked weights") {
  using namespace int4_test;
  check_packed_against_int8<ConvCase<5, 6, 3, 2>>(3);   // 54 per channel: six groups and a tail of six
  check_packed_against_int8<ConvCase<4, 16, 1, 1>>(3);  // pointwise, two groups of eight
}

namespace int4_test {
// A DepthwiseConv2D over packed int4 weights against the same layer over the weights unpacked to
// int8: SAME padding (border taps read the zero point), a kernel with an odd number of taps (the
// last word's second tap empty) or an even one, channels not a multiple of four (a left-over
// channel read nibble by nibble on DSP cores), stride 2, and a depth multiplier (the generic loop).
template <int InC, int Multiplier, int KH, int KW, int Stride>
struct DepthwiseCase {
  static constexpr int out_c = InC * Multiplier, count = KH * KW * out_c;
  static constexpr auto raw = random_bytes<count>(out_c * 29u + KH * 7u + KW);
  static constexpr PackedInt4<count> packed_weights{raw};
  static constexpr auto int8_weights = [] {
    std::array<i8, count> w{};
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = packed_weights[i];
    return w;
  }();
  static constexpr auto bias = [] {
    std::array<std::int32_t, out_c> b{};
    for (int o = 0; o < out_c; ++o) b[static_cast<std::size_t>(o)] = (o * 421) % 801 - 400;
    return b;
  }();
  static constexpr auto scales = [] {
    std::array<float, out_c> s{};
    for (int o = 0; o < out_c; ++o) s[static_cast<std::size_t>(o)] = 0.02f * static_cast<float>(1 + o % 3);
    return s;
  }();
  static constexpr Quant in_q{0.05f, 11};
  static constexpr Quant out_q{0.05f * 0.02f * (8.0f + KH * KW / 2.0f), -5};
  static constexpr int h = 6, w = 5, out_h = (h + Stride - 1) / Stride, out_w = (w + Stride - 1) / Stride;
  struct in : Tensor<i8, Shape<1, h, w, InC>, in_q> {};
  struct out : Tensor<i8, Shape<1, out_h, out_w, out_c>, out_q> {};
  static constexpr DepthwiseConv2DOptions options{.kernel_h = KH, .kernel_w = KW, .stride_h = Stride, .stride_w = Stride,
                                                  .depth_multiplier = Multiplier, .padding = Padding::same,
                                                  .activation = Activation::relu6, .sparse_form = SparseForm::dense};
  using packed_layer = DepthwiseConv2D<in, out, packed_weights, bias, scales, options>;
  using int8_layer = DepthwiseConv2D<in, out, int8_weights, bias, scales, options>;
  static constexpr auto input = [] {
    std::array<i8, h * w * InC> x{};
    std::uint32_t s = 9u + InC;
    for (auto& v : x) {
      s = s * 1103515245u + 12345u;
      v = static_cast<i8>(s >> 16);
    }
    return x;
  }();
  template <class Layer>
  static constexpr std::array<i8, out_h * out_w * out_c> run() {
    std::array<i8, out_h * out_w * out_c> y{};
    Layer::run(input.data(), y.data());
    return y;
  }
};

template <class C>
void check_depthwise() {
  static_assert(C::packed_layer::packed_int4 && !C::int8_layer::packed_int4);
  static_assert(C::int8_layer::weight_bytes - C::packed_layer::weight_bytes == sizeof(C::int8_weights) - sizeof(C::raw));
  constexpr auto at_compile_time = C::template run<typename C::packed_layer>();
  const auto packed = C::template run<typename C::packed_layer>();
  const auto unpacked = C::template run<typename C::int8_layer>();
  CHECK(packed == unpacked);
  CHECK(at_compile_time == unpacked);
  int distinct = 0;
  for (std::size_t i = 1; i < unpacked.size(); ++i) distinct += unpacked[i] != unpacked[0];
  CHECK(distinct > 4);
}

// The word layout of kernels/int4_dot.hpp, written by hand for one quad of channels and 3 taps:
// weight (t, c) = t * 4 + c - 6 (-6 .. 5), nibble k of word p at bits 4k.
inline constexpr std::uint8_t ramp[6] = {0xBA, 0xDC, 0xFE, 0x10, 0x32, 0x54};   // TFLite's bytes of -6 .. 5
inline constexpr auto ramp_weights = packed_int4<12>(ramp);
inline constexpr auto ramp_words = kernels::depthwise_int4_words<ramp_weights, 3, 4>();
// Word 0: taps 0 and 1; bits 12-15 w(0,0) = -6 (0xA), 28-31 w(0,2) = -4 (0xC), 8-11 w(0,1) = -5
// (0xB), 24-27 w(0,3) = -3 (0xD), 4-7 w(1,0) = -2 (0xE), 20-23 w(1,2) = 0, 0-3 w(1,1) = -1 (0xF),
// 16-19 w(1,3) = 1. Word 1: tap 2 (2, 4, 3, 5) and an empty tap 3.
static_assert(ramp_words.size() == 2 && ramp_words[0] == 0xCD01ABEFu && ramp_words[1] == 0x45002300u);
}  // namespace int4_test

TEST_CASE("int4: a packed DepthwiseConv2D gives the bytes of the int8 layer with the unpacked weights") {
  int4_test::check_depthwise<int4_test::DepthwiseCase<8, 1, 3, 3, 1>>();   // 3x3: four words of two taps, one of one
  int4_test::check_depthwise<int4_test::DepthwiseCase<6, 1, 2, 2, 2>>();   // even taps, stride 2, two channels left over
  int4_test::check_depthwise<int4_test::DepthwiseCase<3, 2, 3, 3, 1>>();   // depth multiplier 2: the generic loop
}

namespace int4_test {
// The folded bias is stored in the narrowest type that holds every channel (core/channel_plan.hpp):
// int16 when all fit, as in most 4-bit layers, int32 when one does not; the values are the same.
inline constexpr std::int32_t small_bias[2] = {32767 - 3 * 2 * 7, -32768 + 3 * 2 * 8};   // fits once folded
inline constexpr std::int32_t large_bias[2] = {32767 - 3 * 2 * 7 + 1, -32768 + 3 * 2 * 8};   // one over
inline constexpr std::array<i8, 4> two_by_two{7, 7, -8, -8};   // weight sums 14 and -16
inline constexpr float two_scales[2] = {0.01f, 0.01f};
inline constexpr Quant bias_in_q{0.05f, -3}, bias_out_q{1.0f, 0};
struct bias_in : Tensor<i8, Shape<1, 2>, bias_in_q> {};
struct bias_out : Tensor<i8, Shape<1, 2>, bias_out_q> {};
using small_layer = FullyConnected<bias_in, bias_out, two_by_two, small_bias, two_scales>;
using large_layer = FullyConnected<bias_in, bias_out, two_by_two, large_bias, two_scales>;
static_assert(small_layer::folded_bias[0] == 32767 && small_layer::folded_bias[1] == -32768);
static_assert(std::is_same_v<small_layer::folded_bias_element, std::int16_t>);
static_assert(large_layer::folded_bias[0] == 32768 && std::is_same_v<large_layer::folded_bias_element, std::int32_t>);
static_assert(large_layer::weight_bytes - small_layer::weight_bytes == 2 * 2);
}  // namespace int4_test
