// Runs on the Cortex-M CPU under QEMU. Each network is evaluated twice: by the host compiler
// (constexpr evaluate(), folded into the image as constants) and by the device (invoke() in the
// planned arena). The bytes must agree: the same network gives the same output on host and target.
// Also checks the harness: semihosting, and the instruction count of a known loop.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <tinynet/tinynet.hpp>

#include "../cpp/depthwise_edges.hpp"
#include "../cpp/edge_harness.hpp"
#include "../cpp/few_channels_edges.hpp"
#include "../cpp/elementwise_edges.hpp"
#include "../cpp/pool_edges.hpp"
#include "../cpp/in_place_network.hpp"
#include "../cpp/nm_weights.hpp"
#include "cycles.hpp"
#include "semihost.hpp"

namespace device {
inline constexpr tinynet::Quant q{0.05f, -3};
inline constexpr tinynet::Quant softmax_q{1.0f / 256, -128};
struct image : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8, 8, 2>, q> {};
struct conv_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 4>, q> {};
struct dw_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 4>, q> {};
struct sum : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 4>, q> {};
struct pooled : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 1, 1, 4>, q> {};
struct flat : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4>, q> {};
struct logits : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 3>, q> {};
struct probabilities : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 3>, softmax_q> {};
inline constexpr std::int8_t conv_w[4 * 3 * 3 * 2] = {1, -2, 3, -4, 5, -6, 7, -8, 9, 10, -11, 12, 13, -14, 15, 16, -17, 18,
                                                     -19, 20, 21, -22, 23, 24, -25, 26, 27, -28, 29, 30, -31, 32, 33, 34, -35, 36,
                                                     37, -38, 39, 40, -41, 42, 43, -44, 45, 46, -47, 48, 49, -50, 51, 52, -53, 54,
                                                     -55, 56, 57, -58, 59, 60, -61, 62, 63, -64, 65, 66, -67, 68, 69, -70, 71, 72};
inline constexpr std::int32_t bias4[4] = {10, -20, 30, -40};
inline constexpr float scales4[4] = {0.01f, 0.02f, 0.03f, 0.04f};
inline constexpr std::int8_t dw_w[3 * 3 * 4] = {2, -1, 3, 4, -5, 6, 7, -8, 9, 10, -11, 12, 13, -14, 15, 16, -17, 18,
                                              19, -20, 21, 22, -23, 24, 25, -26, 27, 28, -29, 30, 31, -32, 33, 34, -35, 36};
inline constexpr std::int8_t fc_w[3 * 4] = {5, 6, -7, 8, 90, -100, 110, -120, 13, 14, 15, 16};
inline constexpr std::int32_t bias3[3] = {1, 2, 3};
inline constexpr float scale1[1] = {0.02f};
using network = tinynet::Network<
    tinynet::Inputs<image>, tinynet::Outputs<logits, probabilities>,
    tinynet::Conv2D<image, conv_out, conv_w, bias4, scales4,
                    tinynet::Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
                                           .padding = tinynet::Padding::same, .activation = tinynet::Activation::relu}>,
    tinynet::DepthwiseConv2D<conv_out, dw_out, dw_w, bias4, scales4,
                             tinynet::DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same}>,
    tinynet::Add<conv_out, dw_out, sum, tinynet::ArithmeticOptions{tinynet::Activation::relu6}>,
    tinynet::AveragePool2D<sum, pooled, tinynet::Pool2DOptions{.filter_h = 4, .filter_w = 4, .stride_h = 4, .stride_w = 4}>,
    tinynet::Reshape<pooled, flat>, tinynet::FullyConnected<flat, logits, fc_w, bias3, scale1>,
    tinynet::Softmax<logits, probabilities>>;

constexpr std::array<std::int8_t, 128> test_image = [] {
  std::array<std::int8_t, 128> x{};
  std::uint32_t state = 2024;
  for (auto& v : x) {
    state = state * 1103515245u + 12345u;
    v = static_cast<std::int8_t>((state >> 16) & 0xFF);
  }
  return x;
}();
// Computed by the host compiler.
constexpr auto expected = network::evaluate(test_image);

// A float network, too: the FPU path (or soft float on M0+/M3).
inline constexpr float w1[] = {0.5f, -1.0f, 1.0f, 1.0f, -0.5f, 0.25f, 2.0f, 0.0f};
inline constexpr float b1[] = {0.0f, 0.5f, 1.0f, -1.0f};
inline constexpr float w2[] = {1.0f, -1.0f, 0.5f, 0.25f};
inline constexpr float b2[] = {0.5f};
using mlp = tinynet::Sequential<tinynet::seq::Input<float, tinynet::Shape<1, 2>>,
                                tinynet::seq::Dense<w1, b1, tinynet::Activation::relu>, tinynet::seq::Dense<w2, b2>>;
constexpr auto expected_mlp = mlp::evaluate({2.0f, 1.0f});

// int4 weights kept packed (core/int4.hpp): the device's SXTB16 kernel (kernels/int4_dot.hpp) gives
// the host compiler's bytes and those of the same layer over the weights unpacked to int8. Depth 76:
// nine groups of eight nibbles and a tail of four; five units: two pairs and one alone.
inline constexpr auto int4_bytes = [] {
  std::array<std::uint8_t, 5 * 76 / 2> b{};
  std::uint32_t state = 4;
  for (auto& v : b) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<std::uint8_t>(state >> 20);
  }
  b[0] = 0x87;  // 7 and -8
  b[1] = 0xF8;  // -8 and -1
  return b;
}();
// TFLite's bytes, as a generated header's packed_int4() takes them (it flips the sign bits).
inline constexpr tinynet::PackedInt4<5 * 76> fc4_packed = [] {
  tinynet::PackedInt4<5 * 76> w{};
  for (std::size_t i = 0; i < w.packed.size(); ++i) w.packed[i] = int4_bytes[i] ^ tinynet::int4_offset_flip;
  return w;
}();
static_assert(fc4_packed[0] == 7 && fc4_packed[1] == -8 && fc4_packed[2] == -8 && fc4_packed[3] == -1);
inline constexpr auto fc4_int8 = [] {
  std::array<std::int8_t, 5 * 76> w{};
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = fc4_packed[i];
  return w;
}();
inline constexpr std::int32_t bias5[5] = {300, -200, 100, 0, -700};
inline constexpr float scales5[5] = {0.02f, 0.03f, 0.02f, 0.04f, 0.01f};
inline constexpr tinynet::Quant fc4_out_q{0.05f * 0.02f * 30.0f, 2};
struct fc4_in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 76>, q> {};
struct fc4_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 5>, fc4_out_q> {};
using fc4_packed_net = tinynet::Network<tinynet::Inputs<fc4_in>, tinynet::Outputs<fc4_out>,
                                        tinynet::FullyConnected<fc4_in, fc4_out, fc4_packed, bias5, scales5>>;
using fc4_int8_net = tinynet::Network<tinynet::Inputs<fc4_in>, tinynet::Outputs<fc4_out>,
                                      tinynet::FullyConnected<fc4_in, fc4_out, fc4_int8, bias5, scales5>>;
constexpr std::array<std::int8_t, 76> fc4_input = [] {
  std::array<std::int8_t, 76> x{};
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = test_image[i + 7];
  return x;
}();
constexpr auto expected_fc4 = fc4_packed_net::evaluate(fc4_input);
// The same for Conv2D (dot_2x2_int4): the 8x8x2 image, 3x3 filters of 2 channels (18 per filter:
// two groups of eight and a tail of two), stride 2, SAME padding, five channels. Weights: the
// first 5 * 18 of the FullyConnected's.
inline constexpr tinynet::PackedInt4<5 * 18> conv4_packed = [] {
  tinynet::PackedInt4<5 * 18> w{};
  for (std::size_t i = 0; i < w.packed.size(); ++i) w.packed[i] = fc4_packed.packed[i];
  return w;
}();
inline constexpr auto conv4_int8 = [] {
  std::array<std::int8_t, 5 * 18> w{};
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = conv4_packed[i];
  return w;
}();
inline constexpr tinynet::Quant conv4_out_q{0.05f * 0.02f * 8.0f, -6};
struct conv4_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 5>, conv4_out_q> {};
inline constexpr tinynet::Conv2DOptions conv4_options{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
                                                      .padding = tinynet::Padding::same};
using conv4_packed_net = tinynet::Network<tinynet::Inputs<image>, tinynet::Outputs<conv4_out>,
                                          tinynet::Conv2D<image, conv4_out, conv4_packed, bias5, scales5, conv4_options>>;
using conv4_int8_net = tinynet::Network<tinynet::Inputs<image>, tinynet::Outputs<conv4_out>,
                                        tinynet::Conv2D<image, conv4_out, conv4_int8, bias5, scales5, conv4_options>>;
constexpr auto expected_conv4 = conv4_packed_net::evaluate(test_image);
// The same with six channels: the shared channel sweep (kernels::arm_dsp::int4_channel_sweep) over
// filters with a tail of two values after their groups of eight, and border pixels in the padding.
struct Conv4Even {
  static constexpr tinynet::PackedInt4<6 * 18> weights = [] {
    tinynet::PackedInt4<6 * 18> w{};
    for (std::size_t i = 0; i < w.packed.size(); ++i) w.packed[i] = fc4_packed.packed[i + 3];
    return w;
  }();
  static constexpr std::int32_t bias[6] = {300, -200, 100, 0, -700, 450};
  static constexpr float scales[6] = {0.02f, 0.03f, 0.02f, 0.04f, 0.01f, 0.025f};
  struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 6>, conv4_out_q> {};
  using network = tinynet::Network<tinynet::Inputs<image>, tinynet::Outputs<out>,
                                   tinynet::Conv2D<image, out, weights, bias, scales, conv4_options>>;
  static constexpr auto input = test_image;
  static constexpr auto expected = network::evaluate(test_image);
};
// Pointwise packed int4 Conv2D layers (dot_2x3_int4 on DSP cores: pixels three at a time): 2x4
// pixels (two triples and a pair left over), five output channels (two pairs and an odd one). 24
// input channels: three groups of eight (one pass of two, one group after the loop; an odd group
// count for the patch offset's two-group loop); 64: eight groups (two passes of four, as kws's
// pointwise layers). Each patch is widened straight from the image. Weights: the first 5 * C of
// the FullyConnected's. With an even number of output channels (OutC = 6) the layer sweeps its
// channels in the shared kernels::arm_dsp::int4_channel_sweep instead: 2x4 pixels (triples and
// a pair), 2x5 (triples and one pixel alone). Weights then repeat the FullyConnected's.
template <int C, int OutC = 5, int W = 4>
struct PointwiseInt4 {
  static constexpr tinynet::PackedInt4<OutC * C> weights = [] {
    tinynet::PackedInt4<OutC * C> w{};
    for (std::size_t i = 0; i < w.packed.size(); ++i) w.packed[i] = fc4_packed.packed[i % fc4_packed.packed.size()];
    return w;
  }();
  static constexpr std::array<std::int32_t, OutC> bias = [] {
    std::array<std::int32_t, OutC> b{};
    for (int c = 0; c < OutC; ++c) b[static_cast<std::size_t>(c)] = bias5[c % 5] + 37 * (c / 5);
    return b;
  }();
  static constexpr std::array<float, OutC> scales = [] {
    std::array<float, OutC> s{};
    for (int c = 0; c < OutC; ++c) s[static_cast<std::size_t>(c)] = c < 5 ? scales5[c] : 0.025f;
    return s;
  }();
  static constexpr tinynet::Quant out_q{0.05f * 0.02f * 10.0f * (C > 32 ? 2.0f : 1.0f), 7};
  struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, W, C>, q> {};
  struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, W, OutC>, out_q> {};
  using network = tinynet::Network<tinynet::Inputs<in>, tinynet::Outputs<out>,
                                   tinynet::Conv2D<in, out, weights, bias, scales, tinynet::Conv2DOptions{}>>;
  static constexpr std::array<std::int8_t, 2 * W * C> input = [] {
    std::array<std::int8_t, 2 * W * C> x{};
    std::uint32_t state = 77 + C;
    for (auto& v : x) v = static_cast<std::int8_t>((state = state * 1103515245u + 12345u) >> 16);
    x[0] = -128;
    x[1] = 127;
    return x;
  }();
  static constexpr auto expected = network::evaluate(input);
};
using pw4_24 = PointwiseInt4<24>;
using pw4_64 = PointwiseInt4<64>;
using pw4_24_even = PointwiseInt4<24, 6>;
using pw4_64_even = PointwiseInt4<64, 6, 5>;
// Packed int4 layers beyond the DSP kernels' 12-bit offsets, which run each pixel (Conv2D) or each
// row (FullyConnected) on its own there: a 3x3x256 Conv2D (filters of 2304 values; 2x2 pixels, 4
// channels) and a FullyConnected of depth 8184 (4 units). DSP cores only: the other cores' images
// have no room for them and no such limit.
#if TINYNET_ARM_DSP
template <std::size_t N>
constexpr tinynet::PackedInt4<N> noise_int4(std::uint32_t state) {
  tinynet::PackedInt4<N> w{};
  for (auto& b : w.packed) b = static_cast<std::uint8_t>((state = state * 1664525u + 1013904223u) >> 24);
  return w;
}
template <std::size_t N>
constexpr std::array<std::int8_t, N> noise_int8(std::uint32_t state) {
  std::array<std::int8_t, N> x{};
  for (auto& v : x) v = static_cast<std::int8_t>((state = state * 1103515245u + 12345u) >> 16);
  return x;
}
inline constexpr tinynet::Quant far_in_q{0.05f, -3};
struct WideInt4Conv {
  static constexpr auto weights = noise_int4<4 * 3 * 3 * 256>(11);
  static constexpr std::int32_t bias4[4] = {1000, -2000, 300, 0};
  static constexpr float scales4[4] = {0.01f, 0.012f, 0.009f, 0.011f};
  static constexpr tinynet::Quant out_q{0.09f, 4};
  struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 256>, far_in_q> {};
  struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 2, 4>, out_q> {};
  using network = tinynet::Network<tinynet::Inputs<in>, tinynet::Outputs<out>,
                                   tinynet::Conv2D<in, out, weights, bias4, scales4,
                                                   tinynet::Conv2DOptions{.kernel_h = 3, .kernel_w = 3}>>;
  static constexpr auto input = noise_int8<4 * 4 * 256>(5);
  static constexpr auto expected = network::evaluate(input);
};
struct DeepInt4Fc {
  static constexpr auto weights = noise_int4<4 * 8184>(12);
  static constexpr tinynet::Quant out_q{0.17f, -1};
  struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8184>, far_in_q> {};
  struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4>, out_q> {};
  using network = tinynet::Network<tinynet::Inputs<in>, tinynet::Outputs<out>,
                                   tinynet::FullyConnected<in, out, weights, WideInt4Conv::bias4, WideInt4Conv::scales4>>;
  static constexpr auto input = noise_int8<8184>(6);
  static constexpr auto expected = network::evaluate(input);
};
#endif
#if TINYNET_ARM_DSP && defined(__OPTIMIZE__)
template <class Case>
using pw4_layer = tinynet::type_at<0, typename Case::network::op_list>;
static_assert(!pw4_layer<pw4_64>::int4_shared_sweep && pw4_layer<pw4_24_even>::int4_shared_sweep &&
              pw4_layer<pw4_64_even>::int4_shared_sweep && pw4_layer<Conv4Even>::int4_shared_sweep);
#endif
// The same for DepthwiseConv2D (the record kernels' QuadTapsInt4: nibbles masked into halfword
// pairs, two taps per word; more shapes in tests/cpp/depthwise_edges.hpp): a 4x4x6 image (the
// first 96 bytes of the test image), 3x3 SAME, six channels (one quad and two left over, read
// nibble by nibble). Weights: the first 3 * 3 * 6 of the FullyConnected's.
inline constexpr tinynet::PackedInt4<54> dw4_packed = [] {
  tinynet::PackedInt4<54> w{};
  for (std::size_t i = 0; i < w.packed.size(); ++i) w.packed[i] = fc4_packed.packed[i];
  return w;
}();
inline constexpr auto dw4_int8 = [] {
  std::array<std::int8_t, 54> w{};
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = dw4_packed[i];
  return w;
}();
inline constexpr std::int32_t bias6[6] = {300, -200, 100, 0, -700, 50};
inline constexpr float scales6[6] = {0.02f, 0.03f, 0.02f, 0.04f, 0.01f, 0.03f};
inline constexpr tinynet::Quant dw4_out_q{0.05f * 0.02f * 6.0f, 5};
struct dw4_in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 6>, q> {};
struct dw4_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 6>, dw4_out_q> {};
inline constexpr tinynet::DepthwiseConv2DOptions dw4_options{.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same};
using dw4_packed_net = tinynet::Network<tinynet::Inputs<dw4_in>, tinynet::Outputs<dw4_out>,
                                        tinynet::DepthwiseConv2D<dw4_in, dw4_out, dw4_packed, bias6, scales6, dw4_options>>;
using dw4_int8_net = tinynet::Network<tinynet::Inputs<dw4_in>, tinynet::Outputs<dw4_out>,
                                      tinynet::DepthwiseConv2D<dw4_in, dw4_out, dw4_int8, bias6, scales6, dw4_options>>;
constexpr std::array<std::int8_t, 96> dw4_input = [] {
  std::array<std::int8_t, 96> x{};
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = test_image[i];
  return x;
}();
constexpr auto expected_dw4 = dw4_packed_net::evaluate(dw4_input);

// Conv2D's DSP paths at their edges (kernels/arm_dsp/dot.hpp: the 4-channel x 2-pixel block over
// widened rows, rows widened four values at a time): output channels 4 + 2 + 1, depths that are not
// multiples of four (a tail of two, of three), an odd pixel count, a single pixel, 3x3 rows of 9
// values (copied, then widened) and of 12 (widened in place), padding.
template <int H, int W, int C, int Id>
struct edge_tensor : tinynet::Tensor<std::int8_t, tinynet::Shape<1, H, W, C>, q> {};
inline constexpr tinynet::Quant edge_out_q{0.3f, 1};
template <int H, int W, int C>
struct edge_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, H, W, C>, edge_out_q> {};
template <std::size_t N, class T = std::int8_t>
constexpr std::array<T, N> edge_values(std::uint32_t seed, int lo, int span) {
  std::array<T, N> v{};
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<T>(lo + static_cast<int>((seed >> 16) % static_cast<std::uint32_t>(span)));
  }
  return v;
}
inline constexpr auto edge_bias = edge_values<16, std::int32_t>(11, -900, 1800);
inline constexpr float edge_scales[16] = {0.02f, 0.03f, 0.01f, 0.04f, 0.02f, 0.025f, 0.015f, 0.03f,
                                          0.02f, 0.03f, 0.01f, 0.04f, 0.02f, 0.025f, 0.015f, 0.03f};
template <int InH, int InW, int InC, int OutH, int OutW, int OutC, int K, tinynet::Padding Pad, int Id>
struct EdgeConv {
  using in = edge_tensor<InH, InW, InC, Id>;
  using out = edge_out<OutH, OutW, OutC>;
  static constexpr auto weights = edge_values<static_cast<std::size_t>(OutC * K * K * InC)>(100 + Id, -128, 256);
  static constexpr auto bias = [] {
    std::array<std::int32_t, OutC> b{};
    for (int c = 0; c < OutC; ++c) b[static_cast<std::size_t>(c)] = edge_bias[static_cast<std::size_t>(c)];
    return b;
  }();
  static constexpr auto scales = [] {
    std::array<float, OutC> f{};
    for (int c = 0; c < OutC; ++c) f[static_cast<std::size_t>(c)] = edge_scales[c];
    return f;
  }();
  using network = tinynet::Network<tinynet::Inputs<in>, tinynet::Outputs<out>,
                                   tinynet::Conv2D<in, out, weights, bias, scales,
                                                   tinynet::Conv2DOptions{.kernel_h = K, .kernel_w = K, .padding = Pad}>>;
  static constexpr auto input = edge_values<static_cast<std::size_t>(InH * InW * InC)>(7 + Id, -128, 256);
  static constexpr auto expected = network::evaluate(input);
};
using edge_a = EdgeConv<3, 3, 12, 3, 3, 7, 1, tinynet::Padding::valid, 1>;   // 9 pixels, 7 = 4 + 2 + 1 channels
using edge_b = EdgeConv<1, 1, 10, 1, 1, 4, 1, tinynet::Padding::valid, 2>;   // one pixel, depth 10 (tail 2)
using edge_c = EdgeConv<5, 5, 3, 5, 5, 5, 3, tinynet::Padding::same, 3>;     // 3x3x3: rows of 9, tail 3, padding
using edge_d = EdgeConv<6, 6, 4, 4, 4, 8, 3, tinynet::Padding::valid, 4>;    // 3x3x4: rows of 12, two blocks
using edge_e = EdgeConv<4, 5, 16, 4, 5, 16, 1, tinynet::Padding::valid, 5>;  // pointwise 16 -> 16, 20 pixels
// Border pixels whose taps are whole words (input channels a multiple of four: widened tap by tap,
// taps in the padding from a row of zero points, -3 here): 16 of 25 pixels at the border, 4 + 2
// channels (the 4x2 block and the 2x2 after it), an odd pixel count; 3 channels (no 4x2 block).
using edge_f = EdgeConv<5, 5, 8, 5, 5, 6, 3, tinynet::Padding::same, 6>;
using edge_g = EdgeConv<4, 3, 4, 4, 3, 3, 3, tinynet::Padding::same, 7>;

// FullyConnected's DSP paths (kernels/arm_dsp/dot.hpp dot_4rows, rows widened four at a time):
// units 4 + 2 + 1, depths with a tail (9), an odd number of groups (12), one group (4). The loop
// shapes of dot_4rows: two groups per pass and one after (20: five groups; 36 x 30 units: nine,
// at least 1,024 MACs, so the shared widening and the unrolled requantization), four per pass and
// three after plus a tail of one (141 x 9 units: 35 groups). Rows deeper than 256 read their int8
// input in place (no patch): 600 x 6 units (four per pass, then two; 150 groups: two after the
// loop), two rows of 303 x 7 (four units, then three; 75 groups, three after the loop, a tail of
// three), 1,402 x 5 (rows more than 1,333 bytes apart: two row pointers and a register offset;
// four units, then one; 350 groups, two after the loop, a tail of two).
template <int Depth, int Units, int Id, int Batches = 1>
struct EdgeFc {
  struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<Batches, Depth>, q> {};
  struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<Batches, Units>, edge_out_q> {};
  static constexpr auto weights = edge_values<static_cast<std::size_t>(Units * Depth)>(200 + Id, -128, 256);
  static constexpr auto bias = [] {
    std::array<std::int32_t, Units> b{};
    for (int c = 0; c < Units; ++c) b[static_cast<std::size_t>(c)] = edge_bias[static_cast<std::size_t>(c % 16)];
    return b;
  }();
  static constexpr float scale[1] = {Depth > 100 ? 0.004f : 0.02f};
  using network = tinynet::Network<tinynet::Inputs<in>, tinynet::Outputs<out>, tinynet::FullyConnected<in, out, weights, bias, scale>>;
  static constexpr auto input = edge_values<static_cast<std::size_t>(Batches * Depth)>(30 + Id, -128, 256);
  static constexpr auto expected = network::evaluate(input);
};
using fc_a = EdgeFc<9, 7, 1>;
using fc_b = EdgeFc<12, 8, 2>;
using fc_c = EdgeFc<4, 5, 3>;
using fc_d = EdgeFc<600, 6, 4>;
using fc_e = EdgeFc<20, 5, 5>;
using fc_f = EdgeFc<36, 30, 6>;
using fc_g = EdgeFc<141, 9, 7>;
using fc_h = EdgeFc<303, 7, 8, 2>;
using fc_i = EdgeFc<1402, 5, 9>;

// The `nm` sparse form (layers/dense/nm_rows.hpp): weights pruned 2:4 and 1:4 along the input
// channels, run by the device's SMLAD kernel (portable loop on M0+/M3), against the same network
// built dense and evaluated by the host compiler. A 1x1 Conv2D 2:4 over 5x5x20 (25 pixels, four
// per pass: the last alone; 20 channels: five spans of 4, an odd count), a 1x1 Conv2D 1:4 over its
// 48 channels (six spans of 8, up to 16 slots: entries past LDRD's reach), a 3x3 SAME Conv2D 1:4
// over 6 channels (groups of 4 and 2 in one span of 8), a FullyConnected 2:4 over 125 values.
using nm_test::nm_weights;  // tests/cpp/nm_weights.hpp
inline constexpr auto nm_w1 = nm_weights<48 * 20>(20, 2, 4, 11);
inline constexpr auto nm_w15 = nm_weights<6 * 48>(48, 1, 4, 14);
inline constexpr auto nm_w2 = nm_weights<5 * 9 * 6>(6, 1, 4, 12);
inline constexpr auto nm_w3 = nm_weights<5 * 125>(125, 2, 4, 13);
inline constexpr auto bias48 = [] {
  std::array<std::int32_t, 48> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::int32_t>(i * 37 % 200) - 100;
  return b;
}();
inline constexpr auto scales48 = [] {
  std::array<float, 48> s{};
  for (std::size_t i = 0; i < s.size(); ++i) s[i] = 0.01f + 0.005f * static_cast<float>(i % 4);
  return s;
}();
inline constexpr tinynet::Quant nm_q1{0.05f * 0.02f * 20.0f, -5}, nm_q2{0.05f * 0.02f * 12.0f, 3}, nm_q3{0.05f * 0.02f * 40.0f, 1};
struct nm_in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 5, 5, 20>, q> {};
struct nm_h1 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 5, 5, 48>, nm_q1> {};
struct nm_h15 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 5, 5, 6>, nm_q1> {};
struct nm_h2 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 5, 5, 5>, nm_q2> {};
struct nm_flat : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 125>, nm_q2> {};
struct nm_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 5>, nm_q3> {};
template <tinynet::SparseForm Form>
using nm_net = tinynet::Network<
    tinynet::Inputs<nm_in>, tinynet::Outputs<nm_h2, nm_out>,
    tinynet::Conv2D<nm_in, nm_h1, nm_w1, bias48, scales48,
                    tinynet::Conv2DOptions{.activation = tinynet::Activation::relu, .sparse_form = Form}>,
    tinynet::Conv2D<nm_h1, nm_h15, nm_w15, bias6, scales6, tinynet::Conv2DOptions{.sparse_form = Form}>,
    tinynet::Conv2D<nm_h15, nm_h2, nm_w2, bias5, scales5,
                    tinynet::Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same, .sparse_form = Form}>,
    tinynet::Reshape<nm_h2, nm_flat>,
    tinynet::FullyConnected<nm_flat, nm_out, nm_w3, bias5, scales5, tinynet::FullyConnectedOptions{.sparse_form = Form}>>;
static_assert(nm_net<tinynet::SparseForm::nm>::weight_bytes < nm_net<tinynet::SparseForm::dense>::weight_bytes);
// Every layer fits the form (and runs in it: SparseForm::nm); the second's entries need a base past LDRD's reach.
static_assert(tinynet::kernels::NmRows<nm_w1, 48, 1, 20>::pays && tinynet::kernels::NmRows<nm_w1, 48, 1, 20>::inputs_per_pass == 4);
static_assert(tinynet::kernels::NmRows<nm_w15, 6, 1, 48>::inputs_per_pass == 4 && tinynet::kernels::NmRows<nm_w15, 6, 1, 48>::slots > 10);
static_assert(tinynet::kernels::NmRows<nm_w2, 5, 9, 6>::fits && tinynet::kernels::NmRows<nm_w3, 5, 1, 125>::fits);
// N pseudo-random bytes from a linear congruential generator seeded with `seed`: the sparse
// networks' inputs below.
template <std::size_t N>
constexpr std::array<std::int8_t, N> lcg_bytes(std::uint32_t seed) {
  std::array<std::int8_t, N> x{};
  std::uint32_t state = seed;
  for (auto& v : x) v = static_cast<std::int8_t>((state = state * 1103515245u + 12345u) >> 16);
  return x;
}
constexpr auto nm_input = lcg_bytes<500>(99);
constexpr auto expected_nm = nm_net<tinynet::SparseForm::dense>::evaluate(nm_input);
// The same network in `unrolled` (four pixels per pass: 25 pixels leave the last alone; SMLABB and
// SMLATB on paired columns) and `compressed` (two per pass), and an unrolled DepthwiseConv2D: 3x3
// SAME over 5x5x48 pruned 1:4 (interior pixels read in place, border pixels a window copy).
static_assert(nm_net<tinynet::SparseForm::unrolled>::arena_bytes > 0 &&
              tinynet::kernels::SparseRows<nm_w1, 48, 20, tinynet::SparseForm::unrolled>::inputs_per_pass == 4);
inline constexpr auto dws_w = nm_weights<9 * 48>(48, 1, 4, 15);
struct dws_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 5, 5, 48>, nm_q2> {};
template <tinynet::SparseForm Form>
using dws_net = tinynet::Network<
    tinynet::Inputs<nm_h1>, tinynet::Outputs<dws_out>,
    tinynet::DepthwiseConv2D<nm_h1, dws_out, dws_w, bias48, scales48,
                             tinynet::DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same,
                                                             .activation = tinynet::Activation::relu, .sparse_form = Form}>>;
constexpr auto dws_input = lcg_bytes<1200>(7);
constexpr auto expected_dws = dws_net<tinynet::SparseForm::dense>::evaluate(dws_input);
// Two unrolled DepthwiseConv2D layers over 12x6x10 pruned 1:4 along the channels: each runs in
// place over its input, rows through the ring of layers/conv/in_place_rows.hpp (60-byte rows:
// unaligned words in the ring's copies and the border windows' copies), so the arena holds one
// activation where `compressed` (out of place) needs two.
inline constexpr auto dwip_w1 = nm_weights<9 * 10>(10, 1, 4, 16);
inline constexpr auto dwip_w2 = nm_weights<9 * 10>(10, 1, 4, 17);
inline constexpr std::int32_t bias10[10] = {300, -200, 100, 0, -700, 50, 20, -40, 600, -5};
inline constexpr float scales10[10] = {0.02f, 0.03f, 0.02f, 0.04f, 0.01f, 0.03f, 0.02f, 0.025f, 0.015f, 0.02f};
inline constexpr tinynet::Quant dwip_q1{0.003f, 2}, dwip_q2{0.0036f, -4};
struct dwip_in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 12, 6, 10>, q> {};
struct dwip_h : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 12, 6, 10>, dwip_q1> {};
struct dwip_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 12, 6, 10>, dwip_q2> {};
constexpr tinynet::DepthwiseConv2DOptions dwip_options(tinynet::SparseForm form) {
  return {.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same, .activation = tinynet::Activation::relu,
          .sparse_form = form};
}
template <tinynet::SparseForm Form>
using dwip_net = tinynet::Network<tinynet::Inputs<dwip_in>, tinynet::Outputs<dwip_out>,
                                  tinynet::DepthwiseConv2D<dwip_in, dwip_h, dwip_w1, bias10, scales10, dwip_options(Form)>,
                                  tinynet::DepthwiseConv2D<dwip_h, dwip_out, dwip_w2, bias10, scales10, dwip_options(Form)>>;
static_assert(dwip_net<tinynet::SparseForm::unrolled>::arena_bytes == 720 &&
              dwip_net<tinynet::SparseForm::compressed>::arena_bytes == 1440);
constexpr auto dwip_input = lcg_bytes<720>(5);
constexpr auto expected_dwip = dwip_net<tinynet::SparseForm::dense>::evaluate(dwip_input);
// A Conv2D whose receptive field passes 512 columns (3x3 SAME over 3x3x64: 576), so that a pass of
// `compressed` takes two pixels (SparseRows::inputs_per_pass), and whose 9 pixels leave the last
// pass one real pixel: its outputs go through Conv2D::run_sparse's tail buffer. On ARMv6-M, whose
// pass_stack_bytes is 2048 (core/target.hpp: the micro:bit's stack is 4 KB), two pixels' columns
// (2,304 bytes) do not fit and a pass takes one pixel.
inline constexpr auto wide_w = nm_weights<5 * 9 * 64>(64, 1, 4, 18);
inline constexpr tinynet::Quant wide_q{1.5f, 2};  // sums of about 144 products of int8 values
struct wide_in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 3, 3, 64>, q> {};
struct wide_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 3, 3, 5>, wide_q> {};
template <tinynet::SparseForm Form>
using wide_net = tinynet::Network<
    tinynet::Inputs<wide_in>, tinynet::Outputs<wide_out>,
    tinynet::Conv2D<wide_in, wide_out, wide_w, bias5, scales5,
                    tinynet::Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same, .sparse_form = Form}>>;
#if defined(__ARM_ARCH_6M__)
static_assert(tinynet::kernels::SparseRows<wide_w, 5, 576, tinynet::SparseForm::compressed>::inputs_per_pass == 1);
#else
static_assert(tinynet::kernels::SparseRows<wide_w, 5, 576, tinynet::SparseForm::compressed>::inputs_per_pass == 2);
#endif
constexpr auto wide_input = lcg_bytes<576>(3);
constexpr auto expected_wide = wide_net<tinynet::SparseForm::dense>::evaluate(wide_input);
}  // namespace device

static tinynet::Instance<device::network> instance;
static tinynet::Instance<device::mlp> mlp_instance;
static tinynet::Instance<device::fc4_int8_net> fc4_int8_instance;
static tinynet::Instance<device::conv4_int8_net> conv4_int8_instance;
static tinynet::Instance<device::dw4_int8_net> dw4_int8_instance;
// One arena for the edge cases (tests/cpp/*_edges.hpp, device::EdgeConv and EdgeFc), run one after another.
alignas(16) static std::byte edge_arena[2048];
// The same network again, wiping all but its outputs after each invoke(); and the float MLP in
// a SharedArena next to the CNN (sharing their bytes: they run one after the other).
static tinynet::Instance<device::network, tinynet::AfterInvoke::wipe_all_but_outputs> private_instance;
static tinynet::SharedArena<device::network, device::mlp> shared;
// The float MLP over a stream of scalar frames: its two inputs are the last two frames.
static tinynet::StreamWindow<device::mlp, 1> stream;
static tinynet::Instance<device::mlp> stream_instance;
// The nm network, a residual block whose second 3x3 Conv2D writes over its input through a ring,
// and slices as views with Pack/Concatenation written in place (tests/cpp/in_place_network.hpp)
// run one after another in one arena: with an Instance each, the Cortex-M0+ image's .bss did not
// fit the micro:bit's 16 KB of RAM.
// (So do the packed int4 networks and the in-place convolutions, each at its own time.)
template <class... Nets>
constexpr std::size_t largest_arena() {
  std::size_t n = 16;
  ((n = n > Nets::arena_bytes ? n : Nets::arena_bytes), ...);
  return n;
}
constexpr std::size_t overlay_bytes =
    largest_arena<device::nm_net<tinynet::SparseForm::nm>, device::nm_net<tinynet::SparseForm::unrolled>,
                  device::nm_net<tinynet::SparseForm::compressed>, device::dws_net<tinynet::SparseForm::unrolled>, device::dws_net<tinynet::SparseForm::compressed>, device::dwip_net<tinynet::SparseForm::unrolled>, residual_net::network, residual_blocks::network, layout_net::network, in_place_net::network,
                  device::fc4_packed_net, device::conv4_packed_net, device::pw4_24::network, device::pw4_64::network,
                  device::pw4_24_even::network, device::pw4_64_even::network, device::Conv4Even::network, device::dw4_packed_net
#if TINYNET_ARM_DSP
                  , device::WideInt4Conv::network, device::DeepInt4Fc::network
#endif
                  , device::wide_net<tinynet::SparseForm::compressed>>();
alignas(16) static std::byte overlay_arena[overlay_bytes];
template <class Net>
struct OverlayInstance {
  static auto input() { return Net::template input<0>(overlay_arena); }
  static void invoke() { Net::invoke(overlay_arena); }
  template <std::size_t I = 0>
  static auto output() { return Net::template output<I>(overlay_arena); }
};
static OverlayInstance<device::nm_net<tinynet::SparseForm::nm>> nm_instance;
static OverlayInstance<device::nm_net<tinynet::SparseForm::unrolled>> unrolled_instance;
static OverlayInstance<device::nm_net<tinynet::SparseForm::compressed>> compressed_instance;
static OverlayInstance<device::dws_net<tinynet::SparseForm::unrolled>> dws_instance;
// (25 pixels: the compressed form runs them in pairs, border and interior windows mixed, the last alone.)
static OverlayInstance<device::dws_net<tinynet::SparseForm::compressed>> dws_compressed_instance;
static OverlayInstance<device::dwip_net<tinynet::SparseForm::unrolled>> dwip_instance;
static OverlayInstance<device::wide_net<tinynet::SparseForm::compressed>> wide_instance;
static OverlayInstance<residual_net::network> residual_instance;
static OverlayInstance<residual_blocks::network> residual_blocks_instance;
static OverlayInstance<layout_net::network> layout_instance;
static OverlayInstance<in_place_net::network> in_place_instance;
static OverlayInstance<device::fc4_packed_net> fc4_packed_instance;
static OverlayInstance<device::conv4_packed_net> conv4_packed_instance;
static OverlayInstance<device::dw4_packed_net> dw4_packed_instance;

// One edge case (tests/cpp/edge_harness.hpp) in edge_arena: invoke()'s bytes against the host compiler's.
template <class Case>
static bool edge_case_same() {
  static_assert(Case::network::arena_bytes <= sizeof edge_arena);
  return edge_harness::invoke_gives_expected<Case>(edge_arena);
}
// How many of `values` differ from the first: a case whose outputs barely vary proves little.
template <class Values>
static std::size_t unlike_first(const Values& values) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < values.size(); ++i) n += values[i] != values[0];
  return n;
}
// An EdgeConv or EdgeFc case: the same bytes, and outputs that vary.
template <class Case>
static bool edge_conv_same() {
  return edge_case_same<Case>() && unlike_first(Case::expected) * 2 >= Case::expected.size();
}

using edge_harness::copy_values;
using edge_harness::same_values;

// A packed int4 case in the overlay arena: its bytes against the host compiler's, and outputs
// that vary (not a degenerate case): at least `min_unlike` of them unlike the first.
template <class Case>
static bool int4_case_same(std::size_t min_unlike) {
  static OverlayInstance<typename Case::network> instance;
  copy_values(Case::input, instance.input());
  instance.invoke();
  return same_values(instance.output(), Case::expected) && unlike_first(instance.output()) >= min_unlike;
}
// Half of a case's outputs, rounded up: the variation asked of the cases with few outputs.
template <class Case>
constexpr std::size_t half_of_outputs = (Case::expected.size() + 1) / 2;

static int failures = 0;
static void check(bool ok, const char* what) {
  if (!ok) {
    ++failures;
    semihost::write("FAILED: ");
    semihost::write(what);
    semihost::write("\n");
  }
}

// A loop of four instructions per iteration (subs, nop, nop, bne), 100000 times.
__attribute__((noinline)) static void known_loop() {
  std::uint32_t n = 100000;
  asm volatile(
      "1:\n"
      "  subs %0, %0, #1\n"
      "  nop\n"
      "  nop\n"
      "  bne 1b\n"
      : "+l"(n)
      :
      : "cc");
}

extern "C" int app_main() {
  const auto input = instance.input();
  copy_values(device::test_image, input);
  instance.invoke();
  check(same_values(instance.output<0>(), std::get<0>(device::expected)), "int8 CNN logits differ from the host compiler's");
  check(same_values(instance.output<1>(), std::get<1>(device::expected)), "int8 softmax differs from the host compiler's");

  copy_values(device::fc4_input, fc4_packed_instance.input());
  copy_values(device::fc4_input, fc4_int8_instance.input());
  fc4_packed_instance.invoke();
  fc4_int8_instance.invoke();
  check(same_values(fc4_packed_instance.output(), device::expected_fc4) && same_values(fc4_int8_instance.output(), device::expected_fc4),
        "packed int4 FullyConnected differs from the host compiler's or the unpacked layer's");
  check(unlike_first(fc4_packed_instance.output()) > 0, "packed int4 FullyConnected: all outputs equal (degenerate test)");
  copy_values(device::test_image, conv4_packed_instance.input());
  copy_values(device::test_image, conv4_int8_instance.input());
  conv4_packed_instance.invoke();
  conv4_int8_instance.invoke();
  check(same_values(conv4_packed_instance.output(), device::expected_conv4) && same_values(conv4_int8_instance.output(), device::expected_conv4),
        "packed int4 Conv2D differs from the host compiler's or the unpacked layer's");
  check(unlike_first(conv4_packed_instance.output()) > 4, "packed int4 Conv2D: outputs barely vary (degenerate test)");
  check(int4_case_same<device::pw4_24>(5), "packed int4 pointwise Conv2D, 24 channels: differs from the host compiler's");
  check(int4_case_same<device::pw4_64>(5), "packed int4 pointwise Conv2D, 64 channels: differs from the host compiler's");
  check(int4_case_same<device::pw4_24_even>(5), "packed int4 pointwise Conv2D, 24 to 6 channels (shared sweep): differs from the host compiler's");
  check(int4_case_same<device::Conv4Even>(5), "packed int4 Conv2D 3x3x2, six channels (shared sweep): differs from the host compiler's");
#if TINYNET_ARM_DSP
  check(int4_case_same<device::WideInt4Conv>(half_of_outputs<device::WideInt4Conv>), "packed int4 Conv2D, 3x3x256 filters: differs from the host compiler's");
  check(int4_case_same<device::DeepInt4Fc>(half_of_outputs<device::DeepInt4Fc>), "packed int4 FullyConnected, depth 8184: differs from the host compiler's");
#endif
  check(int4_case_same<device::pw4_64_even>(5), "packed int4 pointwise Conv2D, 64 to 6 channels, 10 pixels (shared sweep): differs from the host compiler's");
  copy_values(device::dw4_input, dw4_packed_instance.input());
  copy_values(device::dw4_input, dw4_int8_instance.input());
  dw4_packed_instance.invoke();
  dw4_int8_instance.invoke();
  check(same_values(dw4_packed_instance.output(), device::expected_dw4) && same_values(dw4_int8_instance.output(), device::expected_dw4),
        "packed int4 DepthwiseConv2D differs from the host compiler's or the unpacked layer's");
  check(unlike_first(dw4_packed_instance.output()) > 4, "packed int4 DepthwiseConv2D: outputs barely vary (degenerate test)");

  check(edge_conv_same<device::edge_a>(), "Conv2D 1x1, 12 -> 7 channels, 9 pixels: differs from the host compiler's");
  check(edge_conv_same<device::edge_b>(), "Conv2D 1x1, 10 -> 4 channels, one pixel: differs from the host compiler's");
  check(edge_conv_same<device::edge_c>(), "Conv2D 3x3x3, SAME: differs from the host compiler's");
  check(edge_conv_same<device::edge_d>(), "Conv2D 3x3x4, VALID: differs from the host compiler's");
  check(edge_conv_same<device::edge_e>(), "Conv2D 1x1, 16 -> 16 channels: differs from the host compiler's");
  check(edge_conv_same<device::edge_f>(), "Conv2D 3x3x8 -> 6, SAME (border taps): differs from the host compiler's");
  check(edge_conv_same<device::edge_g>(), "Conv2D 3x3x4 -> 3, SAME (border taps): differs from the host compiler's");
  check(edge_conv_same<device::fc_a>(), "FullyConnected 9 -> 7: differs from the host compiler's");
  check(edge_conv_same<device::fc_b>(), "FullyConnected 12 -> 8: differs from the host compiler's");
  check(edge_conv_same<device::fc_c>(), "FullyConnected 4 -> 5: differs from the host compiler's");
  check(edge_conv_same<device::fc_d>(), "FullyConnected 600 -> 6: differs from the host compiler's");
  check(edge_conv_same<device::fc_e>(), "FullyConnected 20 -> 5: differs from the host compiler's");
  check(edge_conv_same<device::fc_f>(), "FullyConnected 36 -> 30: differs from the host compiler's");
  check(edge_conv_same<device::fc_g>(), "FullyConnected 141 -> 9: differs from the host compiler's");
  check(edge_conv_same<device::fc_h>(), "FullyConnected 2 x 303 -> 7: differs from the host compiler's");
  check(edge_conv_same<device::fc_i>(), "FullyConnected 1402 -> 5: differs from the host compiler's");

  copy_values(device::nm_input, nm_instance.input());
  nm_instance.invoke();
  check(same_values(nm_instance.output<0>(), std::get<0>(device::expected_nm)) && same_values(nm_instance.output<1>(), std::get<1>(device::expected_nm)),
        "nm sparse Conv2D/FullyConnected differ from the dense network's bytes");
  check(unlike_first(nm_instance.output<0>()) + unlike_first(nm_instance.output<1>()) > 20, "nm sparse network: outputs barely vary (degenerate test)");
  copy_values(device::nm_input, unrolled_instance.input());
  unrolled_instance.invoke();
  check(same_values(unrolled_instance.output<0>(), std::get<0>(device::expected_nm)) &&
            same_values(unrolled_instance.output<1>(), std::get<1>(device::expected_nm)),
        "unrolled sparse Conv2D/FullyConnected differ from the dense network's bytes");
  copy_values(device::nm_input, compressed_instance.input());
  compressed_instance.invoke();
  check(same_values(compressed_instance.output<0>(), std::get<0>(device::expected_nm)) &&
            same_values(compressed_instance.output<1>(), std::get<1>(device::expected_nm)),
        "compressed sparse Conv2D/FullyConnected differ from the dense network's bytes");
  copy_values(device::dws_input, dws_instance.input());
  dws_instance.invoke();
  check(same_values(dws_instance.output<0>(), device::expected_dws), "unrolled sparse DepthwiseConv2D differs from the dense layer's bytes");
  check(unlike_first(dws_instance.output<0>()) > 200, "unrolled sparse DepthwiseConv2D: outputs barely vary (degenerate test)");
  copy_values(device::dws_input, dws_compressed_instance.input());
  dws_compressed_instance.invoke();
  check(same_values(dws_compressed_instance.output<0>(), device::expected_dws),
        "compressed sparse DepthwiseConv2D differs from the dense layer's bytes");
  copy_values(device::dwip_input, dwip_instance.input());
  dwip_instance.invoke();
  check(same_values(dwip_instance.output<0>(), device::expected_dwip),
        "unrolled sparse DepthwiseConv2D in place differs from the dense layers' bytes");
  check(unlike_first(dwip_instance.output<0>()) > 200, "unrolled DepthwiseConv2D in place: outputs barely vary (degenerate test)");
  copy_values(device::wide_input, wide_instance.input());
  wide_instance.invoke();
  check(same_values(wide_instance.output<0>(), device::expected_wide),
        "compressed sparse Conv2D, two pixels per pass (one on ARMv6-M), differs from the dense layer's bytes");
  check(unlike_first(wide_instance.output<0>()) > 30, "compressed sparse Conv2D, wide receptive field: outputs barely vary (degenerate test)");

  mlp_instance.input()[0] = 2.0f;
  mlp_instance.input()[1] = 1.0f;
  mlp_instance.invoke();
  check(mlp_instance.output()[0] == device::expected_mlp[0], "float MLP differs from the host compiler's");

  // Privacy: after invoke() only the output tensors' bytes may be non-zero; after wipe(), none.
  for (std::size_t i = 0; i < input.size(); ++i) private_instance.input()[i] = device::test_image[i];
  private_instance.invoke();
  bool outputs_kept = true;
  for (std::size_t i = 0; i < 3; ++i) {
    outputs_kept = outputs_kept && private_instance.output<0>()[i] == std::get<0>(device::expected)[i] &&
                   private_instance.output<1>()[i] == std::get<1>(device::expected)[i];
  }
  check(outputs_kept, "wipe_all_but_outputs changed the outputs");
  const auto* out0 = reinterpret_cast<const std::byte*>(private_instance.output<0>().data());
  const auto* out1 = reinterpret_cast<const std::byte*>(private_instance.output<1>().data());
  std::size_t left = 0;
  for (const std::byte& b : private_instance.arena) {
    const bool in_output = (&b >= out0 && &b < out0 + 3) || (&b >= out1 && &b < out1 + 3);
    if (!in_output && b != std::byte{0}) ++left;
  }
  check(left == 0, "bytes other than the outputs survived wipe_all_but_outputs");
  private_instance.wipe();
  left = 0;
  for (const std::byte& b : private_instance.arena) left += b != std::byte{0};
  check(left == 0, "bytes survived wipe()");

  // Two networks in one SharedArena, one after the other, give the same bytes as apart.
  static_assert(decltype(shared)::arena_bytes == (device::network::arena_bytes > device::mlp::arena_bytes
                                                      ? device::network::arena_bytes
                                                      : device::mlp::arena_bytes));
  auto cnn = shared.instance<device::network>();
  auto small = shared.instance<device::mlp>();
  for (std::size_t i = 0; i < input.size(); ++i) cnn.input()[i] = device::test_image[i];
  cnn.invoke();
  bool shared_same = true;
  for (std::size_t i = 0; i < 3; ++i) shared_same = shared_same && cnn.output<1>()[i] == std::get<1>(device::expected)[i];
  small.input()[0] = 2.0f;
  small.input()[1] = 1.0f;
  small.invoke();
  shared_same = shared_same && small.output()[0] == device::expected_mlp[0];
  check(shared_same, "networks in a SharedArena differ from the host compiler's");

  // A StreamWindow read in place gives what the MLP gives on a copy of the last two frames.
  const float signal[5] = {2.0f, 1.0f, -0.5f, 3.0f, 0.25f};
  bool stream_same = true;
  for (int t = 0; t < 5; ++t) {
    stream.push(std::span<const float, 1>(&signal[t], 1));
    if (!stream.full()) continue;
    stream_instance.invoke_from(stream);
    mlp_instance.input()[0] = signal[t - 1];
    mlp_instance.input()[1] = signal[t];
    mlp_instance.invoke();
    stream_same = stream_same && stream_instance.output()[0] == mlp_instance.output()[0];
  }
  check(stream_same, "StreamWindow in place differs from the copied window");

  // Convolutions in place (the DSP kernels on M4/M7/M33, the portable loops on M0+/M3) give the
  // bytes the host compiler gives with a buffer per tensor.
  copy_values(in_place_net::input, in_place_instance.input());
  in_place_instance.invoke();
  check(same_values(in_place_instance.output(), in_place_net::expected), "convolutions in place differ from the host compiler's");
  copy_values(residual_net::input, residual_instance.input());
  residual_instance.invoke();
  check(same_values(residual_instance.output(), residual_net::expected), "a 3x3 Conv2D in place (residual block) differs from the host compiler's");
  // Residual blocks fused row by row (layers/conv/residual_rows.hpp).
  copy_values(residual_blocks::input, residual_blocks_instance.input());
  residual_blocks_instance.invoke();
  check(same_values(residual_blocks_instance.output(), residual_blocks::expected), "fused residual blocks differ from the host compiler's");

  // The edge cases of tests/cpp/*_edges.hpp, one after another in edge_arena: DepthwiseConv2D's
  // kernels, Conv2D with few input channels, Add/Sub's short form (SMMLAR, SSAT), AveragePool2D's
  // SXTB16/SADD16 loop.
  dw_edges::for_each_case([]<class Case>() { check(edge_case_same<Case>(), "a DepthwiseConv2D edge case differs from the host compiler's"); });
  few_edges::for_each_case([]<class Case>() { check(edge_case_same<Case>(), "a Conv2D few-channel edge case differs from the host compiler's"); });
  elementwise_edges::for_each_case([]<class Case>() { check(edge_case_same<Case>(), "an Add/Sub edge case differs from the host compiler's"); });
  pool_edges::for_each_case([]<class Case>() { check(edge_case_same<Case>(), "an AveragePool2D edge case differs from the host compiler's"); });

  // Views, in-place layers over views and gather-free Pack/Concatenation (tests/cpp/in_place_network.hpp).
  copy_values(layout_net::input, layout_instance.input());
  layout_instance.invoke();
  const auto& [layout_y, layout_y2] = layout_net::expected;
  check(same_values(layout_instance.output<0>(), layout_y) && same_values(layout_instance.output<1>(), layout_y2),
        "views and gather-free Pack/Concatenation differ from the host compiler's");

  cycles::start();
  const std::uint32_t before = cycles::now();
  known_loop();
  const std::uint32_t after = cycles::now();
  const std::uint64_t counted = cycles::instructions(before, after);
  // 400000 loop instructions plus a handful for the call and the reads.
  check(counted >= 400000 && counted <= 400040, "instruction count of the known loop");

  char text[24];
  semihost::write("known loop instructions: ");
  semihost::write(semihost::decimal(counted, text));
  semihost::write(failures == 0 ? "\ndevice tests passed\n" : "\ndevice tests FAILED\n");
  return failures == 0 ? 0 : 1;
}
