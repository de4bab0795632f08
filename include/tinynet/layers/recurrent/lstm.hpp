// UnidirectionalSequenceLstm: TFLM's LSTM kernel (micro/kernels/unidirectional_sequence_lstm.cc,
// lstm_eval.h / lstm_eval.cc, lstm_eval_common.cc), the standard LSTM (all four gates; TFLM's
// kernel has no peephole, projection or layer norm, and neither has this one).
//
// Per time step and batch row, with gates in TFLite's order (input i, forget f, cell g, output o):
//   int8 (int16 cell state, LstmStep<int8_t, int8_t, int16_t, int32_t>):
//     z = sat16(sat16(MBQM(bias + W_x (x - x_zp))) + sat16(MBQM(W_h (h - h_zp))))   (Q3.12)
//     i, f, o = sigmoid_int16(z); g = tanh_int16(z)                                 (Q0.15)
//     cell = sat16(sat16(MBQM(f * cell)) + sat16(MBQM(i * g))), clipped to +-quantized_cell_clip
//     h = sat8(h_zp + MBQM(tanh_int16(cell) * o)); the step's output is h
//   float: the same with float FullyConnected sums, TFLM's float Logistic and std::tanh.
// MBQM is MultiplyByQuantizedMultiplier; every multiplier and shift is computed once by the
// generator (scripts/tinynet_py/ops/recurrent.py) as TFLM's Prepare does and passed in LstmParams.
// The input zero point term is folded into the bias by the compiler (and the hidden zero point
// into a recurrent bias); the dot products are kernels/dot.hpp's.
//
// Layout: input [batch, time, depth] ([time, batch, depth] when time_major), output likewise with
// `units` values; InputWeights [4][units][depth], RecurrentWeights [4][units][units], Bias
// [4][units] (int32, or float), gate by gate in the order i, f, g, o.
//
// State: the hidden state Hidden (the input's type, [batch, units]) and the cell state Cell (int16,
// or float) are tinynet::StateTensor inputs the op updates in place, so the sequence continues
// across invoke() calls; Network::reset() puts them back at TFLM's ResetVariableTensor values
// (hidden at its zero point, cell at 0). The step's output is the hidden state, copied.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "../../core/constant_array.hpp"
#include "../../core/constant_tables.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/sigmoid_table.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "../../kernels/dot.hpp"
#include "../activation/logistic_tanh.hpp"

namespace tinynet {

// What TFLM's LSTM Prepare computes (CreateGateParams, CreateInterGateMulParams,
// CreateLstmCellStateInfo). Gates are indexed i, f, g, o. Only time_major and cell_clip apply to
// float LSTMs.
struct LstmParams {
  bool time_major = false;
  float cell_clip = 0.0f;                    // 0: no clipping
  QuantizedMultiplier input_to_gate[4]{};    // input scale x weight scale / 2^-12
  QuantizedMultiplier recurrent_to_gate[4]{};  // hidden scale x weight scale / 2^-12
  QuantizedMultiplier forget_times_cell{};      // 2^-15 (cell scale cancels)
  QuantizedMultiplier input_times_cell_gate{};  // 2^-15 x 2^-15 / cell scale
  QuantizedMultiplier output_times_tanh{};      // 2^-15 x 2^-15 / hidden scale
  QuantizedMultiplier cell_tanh{};  // Tanh's input scaling of the cell state (multiplier 0: 3 << shift)
  std::int16_t quantized_cell_clip = 0;
};

namespace detail {

inline constexpr std::int32_t saturate16(std::int32_t x) { return x < -32768 ? -32768 : (x > 32767 ? 32767 : x); }

// reference_ops::Logistic (float): exp(x) below -9, 1 above 16.619047, else 1 / (1 + exp(-x)).
inline float lstm_sigmoid_float(float x) {
  if (x > 16.619047164916992188f) return 1.0f;
  if (x < -9.0f) return std::exp(x);
  return 1.0f / (1.0f + std::exp(-x));
}

}  // namespace detail

template <class In, class Hidden, class Cell, class Out, const auto& InputWeights, const auto& RecurrentWeights,
          const auto& Bias, const LstmParams& Params>
struct UnidirectionalSequenceLstm {
  using inputs = TypeList<In, Hidden, Cell>;
  using output = Out;
  using element = typename In::element;
  using cell_element = typename Cell::element;
  using bias_element = std::remove_cvref_t<decltype(Bias[0])>;
  static constexpr bool is_float = In::is_float;
  static_assert(StateTensorType<Hidden> && StateTensorType<Cell>,
                "tinynet::UnidirectionalSequenceLstm: the hidden and cell state must be tinynet::StateTensor types");
  static_assert(element_type_mismatch<UnidirectionalSequenceLstm, element, typename Hidden::element>::ok);
  static_assert(element_type_mismatch<UnidirectionalSequenceLstm, std::conditional_t<is_float, float, std::int16_t>,
                                      cell_element>::ok);
  static_assert(is_float || Cell::zero_point == 0,
                "tinynet::UnidirectionalSequenceLstm: the cell state's zero point must be 0 (TFLM's arithmetic assumes it)");
  static constexpr std::int32_t input_zero_point = is_float ? 0 : In::zero_point;
  static constexpr std::int32_t hidden_zero_point = is_float ? 0 : Hidden::zero_point;
  static_assert(is_float || std::is_same_v<element, std::int8_t>,
                "tinynet::UnidirectionalSequenceLstm: supported element types are int8 (int16 cell state) and float");
  static_assert(element_type_mismatch<UnidirectionalSequenceLstm, element, typename Out::element>::ok);
  static_assert(In::shape::rank == 3, "tinynet::UnidirectionalSequenceLstm: the input is [batch, time, depth]");

  static constexpr bool time_major = Params.time_major;
  static constexpr int batches = time_major ? In::shape::dim(1) : In::shape::dim(0);
  static constexpr int steps = time_major ? In::shape::dim(0) : In::shape::dim(1);
  static constexpr int depth = In::shape::dim(2);
  static constexpr int units = Out::shape::dim(2);
  static constexpr int gate_rows = 4 * units;

  static_assert(size_mismatch<UnidirectionalSequenceLstm, gate_rows * depth, array_size<InputWeights>>::ok);
  static_assert(size_mismatch<UnidirectionalSequenceLstm, gate_rows * units, array_size<RecurrentWeights>>::ok);
  static_assert(size_mismatch<UnidirectionalSequenceLstm, gate_rows, array_size<Bias>>::ok);
  static_assert(output_shape_mismatch<UnidirectionalSequenceLstm, Shape<In::shape::dim(0), In::shape::dim(1), units>,
                                      typename Out::shape>::ok);
  static_assert(size_mismatch<UnidirectionalSequenceLstm, batches * units, Hidden::size>::ok);
  static_assert(size_mismatch<UnidirectionalSequenceLstm, batches * units, Cell::size>::ok);
  static_assert(is_float ? std::is_same_v<bias_element, float> : std::is_same_v<bias_element, std::int32_t>,
                "tinynet::UnidirectionalSequenceLstm: the bias is int32 for int8 LSTMs, float for float ones");

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = std::uint64_t{batches} * steps * gate_rows * (depth + units);

  // bias - x_zp * sum(W_x) and -h_zp * sum(W_h), per gate row (the int8 path).
  static constexpr auto folded_input_bias = [] {
    std::array<std::int32_t, gate_rows> folded{};
    for (int r = 0; r < gate_rows; ++r) {
      std::int32_t sum = 0;
      for (int k = 0; k < depth; ++k) sum += InputWeights[r * depth + k];
      if constexpr (!is_float) folded[r] = Bias[r] - input_zero_point * sum;
    }
    return folded;
  }();
  static constexpr auto folded_recurrent_bias = [] {
    std::array<std::int32_t, gate_rows> folded{};
    for (int r = 0; r < gate_rows; ++r) {
      std::int32_t sum = 0;
      for (int k = 0; k < units; ++k) sum += RecurrentWeights[r * units + k];
      if constexpr (!is_float) folded[r] = -hidden_zero_point * sum;
    }
    return folded;
  }();

  static constexpr std::size_t weight_bytes =
      sizeof(InputWeights) + sizeof(RecurrentWeights) +
      (is_float ? sizeof(Bias) : sizeof(folded_input_bias) + sizeof(folded_recurrent_bias) + sizeof(detail::sigmoid_table_uint16));

  static constexpr auto constant_tables() {
    if constexpr (is_float) return ConstantTables<InputWeights, RecurrentWeights, Bias>{};
    else
      return ConstantTables<InputWeights, RecurrentWeights, folded_input_bias, folded_recurrent_bias,
                            detail::sigmoid_table_uint16>{};
  }

  // One gate's pre-activation (Q3.12) for every unit: the two FullyConnected layers of
  // CalculateLstmGate, each requantized and saturated to int16, and their saturating sum.
  static constexpr void gate_inputs(int gate, const std::int16_t* x_patch, const std::int16_t* h_patch, std::int16_t* z) {
    const QuantizedMultiplier mi = Params.input_to_gate[gate], mh = Params.recurrent_to_gate[gate];
    const auto finish = [&](int u, std::int32_t from_input, std::int32_t from_hidden) {
      const std::int32_t a = detail::saturate16(fixed::multiply_by_quantized_multiplier(from_input, mi.multiplier, mi.shift));
      const std::int32_t b = detail::saturate16(fixed::multiply_by_quantized_multiplier(from_hidden, mh.multiplier, mh.shift));
      z[u] = static_cast<std::int16_t>(detail::saturate16(a + b));
    };
    // Two units per pass (kernels/dot.hpp), as FullyConnected does.
    int u = 0;
    for (; u + 2 <= units; u += 2) {
      const int r = gate * units + u;
      std::int32_t from_input[2] = {folded_input_bias[static_cast<std::size_t>(r)],
                                    folded_input_bias[static_cast<std::size_t>(r + 1)]};
      kernels::dot_rows<depth, 2>(x_patch, &InputWeights[r * depth], from_input);
      std::int32_t from_hidden[2] = {folded_recurrent_bias[static_cast<std::size_t>(r)],
                                     folded_recurrent_bias[static_cast<std::size_t>(r + 1)]};
      kernels::dot_rows<units, 2>(h_patch, &RecurrentWeights[r * units], from_hidden);
      finish(u, from_input[0], from_hidden[0]);
      finish(u + 1, from_input[1], from_hidden[1]);
    }
    if constexpr (units % 2 != 0) {
      const int r = gate * units + units - 1;
      std::int32_t from_input[1] = {folded_input_bias[static_cast<std::size_t>(r)]};
      kernels::dot_rows<depth, 1>(x_patch, &InputWeights[r * depth], from_input);
      std::int32_t from_hidden[1] = {folded_recurrent_bias[static_cast<std::size_t>(r)]};
      kernels::dot_rows<units, 1>(h_patch, &RecurrentWeights[r * units], from_hidden);
      finish(units - 1, from_input[0], from_hidden[0]);
    }
  }

  static constexpr std::int32_t mul(std::int32_t a, std::int32_t b, QuantizedMultiplier m) {
    return fixed::multiply_by_quantized_multiplier(a * b, m.multiplier, m.shift);
  }

  // LstmStep for one batch row (rows do not interact, so row by row equals TFLM's batched step).
  static constexpr void step_int8(const element* x, element* h, std::int16_t* cell) {
    alignas(4) std::int16_t x_patch[depth]{};
    alignas(4) std::int16_t h_patch[units]{};
    for (int k = 0; k < depth; ++k) x_patch[kernels::patch_position<depth>(k)] = x[k];
    for (int k = 0; k < units; ++k) h_patch[kernels::patch_position<units>(k)] = h[k];
    std::int16_t gates[4][units]{};
    for (int gate = 0; gate < 4; ++gate) gate_inputs(gate, x_patch, h_patch, gates[gate]);
    for (int u = 0; u < units; ++u) {
      // Sigmoid and Tanh of the gates: Q3.12 in (multiplier 3, no shift), Q0.15 out.
      const std::int32_t i = detail::sigmoid_int16_lookup(detail::sigmoid_int16_input(gates[0][u], 0, 0));
      const std::int32_t f = detail::sigmoid_int16_lookup(detail::sigmoid_int16_input(gates[1][u], 0, 0));
      const std::int32_t g = detail::tanh_int16_lookup(detail::sigmoid_int16_input(gates[2][u], 0, 0));
      const std::int32_t o = detail::sigmoid_int16_lookup(detail::sigmoid_int16_input(gates[3][u], 0, 0));
      // UpdateLstmCell: forget x cell, input x cell gate (int16 MulElementwise), saturating add, clip.
      std::int32_t c = detail::saturate16(mul(f, cell[u], Params.forget_times_cell));
      c = detail::saturate16(c + detail::saturate16(mul(i, g, Params.input_times_cell_gate)));
      if constexpr (Params.cell_clip > 0.0f) {
        constexpr std::int32_t clip = Params.quantized_cell_clip;
        c = c > clip ? clip : (c < -clip ? -clip : c);
      }
      cell[u] = static_cast<std::int16_t>(c);
      // UpdateLstmHidden: tanh(cell) x output gate, to the hidden state's int8.
      const std::int32_t tanh_c = detail::tanh_int16_lookup(
          detail::sigmoid_int16_input(cell[u], Params.cell_tanh.multiplier, Params.cell_tanh.shift));
      const std::int32_t hidden = hidden_zero_point + mul(tanh_c, o, Params.output_times_tanh);
      h[u] = static_cast<element>(hidden < -128 ? -128 : (hidden > 127 ? 127 : hidden));
    }
  }

  static void step_float(const float* x, float* h, float* cell) {
    float gates[4][units];
    for (int gate = 0; gate < 4; ++gate) {
      for (int u = 0; u < units; ++u) {
        const int r = gate * units + u;
        float from_input = 0.0f, from_hidden = 0.0f;
        for (int k = 0; k < depth; ++k) from_input += x[k] * InputWeights[r * depth + k];
        for (int k = 0; k < units; ++k) from_hidden += h[k] * RecurrentWeights[r * units + k];
        const float z = (from_input + Bias[r]) + from_hidden;
        gates[gate][u] = gate == 2 ? std::tanh(z) : detail::lstm_sigmoid_float(z);
      }
    }
    for (int u = 0; u < units; ++u) {
      float c = gates[1][u] * cell[u] + gates[0][u] * gates[2][u];
      if constexpr (Params.cell_clip > 0.0f) c = c > Params.cell_clip ? Params.cell_clip : (c < -Params.cell_clip ? -Params.cell_clip : c);
      cell[u] = c;
      h[u] = std::tanh(c) * gates[3][u];
    }
  }

  // EvalLstm over the whole sequence, carrying the state ([batches][units] each).
  static constexpr void run(const element* in, element* hidden, cell_element* cell, element* out) {
    for (int b = 0; b < batches; ++b) {
      for (int t = 0; t < steps; ++t) {
        const int row = time_major ? t * batches + b : b * steps + t;
        if constexpr (is_float) step_float(in + row * depth, hidden + b * units, cell + b * units);
        else step_int8(in + row * depth, hidden + b * units, cell + b * units);
        for (int u = 0; u < units; ++u) out[row * units + u] = hidden[b * units + u];
      }
    }
  }
};

}  // namespace tinynet
