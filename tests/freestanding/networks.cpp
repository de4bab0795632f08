// Compiled (not linked) for every Cortex-M CPU with -fno-exceptions -fno-rtti -Werror: the whole
// library, instantiated through the op types of the real models, must build freestanding.
#include <tinynet/tinynet.hpp>

namespace freestanding {
inline constexpr tinynet::Quant q{0.05f, -3};
inline constexpr tinynet::Quant q16{0.001f, 0};
inline constexpr tinynet::Quant softmax_q{1.0f / 256, -128};
struct image : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8, 8, 2>, q> {};
struct conv_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 4>, q> {};
struct dw_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 4>, q> {};
struct sum : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 4>, q> {};
struct pooled : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 1, 1, 4>, q> {};
struct flat : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4>, q> {};
struct logits : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 3>, q> {};
struct probabilities : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 3>, softmax_q> {};
inline constexpr std::int8_t conv_w[4 * 3 * 3 * 2] = {1, -2, 3, -4, 5, -6, 7, -8, 9};
inline constexpr std::int32_t bias4[4] = {10, -20, 30, -40};
inline constexpr float scales4[4] = {0.01f, 0.02f, 0.03f, 0.04f};
inline constexpr std::int8_t dw_w[3 * 3 * 4] = {2, -1, 3};
inline constexpr std::int8_t fc_w[3 * 4] = {5, 6, -7, 8};
inline constexpr std::int32_t bias3[3] = {1, 2, 3};
inline constexpr float scale1[1] = {0.02f};
using network = tinynet::Network<
    tinynet::Inputs<image>, tinynet::Outputs<probabilities>,
    tinynet::Conv2D<image, conv_out, conv_w, bias4, scales4,
                    tinynet::Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
                                           .padding = tinynet::Padding::same, .activation = tinynet::Activation::relu}>,
    tinynet::DepthwiseConv2D<conv_out, dw_out, dw_w, bias4, scales4,
                             tinynet::DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same}>,
    tinynet::Add<conv_out, dw_out, sum, tinynet::ArithmeticOptions{tinynet::Activation::relu6}>,
    tinynet::AveragePool2D<sum, pooled, tinynet::Pool2DOptions{.filter_h = 4, .filter_w = 4, .stride_h = 4, .stride_w = 4}>,
    tinynet::Reshape<pooled, flat>, tinynet::FullyConnected<flat, logits, fc_w, bias3, scale1>,
    tinynet::Softmax<logits, probabilities>>;

static_assert(network::arena_bytes <= 512, "RAM budget check a user can write");

// Pruned FullyConnected layers in each sparse form.
struct features : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 16>, q> {};
struct hidden : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 6>, q> {};
struct scores : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 5>, q> {};
struct scores2 : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 5>, q> {};
inline constexpr std::int8_t sparse_w1[6 * 16] = {0, 0, 3, 0, 0, 0, 0, -9, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 1};
inline constexpr std::int8_t sparse_w2[5 * 6] = {0, 7, 0, 0, 0, 0, 0, 0, -3, 0, 0, 2};
inline constexpr std::int32_t bias6[6] = {1, 2, 3, 4, 5, 6};
inline constexpr std::int32_t bias5[5] = {-1, -2, -3, -4, -5};
using sparse_network = tinynet::Network<
    tinynet::Inputs<features>, tinynet::Outputs<scores, scores2>,
    tinynet::FullyConnected<features, hidden, sparse_w1, bias6, scale1,
                            tinynet::FullyConnectedOptions{tinynet::Activation::relu, tinynet::SparseForm::unrolled}>,
    tinynet::FullyConnected<hidden, scores, sparse_w2, bias5, scale1,
                            tinynet::FullyConnectedOptions{tinynet::Activation::none, tinynet::SparseForm::compressed}>,
    tinynet::FullyConnected<hidden, scores2, sparse_w2, bias5, scale1>>;
static_assert(sparse_network::weight_bytes < sizeof(sparse_w1) + sizeof(sparse_w2) + 6 * 4 + 2 * 5 * 4 + 3 * 8,
              "the sparse forms store less than the dense weights");

// 4-bit weights kept packed (core/int4.hpp): a Conv2D, a DepthwiseConv2D and a FullyConnected over PackedInt4.
inline constexpr std::uint8_t conv_w4_bytes[4 * 3 * 3 * 2 / 2] = {0x87, 0xF1, 0x23, 0x9C, 0x45};
inline constexpr auto conv_w4 = tinynet::packed_int4<4 * 3 * 3 * 2>(conv_w4_bytes);
inline constexpr std::uint8_t fc_w4_bytes[3 * 4 / 2] = {0x18, 0x7F, 0x80};
inline constexpr auto fc_w4 = tinynet::packed_int4<3 * 4>(fc_w4_bytes);
inline constexpr std::uint8_t dw_w4_bytes[3 * 3 * 4 / 2] = {0x87, 0xF1, 0x23, 0x9C, 0x45, 0x61, 0x0E, 0xB2, 0x7A};
inline constexpr auto dw_w4 = tinynet::packed_int4<3 * 3 * 4>(dw_w4_bytes);
struct dw4_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 4>, q> {};
inline constexpr tinynet::DepthwiseConv2DOptions dw4_options{.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same};
using dw4_layer = tinynet::DepthwiseConv2D<conv_out, dw4_out, dw_w4, bias4, scales4, dw4_options>;
inline constexpr auto dw_w4_as_int8 = tinynet::unpack_int4<3 * 3 * 4>(dw_w4_bytes);
// 36 weights: int8 one byte each, packed int4 half a byte; on DSP cores the kernels' words instead,
// sign-extended halfwords (72 bytes) against five words of nibbles for the nine taps (20).
static_assert(dw4_layer::weight_bytes + (TINYNET_ARM_DSP ? 72 - 20 : 18) ==
                  tinynet::DepthwiseConv2D<conv_out, dw4_out, dw_w4_as_int8, bias4, scales4, dw4_options>::weight_bytes,
              "packed int4 depthwise weights take fewer bytes");
using int4_network = tinynet::Network<
    tinynet::Inputs<image>, tinynet::Outputs<logits>,
    tinynet::Conv2D<image, conv_out, conv_w4, bias4, scales4,
                    tinynet::Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
                                           .padding = tinynet::Padding::same, .activation = tinynet::Activation::relu}>,
    dw4_layer,
    tinynet::AveragePool2D<dw4_out, pooled, tinynet::Pool2DOptions{.filter_h = 4, .filter_w = 4, .stride_h = 4, .stride_w = 4}>,
    tinynet::Reshape<pooled, flat>, tinynet::FullyConnected<flat, logits, fc_w4, bias3, scale1>>;
static_assert(int4_network::weight_bytes - dw4_layer::weight_bytes < network::weight_bytes, "packed int4 weights take half the bytes");

// 16x8 mode.
struct wave : tinynet::Tensor<std::int16_t, tinynet::Shape<1, 1, 8, 2>, q16> {};
struct wave_out : tinynet::Tensor<std::int16_t, tinynet::Shape<1, 1, 6, 4>, q16> {};
struct wave_act : tinynet::Tensor<std::int16_t, tinynet::Shape<1, 1, 6, 4>, q16> {};
inline constexpr std::int8_t w16[4 * 1 * 3 * 2] = {3, -3};
inline constexpr std::int64_t b16[4] = {100, -100, 5, 0};
inline constexpr float alpha = 0.3f;
using network16 = tinynet::Network<
    tinynet::Inputs<wave>, tinynet::Outputs<wave_act>,
    tinynet::Conv2D<wave, wave_out, w16, b16, scales4, tinynet::Conv2DOptions{.kernel_h = 1, .kernel_w = 3}>,
    tinynet::LeakyRelu<wave_out, wave_act, alpha>>;

// The element-wise ops of issue 12: constant operands, broadcasting, int8, int16 and float.
struct ew_in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 2, 4>, q> {};
struct ew_scaled : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 2, 4>, q> {};
struct ew_swish : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 2, 4>, q> {};
struct ew_prelu : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 2, 4>, q> {};
struct ew_max : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 2, 4>, q> {};
struct ew_min : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 2, 4>, q> {};
struct ew_sqdiff : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 2, 4>, q> {};
struct ew_div : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 2, 4>, q> {};
struct ew_elu : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 2, 4>, q> {};
struct ew_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 2, 4>, q> {};
inline constexpr std::int8_t ew_factor_values[4] = {20, -20, 40, 60};
struct ew_factor : tinynet::ConstantTensor<std::int8_t, tinynet::Shape<4>, ew_factor_values, q> {};
using elementwise_network = tinynet::Network<
    tinynet::Inputs<ew_in>, tinynet::Outputs<ew_out>, tinynet::Mul<ew_in, ew_factor, ew_scaled>,
    tinynet::HardSwish<ew_scaled, ew_swish>, tinynet::Prelu<ew_swish, ew_factor, ew_prelu>,
    tinynet::Maximum<ew_prelu, ew_in, ew_max>, tinynet::Minimum<ew_max, ew_factor, ew_min>,
    tinynet::SquaredDifference<ew_min, ew_in, ew_sqdiff>, tinynet::Div<ew_sqdiff, ew_factor, ew_div>,
    tinynet::Elu<ew_div, ew_elu>, tinynet::Abs<ew_elu, ew_out>>;
struct ew16_in : tinynet::Tensor<std::int16_t, tinynet::Shape<2, 4>, q16> {};
struct ew16_sq : tinynet::Tensor<std::int16_t, tinynet::Shape<2, 4>, q16> {};
struct ew16_out : tinynet::Tensor<std::int16_t, tinynet::Shape<2, 4>, q16> {};
using elementwise_network16 =
    tinynet::Network<tinynet::Inputs<ew16_in>, tinynet::Outputs<ew16_out>, tinynet::Mul<ew16_in, ew16_in, ew16_sq>,
                     tinynet::Abs<ew16_sq, ew16_out>>;
struct ewf_in : tinynet::Tensor<float, tinynet::Shape<8>> {};
struct ewf_neg : tinynet::Tensor<float, tinynet::Shape<8>> {};
struct ewf_swish : tinynet::Tensor<float, tinynet::Shape<8>> {};
struct ewf_out : tinynet::Tensor<float, tinynet::Shape<8>> {};
inline constexpr float ewf_divisor_values[1] = {3.0f};
struct ewf_divisor : tinynet::ConstantTensor<float, tinynet::Shape<1>, ewf_divisor_values> {};
using elementwise_float =
    tinynet::Network<tinynet::Inputs<ewf_in>, tinynet::Outputs<ewf_out>, tinynet::Neg<ewf_in, ewf_neg>,
                     tinynet::HardSwish<ewf_neg, ewf_swish>, tinynet::Div<ewf_swish, ewf_divisor, ewf_out>>;
// Issue 12 reducers and math: Mean over a non-H,W axis, Sum, ReduceMax, Rsqrt (int8); Exp, Log,
// Sqrt (float).
inline constexpr tinynet::Quant rq{0.05f, -128};
struct rd_in : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 3, 4>, rq> {};
struct rd_mean : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 1, 4>, rq> {};
struct rd_sum : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 1, 1>, rq> {};
struct rd_max : tinynet::Tensor<std::int8_t, tinynet::Shape<2>, rq> {};
struct rd_out : tinynet::Tensor<std::int8_t, tinynet::Shape<2>, q> {};
using reduce_network = tinynet::Network<
    tinynet::Inputs<rd_in>, tinynet::Outputs<rd_out>, tinynet::Mean<rd_in, rd_mean, tinynet::axes(1)>,
    tinynet::Sum<rd_mean, rd_sum, tinynet::axes(2)>, tinynet::ReduceMax<rd_sum, rd_max, tinynet::axes(1, 2)>,
    tinynet::Rsqrt<rd_max, rd_out>>;
struct mf_in : tinynet::Tensor<float, tinynet::Shape<8>> {};
struct mf_exp : tinynet::Tensor<float, tinynet::Shape<8>> {};
struct mf_log : tinynet::Tensor<float, tinynet::Shape<8>> {};
struct mf_out : tinynet::Tensor<float, tinynet::Shape<8>> {};
using math_float = tinynet::Network<tinynet::Inputs<mf_in>, tinynet::Outputs<mf_out>, tinynet::Exp<mf_in, mf_exp>,
                                    tinynet::Log<mf_exp, mf_log>, tinynet::Sqrt<mf_log, mf_out>>;
// Issue 12 spatial and normalization ops: ResizeBilinear (x2, default flags: the generator's
// tables), SpaceToBatchNd and back, L2Normalization, LogSoftmax (int8 and float).
inline constexpr std::int32_t rb_index[16] = {0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3};
inline constexpr std::int32_t rb_fraction[8] = {0, 512, 0, 512, 0, 512, 0, 512};
inline constexpr float rb_float_fraction[8] = {0.0f, 0.5f, 0.0f, 0.5f, 0.0f, 0.5f, 0.0f, 0.5f};
inline constexpr tinynet::Quant l2_q{1.0f / 128, 0};
inline constexpr tinynet::Quant log_softmax_q{16.0f / 256, 127};
struct sp_in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4, 2>, q> {};
struct sp_up : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8, 8, 2>, q> {};
struct sp_batch : tinynet::Tensor<std::int8_t, tinynet::Shape<4, 5, 4, 2>, q> {};
struct sp_back : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8, 8, 2>, q> {};
struct sp_l2 : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8, 8, 2>, l2_q> {};
struct sp_out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8, 8, 2>, log_softmax_q> {};
using spatial_network = tinynet::Network<
    tinynet::Inputs<sp_in>, tinynet::Outputs<sp_out>,
    tinynet::ResizeBilinear<sp_in, sp_up, rb_index, rb_fraction, rb_index, rb_fraction>,
    tinynet::SpaceToBatchNd<sp_up, sp_batch, tinynet::SpaceBatchOptions{.block_h = 2, .block_w = 2, .top = 1, .bottom = 1}>,
    tinynet::BatchToSpaceNd<sp_batch, sp_back, tinynet::SpaceBatchOptions{.block_h = 2, .block_w = 2, .top = 1, .bottom = 1}>,
    tinynet::L2Normalization<sp_back, sp_l2>, tinynet::LogSoftmax<sp_l2, sp_out>>;
struct spf_in : tinynet::Tensor<float, tinynet::Shape<1, 4, 4, 2>> {};
struct spf_up : tinynet::Tensor<float, tinynet::Shape<1, 8, 8, 2>> {};
struct spf_l2 : tinynet::Tensor<float, tinynet::Shape<1, 8, 8, 2>> {};
struct spf_out : tinynet::Tensor<float, tinynet::Shape<1, 8, 8, 2>> {};
using spatial_float = tinynet::Network<
    tinynet::Inputs<spf_in>, tinynet::Outputs<spf_out>,
    tinynet::ResizeBilinear<spf_in, spf_up, rb_index, rb_float_fraction, rb_index, rb_float_fraction>,
    tinynet::L2Normalization<spf_up, spf_l2>, tinynet::LogSoftmax<spf_l2, spf_out>>;

// Hybrid (float activations, int8 weights): per-channel Conv2D (asymmetric inputs), DepthwiseConv2D,
// FullyConnected with asymmetric_quantize_inputs.
struct hy_in : tinynet::Tensor<float, tinynet::Shape<1, 8, 8, 2>> {};
struct hy_conv : tinynet::Tensor<float, tinynet::Shape<1, 4, 4, 4>> {};
struct hy_dw : tinynet::Tensor<float, tinynet::Shape<1, 4, 4, 4>> {};
struct hy_flat : tinynet::Tensor<float, tinynet::Shape<1, 64>> {};
struct hy_out : tinynet::Tensor<float, tinynet::Shape<1, 3>> {};
inline constexpr float hy_bias4[4] = {0.5f, -0.25f, 0.0f, 1.0f};
inline constexpr std::int8_t hy_fc_w[3 * 64] = {5, -6, 7, 127};
inline constexpr float hy_bias3[3] = {0.1f, 0.2f, 0.3f};
using hybrid_network = tinynet::Network<
    tinynet::Inputs<hy_in>, tinynet::Outputs<hy_out>,
    tinynet::Conv2D<hy_in, hy_conv, conv_w, hy_bias4, scales4,
                    tinynet::Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2,
                                           .padding = tinynet::Padding::same, .activation = tinynet::Activation::relu}>,
    tinynet::DepthwiseConv2D<hy_conv, hy_dw, dw_w, hy_bias4, scales4,
                             tinynet::DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = tinynet::Padding::same}>,
    tinynet::Reshape<hy_dw, hy_flat>,
    tinynet::FullyConnected<hy_flat, hy_out, hy_fc_w, hy_bias3, scale1,
                            tinynet::FullyConnectedOptions{tinynet::Activation::none, tinynet::SparseForm::automatic, true}>>;
}  // namespace freestanding

alignas(16) static std::byte arena[freestanding::network::arena_bytes];
alignas(16) static std::byte arena16[freestanding::network16::arena_bytes];
alignas(16) static std::byte sparse_arena[freestanding::sparse_network::arena_bytes];
alignas(16) static std::byte int4_arena[freestanding::int4_network::arena_bytes];
alignas(16) static std::byte ew_arena[freestanding::elementwise_network::arena_bytes];
alignas(16) static std::byte ew16_arena[freestanding::elementwise_network16::arena_bytes];
alignas(16) static std::byte ewf_arena[freestanding::elementwise_float::arena_bytes];
alignas(16) static std::byte reduce_arena[freestanding::reduce_network::arena_bytes];
alignas(16) static std::byte math_arena[freestanding::math_float::arena_bytes];
alignas(16) static std::byte spatial_arena[freestanding::spatial_network::arena_bytes];
alignas(16) static std::byte spatial_float_arena[freestanding::spatial_float::arena_bytes];
alignas(16) static std::byte hybrid_arena[freestanding::hybrid_network::arena_bytes];

extern "C" int tinynet_freestanding_entry() {
  freestanding::network::invoke(arena);
  freestanding::network16::invoke(arena16);
  freestanding::sparse_network::invoke(sparse_arena);
  freestanding::int4_network::invoke(int4_arena);
  freestanding::elementwise_network::invoke(ew_arena);
  freestanding::elementwise_network16::invoke(ew16_arena);
  freestanding::elementwise_float::invoke(ewf_arena);
  freestanding::reduce_network::invoke(reduce_arena);
  freestanding::math_float::invoke(math_arena);
  freestanding::spatial_network::invoke(spatial_arena);
  freestanding::spatial_float::invoke(spatial_float_arena);
  freestanding::hybrid_network::invoke(hybrid_arena);
  return freestanding::network::output(arena)[0] + freestanding::network16::output(arena16)[0] +
         freestanding::sparse_network::output<0>(sparse_arena)[0] + freestanding::sparse_network::output<1>(sparse_arena)[0] +
         freestanding::int4_network::output(int4_arena)[0] +
         freestanding::elementwise_network::output(ew_arena)[0] + freestanding::elementwise_network16::output(ew16_arena)[0] +
         static_cast<int>(freestanding::elementwise_float::output(ewf_arena)[0]) +
         freestanding::reduce_network::output(reduce_arena)[0] +
         static_cast<int>(freestanding::math_float::output(math_arena)[0]) +
         freestanding::spatial_network::output(spatial_arena)[0] +
         static_cast<int>(freestanding::spatial_float::output(spatial_float_arena)[0]) +
         static_cast<int>(freestanding::hybrid_network::output(hybrid_arena)[0]);
}
