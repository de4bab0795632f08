// One op at a time, at the shapes of the MLPerf Tiny models (see bench/CMakeLists.txt).
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

namespace {

template <std::size_t N, class T = i8>
constexpr std::array<T, N> pseudo_random(std::uint32_t seed) {
  std::array<T, N> out{};
  for (auto& v : out) {
    seed = seed * 1664525u + 1013904223u;
    if constexpr (sizeof(T) == 1) v = static_cast<T>(static_cast<int>((seed >> 24) % 255) - 127);
    else v = static_cast<T>(static_cast<int>((seed >> 16) % 65535) - 32767);
  }
  return out;
}
template <std::size_t N>
constexpr std::array<std::int32_t, N> biases() {
  std::array<std::int32_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = static_cast<std::int32_t>(i * 37 % 1000) - 500;
  return out;
}
template <std::size_t N>
constexpr std::array<float, N> scales() {
  std::array<float, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = 0.002f + 0.0001f * static_cast<float>(i % 7);
  return out;
}

inline constexpr Quant q_in{0.05f, -10};
inline constexpr Quant q_out{0.1f, -128};

// FullyConnected 256 -> 64 (the shape of cortex-m-facts.md's instructions-per-MAC figures).
struct fc_in : Tensor<i8, Shape<1, 256>, q_in> {};
struct fc_out : Tensor<i8, Shape<1, 64>, q_out> {};
inline constexpr auto fc_w = pseudo_random<256 * 64>(1);
inline constexpr auto fc_b = biases<64>();
inline constexpr std::array<float, 1> fc_s{0.003f};
using fully_connected = FullyConnected<fc_in, fc_out, fc_w, fc_b, fc_s, FullyConnectedOptions{Activation::relu}>;

// kws: pointwise 1x1 conv 64 -> 64 and depthwise 3x3 over 25x5x64.
struct kws_in : Tensor<i8, Shape<1, 25, 5, 64>, q_in> {};
struct kws_out : Tensor<i8, Shape<1, 25, 5, 64>, q_out> {};
inline constexpr auto pw_w = pseudo_random<64 * 64>(2);
inline constexpr auto dw_w = pseudo_random<9 * 64>(3);
inline constexpr auto b64 = biases<64>();
inline constexpr auto s64 = scales<64>();
using pointwise = Conv2D<kws_in, kws_out, pw_w, b64, s64, Conv2DOptions{.activation = Activation::relu}>;
using depthwise = DepthwiseConv2D<kws_in, kws_out, dw_w, b64, s64,
                                  DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same,
                                                         .activation = Activation::relu}>;

// ResNet-8: 3x3 conv 16 -> 16 over 32x32.
struct rn_in : Tensor<i8, Shape<1, 32, 32, 16>, q_in> {};
struct rn_out : Tensor<i8, Shape<1, 32, 32, 16>, q_out> {};
inline constexpr auto rn_w = pseudo_random<16 * 9 * 16>(4);
inline constexpr auto b16 = biases<16>();
inline constexpr auto s16 = scales<16>();
using conv3x3 = Conv2D<rn_in, rn_out, rn_w, b16, s16,
                       Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same, .activation = Activation::relu}>;

// Softmax over 12 classes.
inline constexpr Quant q_softmax{1.0f / 256, -128};
struct logits : Tensor<i8, Shape<1, 12>, q_in> {};
struct probabilities : Tensor<i8, Shape<1, 12>, q_softmax> {};
using softmax = Softmax<logits, probabilities>;

// Element-wise ops of issue 12 over a MobileNetV3-sized activation, 16x16x32: a per-channel
// factor (squeeze-and-excite MUL, PRELU alpha, DIV divisor) is a constant operand.
struct ew_x : Tensor<i8, Shape<1, 16, 16, 32>, q_in> {};
struct ew_y : Tensor<i8, Shape<1, 16, 16, 32>, q_in> {};
struct ew_out : Tensor<i8, Shape<1, 16, 16, 32>, q_out> {};
struct ew_same : Tensor<i8, Shape<1, 16, 16, 32>, q_in> {};
inline constexpr auto channel_values = [] {
  auto v = pseudo_random<32>(5);
  for (auto& x : v) x = static_cast<i8>(x == q_in.zero_point ? x + 7 : x);  // no divisor at its zero point
  return v;
}();
struct ew_channel : ConstantTensor<i8, Shape<32>, channel_values, q_in> {};
using mul_channel = Mul<ew_x, ew_channel, ew_out>;
using mul_same_shape = Mul<ew_x, ew_y, ew_out>;
using maximum = Maximum<ew_x, ew_y, ew_same>;
using squared_difference = SquaredDifference<ew_x, ew_y, ew_out>;
using div_channel = Div<ew_x, ew_channel, ew_out>;
using prelu = Prelu<ew_x, ew_channel, ew_out>;
using hard_swish = HardSwish<ew_x, ew_out>;
using abs_op = Abs<ew_x, ew_out>;
using elu = Elu<ew_x, ew_out>;

// Reducers and RSQRT of issue 12 on the same activation: SUM over H and W (global sum pooling),
// MEAN and REDUCE_MAX over the channels, int8 RSQRT (input zero point -128: every input valid).
struct rd_hw : Tensor<i8, Shape<1, 1, 1, 32>, q_out> {};
struct rd_c : Tensor<i8, Shape<1, 16, 16, 1>, q_in> {};
using sum_hw = Sum<ew_x, rd_hw, axes(1, 2)>;
using mean_c = Mean<ew_x, rd_c, axes(3)>;
using reduce_max_c = ReduceMax<ew_x, rd_c, axes(3)>;
inline constexpr Quant q_rsqrt_in{0.05f, -128};
struct rs_x : Tensor<i8, Shape<1, 16, 16, 32>, q_rsqrt_in> {};
using rsqrt = Rsqrt<rs_x, ew_out>;

// Issue 12's ResizeBilinear (x2 up, 16x16 -> 32x32, 32 channels; the generator's tables for
// align_corners = half_pixel_centers = false: scale 512/1024, output i reads i / 2 and
// min(i / 2 + i % 2, 15) with fraction (i % 2) * 512), L2Normalization and LogSoftmax over C.
inline constexpr auto x2_index = [] {
  std::array<std::int32_t, 64> t{};
  for (int i = 0; i < 32; ++i) {
    t[static_cast<std::size_t>(2 * i)] = i / 2;
    t[static_cast<std::size_t>(2 * i + 1)] = i / 2 + i % 2 < 15 ? i / 2 + i % 2 : 15;
  }
  return t;
}();
inline constexpr auto x2_fraction = [] {
  std::array<std::int32_t, 32> t{};
  for (int i = 0; i < 32; ++i) t[static_cast<std::size_t>(i)] = (i % 2) * 512;
  return t;
}();
struct rb_out : Tensor<i8, Shape<1, 32, 32, 32>, q_in> {};
using resize_bilinear = ResizeBilinear<ew_x, rb_out, x2_index, x2_fraction, x2_index, x2_fraction>;
inline constexpr Quant q_l2{1.0f / 128, 0};
inline constexpr Quant q_log_softmax{16.0f / 256, 127};
struct l2_out : Tensor<i8, Shape<1, 16, 16, 32>, q_l2> {};
struct ls_out : Tensor<i8, Shape<1, 16, 16, 32>, q_log_softmax> {};
using l2_normalization = L2Normalization<ew_x, l2_out>;
using log_softmax = LogSoftmax<ew_x, ls_out>;
// TRANSPOSE_CONV of issue 12: a segmentation decoder's 2x upsampling, 3x3 stride 2 SAME, 8x8x16 -> 16x16x16.
struct tc_in : Tensor<i8, Shape<1, 8, 8, 16>, q_in> {};
struct tc_out : Tensor<i8, Shape<1, 16, 16, 16>, q_out> {};
inline constexpr auto tc_w = pseudo_random<16 * 9 * 16>(6);
using transpose_conv = TransposeConv<tc_in, tc_out, tc_w, b16, s16,
                                     TransposeConvOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
                                                          .padding = Padding::same, .activation = Activation::relu}>;

// BATCH_MATMUL of issue 12: an attention score, Q [4 heads, 16 tokens, 32] x K^T (adj_y), both activations.
struct bm_q : Tensor<i8, Shape<4, 16, 32>, q_in> {};
struct bm_k : Tensor<i8, Shape<4, 16, 32>, q_in> {};
struct bm_out : Tensor<i8, Shape<4, 16, 16>, q_out> {};
using batch_matmul = BatchMatMul<bm_q, bm_k, bm_out, BatchMatMulOptions{.adj_y = true}>;

// SVDF of issue 13: a keyword spotter's layer, 40 features -> 64 units, rank 1, memory 8, int16 state.
inline constexpr Quant q_svdf_state{0.002f, 0};
struct sv_in : Tensor<i8, Shape<1, 40>, q_in> {};
struct sv_state : StateTensor<std::int16_t, Shape<1, 64 * 8>, q_svdf_state> {};
struct sv_out : Tensor<i8, Shape<1, 64>, q_out> {};
inline constexpr auto sv_wf = pseudo_random<64 * 40>(7);
inline constexpr auto sv_wt = [] {
  std::array<std::int16_t, 64 * 8> w{};
  const auto r = pseudo_random<64 * 8>(8);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<std::int16_t>(r[i] * 32);
  return w;
}();
inline constexpr auto sv_b = biases<64>();
inline constexpr float sv_scales[2] = {0.004f, 0.0001f};
using svdf = Svdf<sv_in, sv_state, sv_out, sv_wf, sv_wt, sv_b, sv_scales>;

// 16x8 mode activations (int16 in and out, zero points 0): TFLM's sigmoid table (Logistic, Tanh)
// and the int16 Softmax's two compiler-computed tables.
inline constexpr Quant q16_in{8.0f / 32768, 0};
inline constexpr Quant q16_unit{1.0f / 32768, 0};
struct a16_x : Tensor<std::int16_t, Shape<1, 16, 16, 32>, q16_in> {};
struct a16_y : Tensor<std::int16_t, Shape<1, 16, 16, 32>, q16_unit> {};
using logistic16 = Logistic<a16_x, a16_y>;
using tanh16 = Tanh<a16_x, a16_y>;
struct logits16 : Tensor<std::int16_t, Shape<16, 12>, q16_in> {};
struct probabilities16 : Tensor<std::int16_t, Shape<16, 12>, q16_unit> {};
using softmax16 = Softmax<logits16, probabilities16>;

void run_svdf(benchmark::State& state) {
  static std::array<i8, sv_in::size> input = pseudo_random<sv_in::size>(9);
  static std::array<std::int16_t, sv_state::size> memory{};
  static std::array<i8, sv_out::size> output{};
  for (auto _ : state) {
    svdf::run(input.data(), memory.data(), output.data());
    benchmark::DoNotOptimize(output.data());
    benchmark::ClobberMemory();
  }
  state.counters["MACs"] = static_cast<double>(svdf::macs);
}

template <class Op>
void run_binary(benchmark::State& state) {
  using In1 = type_at<0, typename Op::inputs>;
  using In2 = type_at<1, typename Op::inputs>;
  using Out = typename Op::output;
  static std::array<typename In1::element, In1::size> a = pseudo_random<In1::size>(10);
  static std::array<typename In2::element, In2::size> b = pseudo_random<In2::size>(11);
  static std::array<typename Out::element, Out::size> output{};
  for (auto _ : state) {
    Op::run(a.data(), b.data(), output.data());
    benchmark::DoNotOptimize(output.data());
    benchmark::ClobberMemory();
  }
}

template <class Op>
void run_op(benchmark::State& state) {
  using In = type_at<0, typename Op::inputs>;
  using Out = typename Op::output;
  static std::array<typename In::element, In::size> input = pseudo_random<In::size, typename In::element>(9);
  static std::array<typename Out::element, Out::size> output{};
  for (auto _ : state) {
    Op::run(input.data(), output.data());
    benchmark::DoNotOptimize(output.data());
    benchmark::ClobberMemory();
  }
  state.counters["MACs"] = static_cast<double>(Op::macs);
}

}  // namespace

BENCHMARK(run_op<fully_connected>)->Name("FullyConnected 256->64");
BENCHMARK(run_op<pointwise>)->Name("Conv2D 1x1 64->64 @25x5");
BENCHMARK(run_op<depthwise>)->Name("DepthwiseConv2D 3x3 64ch @25x5");
BENCHMARK(run_op<conv3x3>)->Name("Conv2D 3x3 16->16 @32x32");
BENCHMARK(run_op<softmax>)->Name("Softmax 12");
BENCHMARK(run_svdf)->Name("Svdf 40->64 rank 1 memory 8 (int16 state)");
BENCHMARK(run_op<mul_channel>)->Name("Mul by constant [C] 16x16x32");
BENCHMARK(run_binary<mul_same_shape>)->Name("Mul 16x16x32");
BENCHMARK(run_binary<maximum>)->Name("Maximum 16x16x32");
BENCHMARK(run_binary<squared_difference>)->Name("SquaredDifference 16x16x32");
BENCHMARK(run_op<div_channel>)->Name("Div by constant [C] 16x16x32");
BENCHMARK(run_op<prelu>)->Name("Prelu alpha [C] 16x16x32");
BENCHMARK(run_op<hard_swish>)->Name("HardSwish 16x16x32");
BENCHMARK(run_op<abs_op>)->Name("Abs 16x16x32");
BENCHMARK(run_op<elu>)->Name("Elu 16x16x32");
BENCHMARK(run_op<sum_hw>)->Name("Sum over H,W 16x16x32");
BENCHMARK(run_op<mean_c>)->Name("Mean over C 16x16x32");
BENCHMARK(run_op<reduce_max_c>)->Name("ReduceMax over C 16x16x32");
BENCHMARK(run_op<rsqrt>)->Name("Rsqrt 16x16x32");
BENCHMARK(run_op<resize_bilinear>)->Name("ResizeBilinear x2 16x16x32");
BENCHMARK(run_op<l2_normalization>)->Name("L2Normalization over C 16x16x32");
BENCHMARK(run_op<log_softmax>)->Name("LogSoftmax over C 16x16x32");
BENCHMARK(run_binary<batch_matmul>)->Name("BatchMatMul 4x16x32 by 4x16x32 adj_y");
BENCHMARK(run_op<logistic16>)->Name("Logistic int16 16x16x32");
BENCHMARK(run_op<tanh16>)->Name("Tanh int16 16x16x32");
BENCHMARK(run_op<softmax16>)->Name("Softmax int16 16x12");
BENCHMARK(run_op<transpose_conv>)->Name("TransposeConv 3x3 s2 16->16 @8x8->16x16");

BENCHMARK_MAIN();
