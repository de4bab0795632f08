// RegionPlan / InstanceInRegions: one network's arena over several RAMs. Placements are worked out
// by hand from the ranking rule (bytes accessed per byte of buffer, hottest first into the first
// region with room); a network run over regions must give the bytes it gives in one arena.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

namespace regions {
inline constexpr Quant q{1.0f, 0};
inline constexpr std::int32_t zero2[2] = {0, 0};
inline constexpr float one[1] = {1.0f};
// 40 in -> 2 out. The input is read 80 times in bytes (80 MACs), 2 per byte; the output written
// twice in bytes, 1 per byte: the input is the hotter buffer.
struct x : Tensor<i8, Shape<1, 40>, q> {};
struct y : Tensor<i8, Shape<1, 2>, q> {};
inline constexpr auto w = [] {
  std::array<i8, 80> v{};
  for (std::size_t i = 0; i < 40; ++i) {
    v[i] = static_cast<i8>(i % 3 == 0 ? 1 : 0);
    v[40 + i] = static_cast<i8>(i % 2 == 0 ? -1 : 1);
  }
  return v;
}();
using dense = Network<Inputs<x>, Outputs<y>, FullyConnected<x, y, w, zero2, one>>;
static_assert(dense::tensor_access_bytes[dense::tensor_index<x>] == 80);
static_assert(dense::tensor_access_bytes[dense::tensor_index<y>] == 2);

// One region: the same layout as the arena planner's.
using single = RegionPlan<dense, Region<1024>>;
static_assert(single::bytes<0> == dense::arena_bytes);
static_assert(single::offset_of<x> == dense::offset_of<x> && single::offset_of<y> == dense::offset_of<y>);

// A 48-byte fast region takes the hot 40-byte input (48 aligned); the output goes to the second.
using roomy = RegionPlan<dense, Region<48>, Region<1024>>;
static_assert(roomy::region_of<x> == 0 && roomy::region_of<y> == 1);
static_assert(roomy::bytes<0> == 48 && roomy::bytes<1> == 16);
static_assert(roomy::access_bytes<0> == 80 && roomy::access_bytes<1> == 2);

// A 16-byte fast region cannot hold the input: the output, next in rank, goes there instead.
using tight = RegionPlan<dense, Region<16>, Region<1024>>;
static_assert(tight::region_of<x> == 1 && tight::region_of<y> == 0);
static_assert(tight::bytes<0> == 16 && tight::bytes<1> == 48);

// A CNN with a residual Add (in place), an aliasing Reshape and a softmax.
inline constexpr Quant cq{0.05f, -3};
inline constexpr Quant softmax_q{1.0f / 256, -128};
struct image : Tensor<i8, Shape<1, 8, 8, 2>, cq> {};
struct conv_out : Tensor<i8, Shape<1, 4, 4, 4>, cq> {};
struct dw_out : Tensor<i8, Shape<1, 4, 4, 4>, cq> {};
struct sum : Tensor<i8, Shape<1, 4, 4, 4>, cq> {};
struct pooled : Tensor<i8, Shape<1, 1, 1, 4>, cq> {};
struct flat : Tensor<i8, Shape<1, 4>, cq> {};
struct logits : Tensor<i8, Shape<1, 3>, cq> {};
struct probabilities : Tensor<i8, Shape<1, 3>, softmax_q> {};
inline constexpr auto conv_w = [] {
  std::array<i8, 72> v{};
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<i8>((static_cast<int>(i) * 29) % 61 - 30);
  return v;
}();
inline constexpr std::int32_t bias4[4] = {10, -20, 30, -40};
inline constexpr float scales4[4] = {0.01f, 0.02f, 0.03f, 0.04f};
inline constexpr auto dw_w = [] {
  std::array<i8, 36> v{};
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<i8>((static_cast<int>(i) * 17) % 41 - 20);
  return v;
}();
inline constexpr i8 fc_w[12] = {5, 6, -7, 8, 90, -100, 110, -120, 13, 14, 15, 16};
inline constexpr std::int32_t bias3[3] = {1, 2, 3};
inline constexpr float scale1[1] = {0.02f};
using cnn = Network<
    Inputs<image>, Outputs<logits, probabilities>,
    Conv2D<image, conv_out, conv_w, bias4, scales4,
           Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, .padding = Padding::same,
                         .activation = Activation::relu}>,
    DepthwiseConv2D<conv_out, dw_out, dw_w, bias4, scales4,
                    DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same}>,
    Add<conv_out, dw_out, sum, ArithmeticOptions{Activation::relu6}>,
    AveragePool2D<sum, pooled, Pool2DOptions{.filter_h = 4, .filter_w = 4, .stride_h = 4, .stride_w = 4}>,
    Reshape<pooled, flat>, FullyConnected<flat, logits, fc_w, bias3, scale1>, Softmax<logits, probabilities>>;
// 64 fast bytes: room for the 64-byte feature maps, not for the 128-byte image.
using split = RegionPlan<cnn, Region<64>, Region<4096>>;
static_assert(split::region_of<image> == 1);
static_assert(split::bytes<0> <= 64 && split::bytes<0> + split::bytes<1> >= cnn::arena_bytes);
// Aliases stay with their buffer.
static_assert(split::region_of<flat> == split::region_of<pooled> && split::offset_of<flat> == split::offset_of<pooled>);

constexpr std::array<i8, 128> test_image = [] {
  std::array<i8, 128> v{};
  std::uint32_t state = 7;
  for (auto& e : v) {
    state = state * 1103515245u + 12345u;
    e = static_cast<i8>((state >> 16) & 0xFF);
  }
  return v;
}();
}  // namespace regions

TEST_CASE("InstanceInRegions: a network over two regions gives its one-arena bytes") {
  using namespace regions;
  alignas(16) static std::byte fast[split::bytes<0>];
  alignas(16) static std::byte slow[split::bytes<1>];
  static InstanceInRegions<cnn, split> over_regions{{fast, slow}};
  static Instance<cnn> in_one_arena;
  std::copy(test_image.begin(), test_image.end(), over_regions.input().begin());
  std::copy(test_image.begin(), test_image.end(), in_one_arena.input().begin());
  over_regions.invoke();
  in_one_arena.invoke();
  CHECK(std::equal(in_one_arena.output<0>().begin(), in_one_arena.output<0>().end(), over_regions.output<0>().begin()));
  CHECK(std::equal(in_one_arena.output<1>().begin(), in_one_arena.output<1>().end(), over_regions.output<1>().begin()));
  // And both what the compiler computes without any arena.
  constexpr auto expected = cnn::evaluate(test_image);
  CHECK(std::equal(std::get<1>(expected).begin(), std::get<1>(expected).end(), over_regions.output<1>().begin()));
  // The image went to the slow region.
  CHECK(reinterpret_cast<std::byte*>(over_regions.input().data()) >= slow);
  over_regions.wipe();
  CHECK(std::all_of(std::begin(fast), std::end(fast), [](std::byte v) { return v == std::byte{0}; }));
  CHECK(std::all_of(std::begin(slow), std::end(slow), [](std::byte v) { return v == std::byte{0}; }));
}

TEST_CASE("InstanceInRegions: the dense network with its input in the fast region") {
  using namespace regions;
  alignas(16) static std::byte fast[roomy::bytes<0>];
  alignas(16) static std::byte slow[roomy::bytes<1>];
  static InstanceInRegions<dense, roomy> instance{{fast, slow}};
  for (std::size_t i = 0; i < 40; ++i) instance.input()[i] = static_cast<i8>(i);
  instance.invoke();
  // y0 = sum of x_i for i % 3 == 0 (0 + 3 + ... + 39 = 273, saturated); y1 = sum of odd minus even = 20.
  CHECK(instance.output()[0] == 127);
  CHECK(instance.output()[1] == 20);
  CHECK(reinterpret_cast<std::byte*>(instance.input().data()) == fast);
}
