// Sequential: a chain of layers written by hand, without naming the tensors between them.
//
//   inline constexpr float w1[] = {...}, b1[] = {...};           // weights [out][in]
//   using net = tinynet::Sequential<tinynet::seq::Input<float, tinynet::Shape<1, 2>>,
//                                   tinynet::seq::Dense<w1, b1, tinynet::Activation::relu>,
//                                   tinynet::seq::Dense<w2, b2>>;
//
// Each entry after the input is a layer *builder*: given the previous tensor it names the op and
// the tensor that op produces. Sequential<...> is an ordinary Network.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/constant_array.hpp"
#include "core/quant.hpp"
#include "core/tensor.hpp"
#include "graph/network.hpp"
#include "layers/activation/softmax.hpp"
#include "layers/conv/conv2d.hpp"
#include "layers/conv/depthwise_conv2d.hpp"
#include "layers/dense/fully_connected.hpp"
#include "layers/pool/pool2d.hpp"
#include "layers/shape/reshape.hpp"

namespace tinynet {
namespace seq {

// The tensor produced by the Index-th entry of a Sequential.
template <class Element, class ShapeT, const Quant& Q, std::size_t Index>
struct Activations : Tensor<Element, ShapeT, Q> {};

template <class Element, class ShapeT, const Quant& Q = no_quant>
struct Input {
  template <std::size_t Index>
  using tensor = Activations<Element, ShapeT, Q, Index>;
};

namespace detail_seq {
// A Dense layer reads each sample of its input whole: its inputs are the values per sample (the
// input's size over its first dimension), its units the bias's length, and its weights must hold
// units x inputs values. When they do not, dense_weights_size_mismatch says so with the three
// counts, and zeros of the right size stand in for the weights so that the rest of the network
// still type-checks: one error, not a page of follow-on ones.
template <bool Ok, const auto& Weights, int Count>
struct dense_weights {
  static constexpr const auto& value = Weights;
};
template <const auto& Weights, int Count>
struct dense_weights<false, Weights, Count> {
  static constexpr std::remove_cvref_t<decltype(Weights[0])> value[Count] = {};
};

template <class Layer, class In, const auto& Weights, const auto& Bias>
struct dense_check {
  static constexpr int batches = In::shape::dim(0);
  static constexpr int units = array_size<Bias>;
  static constexpr int inputs = In::size / batches;
  static constexpr int expected = units * inputs;
  static constexpr bool ok =
      dense_weights_size_mismatch<Layer, diag::expected_values<expected>, diag::units<units>, diag::inputs<inputs>,
                                  diag::got_values<array_size<Weights>>, expected == array_size<Weights>>::ok;
  static constexpr const auto& weights = dense_weights<ok, Weights, expected>::value;
};
}  // namespace detail_seq

// FullyConnected, float: weights [units][inputs], bias [units].
template <const auto& Weights, const auto& Bias, Activation Act = Activation::none>
struct Dense {
  template <class In>
  using check = detail_seq::dense_check<Dense, In, Weights, Bias>;
  template <class In, std::size_t Index>
  using output = Activations<float, Shape<check<In>::batches, check<In>::units>, no_quant, Index>;
  template <class In, std::size_t Index>
  using op = FullyConnected<In, output<In, Index>, check<In>::weights, Bias, no_scales, FullyConnectedOptions{Act}>;
};

// FullyConnected, int8: weights int8 [units][inputs], bias int32 [units], weight scales [1] or
// [units], the output tensor's quantization, and the sparse form (core/sparsity.hpp).
template <const auto& Weights, const auto& Bias, const auto& WeightScales, const Quant& OutputQuant,
          Activation Act = Activation::none, SparseForm Form = SparseForm::automatic>
struct QuantizedDense {
  template <class In>
  using check = detail_seq::dense_check<QuantizedDense, In, Weights, Bias>;
  template <class In, std::size_t Index>
  using output = Activations<typename In::element, Shape<check<In>::batches, check<In>::units>, OutputQuant, Index>;
  template <class In, std::size_t Index>
  using op = FullyConnected<In, output<In, Index>, check<In>::weights, Bias, WeightScales,
                            FullyConnectedOptions{Act, Form}>;
};

namespace detail_seq {
template <class In, Conv2DOptions O, int OutChannels>
using conv_shape = Shape<NHWC<typename In::shape>::batches,
                         tinynet::detail::output_size(O.padding, NHWC<typename In::shape>::height, O.kernel_h, O.stride_h, O.dilation_h),
                         tinynet::detail::output_size(O.padding, NHWC<typename In::shape>::width, O.kernel_w, O.stride_w, O.dilation_w),
                         OutChannels>;
}  // namespace detail_seq

// Conv2D: OHWI weights; float when WeightScales is no_scales and OutputQuant no_quant.
template <const auto& Weights, const auto& Bias, Conv2DOptions Options, const auto& WeightScales = no_scales,
          const Quant& OutputQuant = no_quant>
struct Conv {
  template <class In, std::size_t Index>
  using output = Activations<typename In::element, detail_seq::conv_shape<In, Options, array_size<Bias>>, OutputQuant, Index>;
  template <class In, std::size_t Index>
  using op = Conv2D<In, output<In, Index>, Weights, Bias, WeightScales, Options>;
};

template <Pool2DOptions Options>
struct MaxPool {
  template <class In, std::size_t Index>
  using output = Activations<typename In::element,
                             detail_seq::conv_shape<In, Conv2DOptions{.kernel_h = Options.filter_h, .kernel_w = Options.filter_w,
                                                                      .stride_h = Options.stride_h, .stride_w = Options.stride_w,
                                                                      .padding = Options.padding},
                                                    NHWC<typename In::shape>::channels>,
                             In::quant, Index>;
  template <class In, std::size_t Index>
  using op = MaxPool2D<In, output<In, Index>, Options>;
};

template <Pool2DOptions Options>
struct AveragePool {
  template <class In, std::size_t Index>
  using output = typename MaxPool<Options>::template output<In, Index>;
  template <class In, std::size_t Index>
  using op = AveragePool2D<In, output<In, Index>, Options>;
};

struct Flatten {
  template <class In, std::size_t Index>
  using output = Activations<typename In::element, Shape<NHWC<typename In::shape>::batches, In::size / NHWC<typename In::shape>::batches>,
                             In::quant, Index>;
  template <class In, std::size_t Index>
  using op = Reshape<In, output<In, Index>>;
};

// int8 softmax output quantization fixed by TFLite.
inline constexpr Quant softmax_int8_quant{1.0f / 256.0f, -128};

struct SoftmaxLayer {
  template <class In, std::size_t Index>
  using output = Activations<typename In::element, typename In::shape, (In::is_float ? no_quant : softmax_int8_quant), Index>;
  template <class In, std::size_t Index>
  using op = Softmax<In, output<In, Index>>;
};

}  // namespace seq

namespace detail {
template <class Prev, std::size_t Index, class Ops, class... Builders>
struct build_sequential;
template <class Prev, std::size_t Index, class... Ops>
struct build_sequential<Prev, Index, TypeList<Ops...>> {
  using ops = TypeList<Ops...>;
  using last = Prev;
};
template <class Prev, std::size_t Index, class... Ops, class Builder, class... Rest>
struct build_sequential<Prev, Index, TypeList<Ops...>, Builder, Rest...> {
  using op = typename Builder::template op<Prev, Index>;
  using next = build_sequential<typename op::output, Index + 1, TypeList<Ops..., op>, Rest...>;
  using ops = typename next::ops;
  using last = typename next::last;
};

template <class In, class Out, class Ops>
struct network_from;
template <class In, class Out, class... Ops>
struct network_from<In, Out, TypeList<Ops...>> {
  using type = Network<Inputs<In>, Outputs<Out>, Ops...>;
};

template <class InputBuilder, class... Builders>
struct sequential {
  using input = typename InputBuilder::template tensor<0>;
  using chain = build_sequential<input, 1, TypeList<>, Builders...>;
  using type = typename network_from<input, typename chain::last, typename chain::ops>::type;
};
}  // namespace detail

template <class InputBuilder, class... Builders>
using Sequential = typename detail::sequential<InputBuilder, Builders...>::type;

}  // namespace tinynet
