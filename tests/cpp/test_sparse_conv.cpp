// Sparse Conv2D and DepthwiseConv2D: the `unrolled` and `compressed` forms (and the automatic
// choice) give the dense kernel's bytes for random pruned weights: 1x1 convolutions (the input
// pixel read in place, with and without stride), larger kernels with SAME padding, stride and
// dilation (the receptive field copied into a patch, padded taps reading the input zero point),
// depthwise windows at the border and inside, depth multiplier 1 and 2, fields as wide as the
// image or wider, any kernel, stride, dilation, padding and batch, and constant evaluation;
// the `nm` form on weights pruned 2:4 and 1:4 along the input channels (channel counts not a
// multiple of 4, kept weights that are 0), and the layers it does not fit running dense.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include <tinynet/tinynet.hpp>

#include "random_weights.hpp"
#include "nm_weights.hpp"
#include "sparse_forms.hpp"

using namespace tinynet;
using i8 = std::int8_t;

namespace sparse_conv_test {

using test_random::Lcg, test_random::random_weights, test_random::random_bias, test_random::scales,
    test_random::random_input;
using nm_test::nm_weights;  // nm_weights.hpp
using nm_test::unrolled_if_for_speed;
using sparse_forms::check_forms_give, sparse_forms::run_layer, sparse_forms::varied;  // sparse_forms.hpp

// A Conv2D: H x W x InC -> OutC, Kernel x Kernel, stride, dilation, SAME padding; weights at a
// density, or pruned N:M along the input channels when Pattern is 10 N + M (24: 2:4).
template <int H, int W, int InC, int OutC, int Kernel, int Stride, int Dilation, int DensityPercent, int InputZeroPoint,
          int Pattern = 0>
struct ConvCase {
  static constexpr std::uint32_t seed =
      static_cast<std::uint32_t>(H * 131 + InC * 31 + OutC * 7 + Kernel + DensityPercent + Pattern * 1009);
  static constexpr int depth = Kernel * Kernel * InC;
  static constexpr std::array<i8, OutC * depth> weights =
      Pattern != 0 ? nm_weights<static_cast<std::size_t>(OutC * depth)>(InC, Pattern / 10, Pattern % 10, seed) : random_weights<OutC * depth>(DensityPercent, seed);
  static constexpr std::array<std::int32_t, OutC> bias = random_bias<OutC>(seed + 1);
  static constexpr std::array<float, OutC> weight_scales = scales<OutC>(0.01f);
  static constexpr Quant in_q{0.05f, InputZeroPoint};
  static constexpr Quant out_q{0.05f * 0.01f * 4.0f * depth / 16.0f, -7};
  static constexpr Padding padding = Padding::same;
  static constexpr int out_h = (H + Stride - 1) / Stride, out_w = (W + Stride - 1) / Stride;
  struct in : Tensor<i8, Shape<1, H, W, InC>, in_q> {};
  struct out : Tensor<i8, Shape<1, out_h, out_w, OutC>, out_q> {};
  template <SparseForm Form>
  using layer = Conv2D<in, out, weights, bias, weight_scales,
                       Conv2DOptions{.kernel_h = Kernel, .kernel_w = Kernel, .stride_h = Stride, .stride_w = Stride,
                                     .dilation_h = Dilation, .dilation_w = Dilation, .padding = padding,
                                     .activation = Activation::relu, .sparse_form = Form}>;
  static constexpr int in_size = H * W * InC, out_size = out_h * out_w * OutC;
};

// A DepthwiseConv2D: H x W x InC, multiplier M, Kernel x Kernel, stride, SAME padding.
template <int H, int W, int InC, int M, int Kernel, int Stride, int DensityPercent, int InputZeroPoint>
struct DepthwiseCase {
  static constexpr std::uint32_t seed = static_cast<std::uint32_t>(H * 17 + InC * 101 + M * 3 + Kernel + DensityPercent);
  static constexpr int out_c = InC * M;
  static constexpr std::array<i8, Kernel * Kernel * out_c> weights = random_weights<Kernel * Kernel * out_c>(DensityPercent, seed);
  static constexpr std::array<std::int32_t, out_c> bias = random_bias<out_c>(seed + 1);
  static constexpr std::array<float, out_c> weight_scales = scales<out_c>(0.01f);
  static constexpr Quant in_q{0.05f, InputZeroPoint};
  static constexpr Quant out_q{0.05f * 0.01f * 4.0f * Kernel * Kernel / 16.0f, 3};
  static constexpr int out_h = (H + Stride - 1) / Stride, out_w = (W + Stride - 1) / Stride;
  struct in : Tensor<i8, Shape<1, H, W, InC>, in_q> {};
  struct out : Tensor<i8, Shape<1, out_h, out_w, out_c>, out_q> {};
  template <SparseForm Form>
  using layer = DepthwiseConv2D<in, out, weights, bias, weight_scales,
                                DepthwiseConv2DOptions{.kernel_h = Kernel, .kernel_w = Kernel, .stride_h = Stride,
                                                       .stride_w = Stride, .depth_multiplier = M, .padding = Padding::same,
                                                       .sparse_form = Form}>;
  static constexpr int in_size = H * W * InC, out_size = out_h * out_w * out_c;
};

template <class Layer, class C>
constexpr std::array<i8, C::out_size> run(const std::array<i8, C::in_size>& x) {
  return run_layer<Layer, C::out_size>(x);
}

// Every form but `nm` gives the dense kernel's bytes.
template <class C>
void check_forms() {
  using dense = typename C::template layer<SparseForm::dense>;
  static_assert(dense::sparse_form == SparseForm::dense);
  CAPTURE(dense::nonzero_weights);
  for (std::uint32_t trial = 0; trial < 2; ++trial) {
    const auto x = random_input<C::in_size>(C::seed * 13 + trial);
    const auto expected = run<dense, C>(x);
    CHECK(varied(expected));
    check_forms_give<C, SparseForm::unrolled, SparseForm::compressed, SparseForm::automatic>(x, expected);
  }
}

// The `nm` form on weights pruned N:M: it runs, stores less than the dense weights, and gives the
// dense bytes; `automatic` takes it where it pays and `unrolled` does not win (core/sparsity.hpp).
// (Pruned 1:4, a kept weight is 0 now and then: nm_weights.)
template <class C, SparseForm Auto = SparseForm::nm>
void check_nm() {
  using dense = typename C::template layer<SparseForm::dense>;
  using nm = typename C::template layer<SparseForm::nm>;
  using automatic = typename C::template layer<SparseForm::automatic>;
  static_assert(nm::sparse_form == SparseForm::nm);
  static_assert(automatic::sparse_form == Auto);
  static_assert(nm::weight_bytes < dense::weight_bytes);
  CAPTURE(dense::nonzero_weights);
  for (std::uint32_t trial = 0; trial < 2; ++trial) {
    const auto x = random_input<C::in_size>(C::seed * 7 + trial);
    const auto expected = run<dense, C>(x);
    CHECK(varied(expected));
    CHECK(run<nm, C>(x) == expected);  // (automatic runs the same code when it picks nm)
  }
}


// Any geometry: batches, a kh x kw kernel, strides and dilations per axis, SAME or VALID padding.
constexpr int out_extent(int in, int kernel, int stride, int dilation, Padding padding) {
  const int effective = (kernel - 1) * dilation + 1;
  return padding == Padding::same ? (in + stride - 1) / stride : (in - effective) / stride + 1;
}
struct Geometry {
  int batches, h, w, in_c, kh, kw, sh, sw, dh, dw;
  Padding padding;
  int density_percent, zero_point;
};
// The input and output tensors of a case: the output scale keeps a sum of Depth products of the
// random weights and inputs in range.
template <Geometry G, int OutC, int Depth, int OutputZeroPoint>
struct GeometryTensors {
  static constexpr Quant in_q{0.05f, G.zero_point};
  static constexpr Quant out_q{0.05f * 0.01f * 4.0f * Depth / 16.0f, OutputZeroPoint};
  static constexpr int out_h = out_extent(G.h, G.kh, G.sh, G.dh, G.padding);
  static constexpr int out_w = out_extent(G.w, G.kw, G.sw, G.dw, G.padding);
  struct in : Tensor<i8, Shape<G.batches, G.h, G.w, G.in_c>, in_q> {};
  struct out : Tensor<i8, Shape<G.batches, out_h, out_w, OutC>, out_q> {};
  static constexpr int in_size = G.batches * G.h * G.w * G.in_c, out_size = G.batches * out_h * out_w * OutC;
};
template <Geometry G, int OutC>
struct GeometryCase {
  static constexpr std::uint32_t seed =
      static_cast<std::uint32_t>(G.h * 7 + G.w * 131 + G.in_c * 31 + G.kh * 5 + G.kw * 11 + G.sw * 3 + G.dw * 17 + OutC);
  static constexpr int depth = G.kh * G.kw * G.in_c;
  static constexpr std::array<i8, OutC * depth> weights = random_weights<OutC * depth>(G.density_percent, seed);
  static constexpr std::array<std::int32_t, OutC> bias = random_bias<OutC>(seed + 1);
  static constexpr std::array<float, OutC> weight_scales = scales<OutC>(0.01f);
  using tensors = GeometryTensors<G, OutC, depth, 5>;
  using in = typename tensors::in;
  using out = typename tensors::out;
  static constexpr int in_size = tensors::in_size, out_size = tensors::out_size;
  template <SparseForm Form>
  using layer = Conv2D<in, out, weights, bias, weight_scales,
                       Conv2DOptions{.kernel_h = G.kh, .kernel_w = G.kw, .stride_h = G.sh, .stride_w = G.sw,
                                     .dilation_h = G.dh, .dilation_w = G.dw, .padding = G.padding,
                                     .activation = Activation::none, .sparse_form = Form}>;
};
template <Geometry G, int Multiplier>
struct DepthwiseGeometryCase {
  static constexpr std::uint32_t seed =
      static_cast<std::uint32_t>(G.h * 19 + G.w * 3 + G.in_c * 101 + G.kh * 7 + G.kw * 13 + G.sw + G.dw * 23 + Multiplier);
  static constexpr int out_c = G.in_c * Multiplier;
  static constexpr std::array<i8, G.kh * G.kw * out_c> weights = random_weights<G.kh * G.kw * out_c>(G.density_percent, seed);
  static constexpr std::array<std::int32_t, out_c> bias = random_bias<out_c>(seed + 1);
  static constexpr std::array<float, out_c> weight_scales = scales<out_c>(0.01f);
  using tensors = GeometryTensors<G, out_c, G.kh * G.kw, -2>;
  using in = typename tensors::in;
  using out = typename tensors::out;
  static constexpr int in_size = tensors::in_size, out_size = tensors::out_size;
  template <SparseForm Form>
  using layer = DepthwiseConv2D<in, out, weights, bias, weight_scales,
                                DepthwiseConv2DOptions{.kernel_h = G.kh, .kernel_w = G.kw, .stride_h = G.sh,
                                                       .stride_w = G.sw, .dilation_h = G.dh, .dilation_w = G.dw,
                                                       .depth_multiplier = Multiplier, .padding = G.padding,
                                                       .sparse_form = Form}>;
};

}  // namespace sparse_conv_test

using namespace sparse_conv_test;

TEST_CASE("sparse Conv2D: 1x1, stride 1 and 2, densities 10/30/100 %") {
  check_forms<ConvCase<5, 6, 16, 12, 1, 1, 1, 10, -3>>();
  check_forms<ConvCase<5, 6, 16, 12, 1, 1, 1, 30, -128>>();
  check_forms<ConvCase<5, 6, 16, 12, 1, 1, 1, 100, 9>>();
  check_forms<ConvCase<7, 5, 8, 33, 1, 2, 1, 20, 4>>();
}

// Past 512 columns (3x3 over 64 channels: 576) the paired columns of four pixels would exceed the
// stack's budget, so a pass takes two (SparseRows::inputs_per_pass); 15 pixels leave the last pass
// one real pixel, whose outputs go through the tail buffer (Conv2D::run_sparse).
TEST_CASE("sparse Conv2D: two pixels per pass, an odd number of pixels") {
  using C = ConvCase<5, 3, 64, 6, 3, 1, 1, 20, 5>;
  static_assert(C::layer<SparseForm::compressed>::sparse_rows::inputs_per_pass == 2);
  static_assert(C::layer<SparseForm::unrolled>::sparse_rows::inputs_per_pass == 2);
  check_forms<C>();
  // Four pixels per pass, 5 x 3 = 15: the last pass has three real pixels.
  using four = ConvCase<5, 3, 16, 6, 3, 1, 1, 30, -9>;
  static_assert(four::layer<SparseForm::compressed>::sparse_rows::inputs_per_pass == 4);
  check_forms<four>();
}

// Past 1,024 columns (3x3 over 128 channels: 1,152) even two pixels' paired columns would exceed
// pass_stack_bytes (core/target.hpp), so a pass takes one pixel, run as a single input.
// (At 30 % the unrolled rows, about 1,700 terms, are written out in two groups: UnrolledRows::groups.)
TEST_CASE("sparse Conv2D: one pixel per pass past the stack of a pass") {
  using C = ConvCase<4, 3, 128, 5, 3, 1, 1, 30, -21>;
  static_assert(tinynet::pass_stack_bytes == 4096);
  static_assert(C::layer<SparseForm::compressed>::sparse_rows::inputs_per_pass == 1);
  static_assert(C::layer<SparseForm::unrolled>::sparse_rows::inputs_per_pass == 1 && !C::layer<SparseForm::unrolled>::sparse_direct);
  static_assert(C::layer<SparseForm::unrolled>::sparse_rows::unrolled::groups == 2);
  check_forms<C>();
}

// Four pixels per pass over unrolled rows in groups (24 rows of about 72 terms: two groups).
TEST_CASE("sparse Conv2D: four pixels per pass, unrolled rows in two groups") {
  using C = ConvCase<5, 5, 16, 24, 3, 1, 1, 50, 9>;
  static_assert(C::layer<SparseForm::unrolled>::sparse_rows::inputs_per_pass == 4 && !C::layer<SparseForm::unrolled>::sparse_direct);
  static_assert(C::layer<SparseForm::unrolled>::sparse_rows::unrolled::groups == 2);
  check_forms<C>();
}

TEST_CASE("sparse Conv2D: 3x3 and 4x4 SAME padding, stride 2, dilation 2, one input channel") {
  check_forms<ConvCase<6, 7, 5, 6, 3, 1, 1, 20, 17>>();
  check_forms<ConvCase<9, 8, 3, 5, 4, 2, 1, 40, -60>>();
  check_forms<ConvCase<7, 7, 4, 4, 3, 1, 2, 25, 0>>();
  check_forms<ConvCase<10, 4, 1, 9, 3, 2, 1, 30, -5>>();
}

// `unrolled` reads a receptive field in place (sparse_direct) below three non-zeros per column
// within a 1 KB span, and packs four patches' columns otherwise: both give the dense bytes, at
// the image's borders too.
TEST_CASE("sparse Conv2D: unrolled in place and through patches") {
  using few = ConvCase<6, 7, 5, 6, 3, 1, 1, 20, 17>;           // 1.2 non-zeros per column
  using many = ConvCase<6, 7, 5, 16, 3, 1, 1, 30, 11>;         // 4.8 per column: patches
  using wide = ConvCase<4, 200, 3, 4, 3, 2, 1, 20, -9>;        // a span of 1,209 bytes: patches
  using dilated = ConvCase<7, 9, 2, 3, 3, 2, 2, 30, -100>;     // dilation 2, stride 2, borders on all sides
  static_assert(few::layer<SparseForm::unrolled>::sparse_direct);
  static_assert(dilated::layer<SparseForm::unrolled>::sparse_direct);
  static_assert(!many::layer<SparseForm::unrolled>::sparse_direct);
  static_assert(!wide::layer<SparseForm::unrolled>::sparse_direct);
  static_assert(!few::layer<SparseForm::compressed>::sparse_direct);
  check_forms<many>();
  check_forms<wide>();
  check_forms<dilated>();
}

// A receptive field wider than the image (SAME padding lets a 3x3 kernel run over 2 columns, a
// dilated one over 4) would put two taps of a border pixel's field on one byte of the scratch:
// such a layer goes through patches. A field exactly as wide as the image still reads in place.
TEST_CASE("sparse Conv2D: unrolled with a receptive field as wide as the image or wider") {
  using narrow = ConvCase<5, 2, 3, 4, 3, 1, 1, 20, 7>;          // 3 columns of field over 2
  using narrow_dilated = ConvCase<6, 4, 3, 5, 3, 1, 2, 20, -3>;  // 5 columns of field over 4
  using single = ConvCase<3, 1, 8, 4, 3, 1, 1, 20, 21>;         // one column
  using exact = ConvCase<5, 3, 2, 4, 3, 1, 1, 20, -40>;         // 3 columns over 3: in place
  static_assert(!narrow::layer<SparseForm::unrolled>::sparse_direct);
  static_assert(!narrow_dilated::layer<SparseForm::unrolled>::sparse_direct);
  static_assert(!single::layer<SparseForm::unrolled>::sparse_direct);
  static_assert(exact::layer<SparseForm::unrolled>::sparse_direct);
  check_forms<narrow>();
  check_forms<narrow_dilated>();
  check_forms<single>();
  check_forms<exact>();
}

TEST_CASE("nm Conv2D: 2:4 and 1:4 along the input channels, 1x1 and 3x3, odd pixels and channels") {
  check_nm<ConvCase<5, 5, 64, 7, 1, 1, 1, 0, 12, 14>>();           // 1:4, spans of 8, 25 pixels (one alone)
  check_nm<ConvCase<6, 7, 8, 5, 3, 1, 1, 0, 17, 24>>();            // 3x3 SAME: padded taps read the zero point
  check_nm<ConvCase<9, 8, 12, 6, 3, 2, 2, 0, -60, 14>, unrolled_if_for_speed(SparseForm::nm)>();  // stride 2, dilation 2; 1.5 weights per pair
  check_nm<ConvCase<7, 5, 6, 4, 3, 2, 1, 0, 4, 24>, SparseForm::dense>();      // 6 channels: groups of 4 and 2 (fits, does not pay)
  check_nm<ConvCase<4, 5, 36, 3, 1, 1, 1, 0, 3, 14>, unrolled_if_for_speed(SparseForm::nm)>();  // 36 channels: a last span of 4 (of 8)
  check_nm<ConvCase<5, 7, 24, 9, 1, 1, 1, 0, -9, 24>>();           // 2:4, spans of 4; 35 pixels: three in the last pass
  // 3x3 over 32 channels: 1:4 (16 slots) takes one pixel per pass, 2:4 two (NmRows::inputs_per_pass)
  check_nm<ConvCase<4, 5, 32, 6, 3, 1, 1, 0, 6, 14>>();
  check_nm<ConvCase<5, 3, 32, 6, 3, 1, 1, 0, -6, 24>>();
  static_assert(ConvCase<4, 5, 32, 6, 3, 1, 1, 0, 6, 14>::layer<SparseForm::nm>::sparse_rows::nm::inputs_per_pass == 1);
  static_assert(ConvCase<5, 3, 32, 6, 3, 1, 1, 0, -6, 24>::layer<SparseForm::nm>::sparse_rows::nm::inputs_per_pass == 2);
}

TEST_CASE("nm Conv2D and DepthwiseConv2D: where the form does not fit, the layer runs dense") {
  // One input channel: a span per tap, more flash than the dense weights.
  using one = ConvCase<6, 5, 1, 4, 3, 1, 1, 0, 2, 24>;
  static_assert(one::layer<SparseForm::nm>::sparse_form == SparseForm::dense);
  // Unstructured sparsity: spans with more than two non-zero weights.
  using random = ConvCase<5, 6, 16, 12, 1, 1, 1, 50, -3>;
  static_assert(random::layer<SparseForm::nm>::sparse_form == SparseForm::dense);
  // DepthwiseConv2D: no input channels to pair.
  using depthwise = DepthwiseCase<6, 5, 8, 1, 3, 1, 50, -11>;
  static_assert(depthwise::layer<SparseForm::nm>::sparse_form == SparseForm::dense);
  const auto x = random_input<one::in_size>(5);
  CHECK(run<one::layer<SparseForm::nm>, one>(x) == run<one::layer<SparseForm::dense>, one>(x));
}

TEST_CASE("sparse DepthwiseConv2D: 3x3 SAME, stride 1 and 2, multiplier 1 and 2, 300 channels (gaps past 255)") {
  check_forms<DepthwiseCase<6, 5, 8, 1, 3, 1, 20, -11>>();
  check_forms<DepthwiseCase<7, 6, 3, 2, 3, 2, 50, 6>>();
  check_forms<DepthwiseCase<5, 5, 4, 1, 5, 1, 100, -128>>();
  check_forms<DepthwiseCase<3, 4, 300, 1, 3, 1, 15, 2>>();
}

// `unrolled` runs row by row, so it runs in place as the dense form does (the output over the
// input, rows through a ring: layers/conv/in_place_rows.hpp); `compressed` pairs pixels across
// rows and writes its own output. Called with one buffer for input and output, the unrolled layer
// gives the dense bytes, at the borders too (15 and 12 channels: window copies of unaligned
// pixels), with stride 1 and 2.
template <class C>
void check_unrolled_in_place() {
  using dense = typename C::template layer<SparseForm::dense>;
  using unrolled = typename C::template layer<SparseForm::unrolled>;
  static_assert(unrolled::in_place && dense::in_place);
  static_assert(!C::template layer<SparseForm::compressed>::in_place);
  for (std::uint32_t trial = 0; trial < 2; ++trial) {
    const auto x = random_input<C::in_size>(C::seed * 29 + trial);
    const auto expected = run<dense, C>(x);
    CHECK(varied(expected));
    alignas(16) std::array<i8, C::in_size> buffer = x;
    unrolled::run(buffer.data(), buffer.data());
    CHECK(std::equal(expected.begin(), expected.end(), buffer.begin()));
  }
}

TEST_CASE("sparse DepthwiseConv2D: unrolled in place") {
  check_unrolled_in_place<DepthwiseCase<9, 7, 15, 1, 3, 1, 20, -11>>();
  check_unrolled_in_place<DepthwiseCase<11, 8, 12, 1, 3, 2, 30, 40>>();
  check_unrolled_in_place<DepthwiseCase<12, 6, 8, 1, 5, 1, 25, -128>>();
}

// A window wider than the image (no interior pixel: every pixel copies its taps) and one exactly
// as wide: each tap keeps a byte of its own in the copy.
TEST_CASE("sparse DepthwiseConv2D: a window as wide as the image or wider") {
  check_forms<DepthwiseCase<5, 2, 4, 1, 3, 1, 50, 6>>();
  check_forms<DepthwiseCase<4, 1, 3, 2, 3, 1, 60, -20>>();
  check_forms<DepthwiseCase<6, 3, 8, 1, 5, 2, 40, 9>>();
  check_forms<DepthwiseCase<5, 3, 4, 1, 3, 1, 50, 6>>();
}

namespace sparse_conv_network {
using C = ConvCase<4, 4, 3, 4, 3, 1, 1, 30, 5>;
using D = DepthwiseCase<4, 4, 3, 2, 3, 1, 30, 1>;
inline constexpr auto x = random_input<C::in_size>(77);
}  // namespace sparse_conv_network

TEST_CASE("sparse Conv2D and DepthwiseConv2D: every form in constant evaluation") {
  using namespace sparse_conv_network;
  constexpr auto conv = run<C::layer<SparseForm::dense>, C>(x);
  static_assert(run<C::layer<SparseForm::unrolled>, C>(x) == conv);
  static_assert(run<C::layer<SparseForm::compressed>, C>(x) == conv);
  using N = ConvCase<3, 4, 7, 4, 3, 1, 1, 0, 5, 24>;  // 2:4 over 7 channels: groups of 4 and 3
  constexpr auto nx = random_input<N::in_size>(78);
  constexpr auto nm_dense = run<N::layer<SparseForm::dense>, N>(nx);
  static_assert(N::layer<SparseForm::nm>::sparse_form == SparseForm::nm);
  static_assert(run<N::layer<SparseForm::nm>, N>(nx) == nm_dense);
  CHECK(run<N::layer<SparseForm::nm>, N>(nx) == nm_dense);
  constexpr auto depthwise = run<D::layer<SparseForm::dense>, D>(x);
  static_assert(run<D::layer<SparseForm::unrolled>, D>(x) == depthwise);
  static_assert(run<D::layer<SparseForm::compressed>, D>(x) == depthwise);
  // ... and equal to the run-time dense kernels.
  CHECK(run<C::layer<SparseForm::dense>, C>(x) == conv);
  CHECK(run<D::layer<SparseForm::dense>, D>(x) == depthwise);
}

// Geometries the cases above do not reach: kernels taller than wide and wider than tall, a
// stride and a dilation per axis, VALID padding (no border pixel, or a field as wide as the
// image), two batches; Conv2D few (in place) and many (patches) non-zeros per column.
TEST_CASE("sparse Conv2D and DepthwiseConv2D: any kernel, stride, dilation, padding and batch") {
  using P = Padding;
  using tall = GeometryCase<Geometry{1, 7, 9, 3, 3, 1, 1, 2, 1, 1, P::same, 25, -5}, 5>;  // 1.25 per column: in place
  using wide = GeometryCase<Geometry{2, 7, 7, 6, 3, 2, 3, 2, 1, 3, P::same, 60, 77}, 7>;  // 4.2 per column: patches
  static_assert(tall::layer<SparseForm::unrolled>::sparse_direct && !wide::layer<SparseForm::unrolled>::sparse_direct);
  check_forms<tall>();
  check_forms<GeometryCase<Geometry{1, 6, 8, 2, 1, 4, 2, 1, 1, 2, P::same, 20, 12}, 6>>();
  check_forms<GeometryCase<Geometry{2, 5, 6, 4, 2, 3, 1, 2, 2, 1, P::valid, 15, -100}, 4>>();
  check_forms<GeometryCase<Geometry{1, 8, 5, 3, 5, 5, 1, 1, 1, 1, P::valid, 30, 0}, 3>>();
  check_forms<wide>();
  check_forms<GeometryCase<Geometry{1, 9, 4, 5, 2, 2, 2, 2, 1, 1, P::same, 45, -20}, 9>>();
  check_forms<DepthwiseCase<6, 5, 8, 1, 3, 1, 20, -11>>();
  check_forms<DepthwiseGeometryCase<Geometry{1, 7, 9, 4, 3, 1, 1, 2, 1, 1, P::same, 30, -5}, 1>>();
  check_forms<DepthwiseGeometryCase<Geometry{2, 6, 8, 3, 1, 4, 2, 1, 1, 2, P::same, 40, 12}, 2>>();
  check_forms<DepthwiseGeometryCase<Geometry{1, 8, 7, 5, 3, 3, 1, 2, 2, 1, P::valid, 50, -128}, 1>>();
  check_forms<DepthwiseGeometryCase<Geometry{1, 5, 5, 8, 5, 5, 1, 1, 1, 1, P::valid, 25, 3}, 1>>();
  check_forms<DepthwiseGeometryCase<Geometry{2, 9, 6, 6, 2, 3, 2, 3, 3, 2, P::same, 35, 40}, 1>>();
}
