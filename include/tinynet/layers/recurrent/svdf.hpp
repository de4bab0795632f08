// Svdf: TFLite's SVDF (singular value decomposition filter), a rank-R approximation of a fully
// connected layer over the last `memory` frames, as TFLM's micro/kernels/svdf_common.cc computes it
// (EvalIntegerSvdfReference, EvalFloatSvdfReference). It keeps an activation state across invoke()
// calls: a StateTensor [batch][filters * memory] (graph/network.hpp plans it; docs/design.md, "State").
//
// Shapes: input [batch][input_size], weights_feature [filters][input_size] (int8 or float),
// weights_time [filters][memory] (int16 or int8 with int8 input; float), bias [units] (int32 or
// float; units = filters / rank), state [batch][filters * memory] of weights_time's type, output
// [batch][units]. Each invoke:
//   1. the state moves one frame to the left (the whole buffer shifts down one element; each
//      filter's last frame is then overwritten);
//   2. feature: for each batch b and filter f, the newest frame state[b][f][memory - 1] =
//        int8:  clamp(MultiplyByQuantizedMultiplier(sum_c wf[f][c] * (x[b][c] - input_zp), m1)
//                     + state_zp, state type range),  m1 = input_scale * wf_scale / state_scale
//        float: sum_c wf[f][c] * x[b][c] (float, in c order);
//   3. time: per filter, sum_m wt[f][m] * (state[b][f][m] - state_zp) (int32, wrapping as TFLM's
//      int32 additions do on the targets; float in m order);
//   4. per unit u: bias[u] + the sums of its `rank` filters f = u * rank + r, in r order; then
//        int8:  clamp(MultiplyByQuantizedMultiplier(total, m2) + output_zp, -128, 127),
//               m2 = state_scale * wt_scale / output_scale. TFLM's integer kernel applies no
//               fused activation (it clamps to the int8 range only), and neither does this one.
//        float: the fused activation as TFLM's ActivationValFloat (std::max / std::min).
// The scale products are computed in float and widened to double, as TFLM's PrepareSvdf does.
// `Scales` is {weights_feature scale, weights_time scale} (int8), or tinynet::no_scales (float).
// TFLM's two int32 scratch buffers (batch * filters and batch * units) are not needed: each unit's
// filters are summed as soon as they are computed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../../core/activation_range.hpp"
#include "../../core/constant_array.hpp"
#include "../../core/constant_tables.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/options.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

struct SvdfOptions {
  int rank = 1;
  Activation activation = Activation::none;  // applied by the float kernel only, as in TFLM
};

template <class In, class State, class Out, const auto& WeightsFeature, const auto& WeightsTime, const auto& Bias,
          const auto& Scales, SvdfOptions Options = SvdfOptions{}>
struct Svdf {
  using inputs = TypeList<In, State>;
  using output = Out;
  using state_element = typename State::element;
  static constexpr bool in_place = false;
  static constexpr bool is_float = In::is_float;

  static_assert(StateTensorType<State>, "tinynet::Svdf: the state must be a tinynet::StateTensor");
  static_assert(In::shape::rank == 2 && Out::shape::rank == 2 && State::shape::rank == 2,
                "tinynet::Svdf: input, state and output are 2-D ([batch][...])");
  static constexpr int batch = In::shape::dims[0];
  static constexpr int input_size = In::shape::dims[1];
  static constexpr int rank = Options.rank;
  static_assert(rank > 0, "tinynet::Svdf: rank must be at least 1");
  static constexpr int filters = array_size<WeightsFeature> / input_size;
  static_assert(size_mismatch<Svdf, filters * input_size, array_size<WeightsFeature>>::ok);
  static_assert(filters % rank == 0, "tinynet::Svdf: the number of filters must be a multiple of the rank");
  static constexpr int units = filters / rank;
  static constexpr int memory = filters > 0 ? array_size<WeightsTime> / filters : 0;
  static_assert(size_mismatch<Svdf, filters * memory, array_size<WeightsTime>>::ok);
  static_assert(output_shape_mismatch<Svdf, Shape<batch, units>, typename Out::shape>::ok);
  static_assert(input_shape_mismatch<Svdf, Shape<batch, filters * memory>, typename State::shape>::ok);
  static_assert(size_mismatch<Svdf, has_bias<Bias> ? units : 0, array_size<Bias>>::ok);

  static_assert(std::is_same_v<array_element<WeightsTime>, state_element>,
                "tinynet::Svdf: weights_time and the state must have one element type (TFLM's kernel reads both as one)");
  static_assert(is_float ? (std::is_same_v<typename Out::element, float> && std::is_same_v<state_element, float> &&
                            std::is_same_v<array_element<WeightsFeature>, float>)
                         : (std::is_same_v<typename In::element, std::int8_t> &&
                            std::is_same_v<typename Out::element, std::int8_t> &&
                            std::is_same_v<array_element<WeightsFeature>, std::int8_t> &&
                            (std::is_same_v<state_element, std::int16_t> || std::is_same_v<state_element, std::int8_t>)),
                "tinynet::Svdf: int8 input and output with int8 weights_feature and int16 or int8 weights_time and state, "
                "or float throughout (TFLM's SVDF kernels)");
  static_assert(!has_bias<Bias> || std::is_same_v<array_element<Bias>, std::conditional_t<is_float, float, std::int32_t>>,
                "tinynet::Svdf: the bias is int32 (int8 SVDF) or float");

  static constexpr std::uint64_t macs =
      static_cast<std::uint64_t>(batch) * static_cast<std::uint64_t>(filters) * static_cast<std::uint64_t>(input_size + memory);
  static constexpr std::size_t weight_bytes = sizeof(WeightsFeature) + sizeof(WeightsTime) + (has_bias<Bias> ? sizeof(Bias) : 0);
  static constexpr auto constant_tables() {
    if constexpr (has_bias<Bias>) {
      return ConstantTables<WeightsFeature, WeightsTime, Bias>{};
    } else {
      return ConstantTables<WeightsFeature, WeightsTime>{};
    }
  }

 private:
  static constexpr float feature_scale() {
    if constexpr (is_float) return 0.0f; else return Scales[0];
  }
  static constexpr float time_scale() {
    if constexpr (is_float) return 0.0f; else return Scales[1];
  }

 public:
  // PrepareSvdf: the products in float, widened to double, then QuantizeMultiplier.
  static constexpr QuantizedMultiplier feature_multiplier =
      is_float ? QuantizedMultiplier{} : quantize_multiplier(static_cast<double>(In::scale * feature_scale() / State::scale));
  static constexpr QuantizedMultiplier output_multiplier =
      is_float ? QuantizedMultiplier{} : quantize_multiplier(static_cast<double>(State::scale * time_scale() / Out::scale));

  static constexpr void run(const typename In::element* x, state_element* state, typename Out::element* y) {
    // 1. One frame to the left, the whole buffer at once (TFLM's loop).
    for (int i = 0; i + 1 < batch * filters * memory; ++i) state[i] = state[i + 1];
    if constexpr (is_float) {
      run_float(x, state, y);
    } else {
      run_integer(x, state, y);
    }
  }

 private:
  static constexpr void run_integer(const std::int8_t* x, state_element* state, std::int8_t* y) {
    constexpr std::int32_t state_min = std::numeric_limits<state_element>::min();
    constexpr std::int32_t state_max = std::numeric_limits<state_element>::max();
    constexpr std::int32_t input_zp = In::zero_point, state_zp = State::zero_point, output_zp = Out::zero_point;
    for (int b = 0; b < batch; ++b) {
      // 2. Feature: the newest frame of every filter.
      for (int f = 0; f < filters; ++f) {
        std::int32_t dot = 0;
        for (int c = 0; c < input_size; ++c)
          dot += static_cast<std::int32_t>(WeightsFeature[f * input_size + c]) * (static_cast<std::int32_t>(x[b * input_size + c]) - input_zp);
        std::int32_t v = fixed::multiply_by_quantized_multiplier(dot, feature_multiplier.multiplier, feature_multiplier.shift) + state_zp;
        v = v < state_min ? state_min : (v > state_max ? state_max : v);
        state[(b * filters + f) * memory + memory - 1] = static_cast<state_element>(v);
      }
      // 3-4. Time, then each unit's filters, bias first.
      for (int u = 0; u < units; ++u) {
        std::int32_t total = 0;
        if constexpr (has_bias<Bias>) total = Bias[u];
        for (int r = 0; r < rank; ++r) {
          const int f = u * rank + r;
          std::int32_t sum = 0;
          for (int m = 0; m < memory; ++m)
            sum = fixed::add_wrapping(sum, static_cast<std::int32_t>(WeightsTime[f * memory + m]) *
                                                (static_cast<std::int32_t>(state[(b * filters + f) * memory + m]) - state_zp));
          total = fixed::add_wrapping(total, sum);
        }
        std::int32_t out = fixed::multiply_by_quantized_multiplier(total, output_multiplier.multiplier, output_multiplier.shift) + output_zp;
        out = out < -128 ? -128 : (out > 127 ? 127 : out);
        y[b * units + u] = static_cast<std::int8_t>(out);
      }
    }
  }

  // TFLM's ActivationValFloat: std::max(0.f, a), std::max(-1.f, std::min(a, 1.f)), ...
  static constexpr float activate(float a) {
    const auto max_of = [](float p, float q) { return p < q ? q : p; };
    const auto min_of = [](float p, float q) { return q < p ? q : p; };
    switch (Options.activation) {
      case Activation::relu: return max_of(0.0f, a);
      case Activation::relu6: return max_of(0.0f, min_of(a, 6.0f));
      case Activation::relu_n1_to_1: return max_of(-1.0f, min_of(a, 1.0f));
      case Activation::none: break;
    }
    return a;
  }

  static constexpr void run_float(const float* x, float* state, float* y) {
    for (int b = 0; b < batch; ++b) {
      for (int f = 0; f < filters; ++f) {
        float dot = 0.0f;
        for (int c = 0; c < input_size; ++c) dot += WeightsFeature[f * input_size + c] * x[b * input_size + c];
        state[(b * filters + f) * memory + memory - 1] = dot;
      }
      for (int u = 0; u < units; ++u) {
        float total = 0.0f;
        if constexpr (has_bias<Bias>) total = Bias[u];
        for (int r = 0; r < rank; ++r) {
          const int f = u * rank + r;
          float sum = 0.0f;
          for (int m = 0; m < memory; ++m) sum += WeightsTime[f * memory + m] * state[(b * filters + f) * memory + m];
          total += sum;
        }
        y[b * units + u] = activate(total);
      }
    }
  }
};

}  // namespace tinynet
