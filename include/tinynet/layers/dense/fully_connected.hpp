// FullyConnected: out[b][o] = act(bias[o] + sum_i weights[o][i] * in[b][i]).
//
// int8 follows TFLM's reference_integer_ops::FullyConnected (per-tensor) and
// FullyConnectedPerChannel: acc = bias + sum w * (x - input_zero_point), requantized with the
// channel's multiplier, plus the output zero point, clamped to the fused activation's range.
// The input zero point term is folded into the bias by the compiler.
//
// Pruned int8 layers can run in a sparse form (Options.sparse_form, core/sparsity.hpp): `unrolled`
// (unrolled_rows.hpp) or `compressed` (compressed_rows.hpp) compute the same dot products over the
// non-zero weights only; the folded bias and the requantization are shared with the dense kernel,
// so every form gives the same bytes. int16 (16x8) and float layers always run the dense kernel.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#include "../../core/activation_range.hpp"
#include "../../core/constant_array.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/dot.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/host_dense.hpp"
#include "../../core/output_stage.hpp"
#include "../../core/requantize.hpp"
#include "../../core/sparsity.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "compressed_rows.hpp"
#include "unrolled_rows.hpp"

namespace tinynet {

struct FullyConnectedOptions {
  Activation activation = Activation::none;
  SparseForm sparse_form = SparseForm::automatic;  // int8 only; see core/sparsity.hpp
};

template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales,
          FullyConnectedOptions Options = FullyConnectedOptions{}>
struct FullyConnected {
  using inputs = TypeList<In>;
  using output = Out;
  using input_element = typename In::element;
  using output_element = typename Out::element;

  // Shapes: weights are [units][input_depth]; the input is flattened to [batches][input_depth].
  static constexpr int units = Out::shape::dim(-1);
  static constexpr int input_depth = array_size<Weights> / units;
  static constexpr int batches = Out::size / units;

  static_assert(size_mismatch<FullyConnected, units * input_depth, array_size<Weights>>::ok);
  static_assert(input_shape_mismatch<FullyConnected, Shape<batches, input_depth>, typename In::shape,
                                     In::size == batches * input_depth>::ok);
  static_assert(size_mismatch<FullyConnected, has_bias<Bias> ? units : 0, array_size<Bias>>::ok);
  static_assert(element_type_mismatch<FullyConnected, input_element, output_element>::ok);

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = std::uint64_t{batches} * units * input_depth;

  // ---- int8 -------------------------------------------------------------------------------
  static constexpr bool is_quantized = !In::is_float;
  // TFLite's 16x8 mode (int16 activations, int8 weights) accumulates in 64 bits with an int64
  // bias and requantizes with the 64-bit MultiplyByQuantizedMultiplier.
  using accumulator = std::conditional_t<std::is_same_v<input_element, std::int16_t>, std::int64_t, std::int32_t>;
  static constexpr int scale_count = is_quantized ? array_size<WeightScales> : 1;
  static constexpr bool per_channel = scale_count > 1;
  static_assert(!is_quantized || scale_count == 1 || scale_count == units,
                "tinynet::FullyConnected: weight scales must have 1 (per-tensor) or `units` entries");

  // bias - input_zero_point * sum_i weights[o][i]   (TFLite: acc += w * (x + input_offset))
  static constexpr std::array<accumulator, units> folded_bias = [] {
    std::array<accumulator, units> out{};
    if constexpr (is_quantized) {
      for (int o = 0; o < units; ++o) {
        accumulator weight_sum = 0;
        for (int i = 0; i < input_depth; ++i) weight_sum += Weights[o * input_depth + i];
        accumulator bias = 0;
        if constexpr (has_bias<Bias>) bias = static_cast<accumulator>(Bias[o]);
        out[static_cast<std::size_t>(o)] = bias - In::zero_point * weight_sum;
      }
    }
    return out;
  }();

  static constexpr int multiplier_count = per_channel ? units : 1;
  static constexpr ChannelMultipliers<multiplier_count> multipliers = [] {
    if constexpr (is_quantized) {
      return channel_multipliers<multiplier_count, scale_count>(
          In::scale, WeightScales, Out::scale, per_channel ? ScaleProduct::in_double : ScaleProduct::in_float);
    } else {
      return ChannelMultipliers<multiplier_count>{};
    }
  }();

  static constexpr QuantizedRange range =
      is_quantized ? activation_range<output_element>(Options.activation, Out::scale, Out::zero_point)
                   : QuantizedRange{0, 0};

  // ---- sparsity ----------------------------------------------------------------------------
  static constexpr int nonzero_weights = sparsity::count_nonzeros(Weights, 0, units * input_depth);
  // The form this layer runs in: the requested one, or the automatic rule's (core/sparsity.hpp).
  static constexpr SparseForm sparse_form =
      sparsity::choose(Options.sparse_form, std::is_same_v<input_element, std::int8_t>, nonzero_weights,
                       static_cast<long long>(units) * input_depth);
  using unrolled_rows = kernels::UnrolledRows<Weights, units, input_depth>;
  using compressed_rows = kernels::CompressedRows<Weights, units, input_depth>;

  // Flash the layer's constants take: the weights as stored by its form (none for `unrolled`,
  // whose weights are instructions), the folded bias and the multipliers.
  static constexpr std::size_t stored_weight_bytes = [] {
    if constexpr (sparse_form == SparseForm::unrolled) return std::size_t{0};
    else if constexpr (sparse_form == SparseForm::compressed) return compressed_rows::table_bytes;
    else return sizeof(Weights);
  }();
  static constexpr std::size_t weight_bytes =
      stored_weight_bytes + (is_quantized ? sizeof(folded_bias) + 2 * sizeof(std::int32_t) * multiplier_count
                                          : (has_bias<Bias> ? sizeof(Bias) : 0));

  // |acc| <= |folded_bias| + 128 * sum |w| per unit, the largest over all units when the
  // multiplier is per-tensor (int8 inputs; core/output_stage.hpp).
  static constexpr std::array<std::int64_t, multiplier_count> accumulator_bound = [] {
    std::array<std::int64_t, multiplier_count> out{};
    if constexpr (is_quantized) {
      for (int o = 0; o < units; ++o) {
        std::int64_t magnitude = 0;
        for (int i = 0; i < input_depth; ++i) {
          const std::int64_t w = Weights[o * input_depth + i];
          magnitude += w < 0 ? -w : w;
        }
        const std::int64_t bias = static_cast<std::int64_t>(folded_bias[static_cast<std::size_t>(o)]);
        const std::int64_t bound = (bias < 0 ? -bias : bias) + 128 * magnitude;
        auto& entry = out[per_channel ? static_cast<std::size_t>(o) : 0];
        entry = entry > bound ? entry : bound;
      }
    }
    return out;
  }();
  static constexpr bool short_stage = std::is_same_v<input_element, std::int8_t> &&
                                      short_output_stage_applies<multiplier_count>(multipliers, accumulator_bound);
  static constexpr ShortOutputStage<multiplier_count> short_stage_table =
      short_output_stage<multiplier_count>(multipliers);

  static constexpr output_element requantize(std::int32_t acc, int o) {
    const std::size_t m = per_channel ? static_cast<std::size_t>(o) : 0;
    std::int32_t scaled;
    if constexpr (short_stage) {
      scaled = short_stage_table.scale(acc, m);
    } else {
      scaled = fixed::multiply_by_quantized_multiplier(acc, multipliers.multiplier[m], multipliers.shift[m]);
    }
    return static_cast<output_element>(clamp<range>(scaled + Out::zero_point));
  }

  // The input row is widened in blocks of at most 512 values: a bounded patch on the stack.
  static constexpr int block = input_depth < 512 ? input_depth : 512;
  static constexpr int tail = input_depth % block;

  template <int Count>
  static constexpr void accumulate_block(std::int16_t* patch, const input_element* row, int start, std::int32_t* acc) {
    for (int i = 0; i < Count; ++i) patch[kernels::patch_position<Count>(i)] = row[start + i];
    int o = 0;
    for (; o + 2 <= units; o += 2)
      kernels::dot_rows<Count, 2, std::int32_t, input_depth>(patch, &Weights[o * input_depth + start], acc + o);
    if (o < units) kernels::dot_rows<Count, 1, std::int32_t, input_depth>(patch, &Weights[o * input_depth + start], acc + o);
  }

  static constexpr void run(const input_element* in, output_element* out) {
    if constexpr (sparse_form == SparseForm::unrolled) {
      // Each row's dot product is written out and requantized at once.
      for (int b = 0; b < batches; ++b) {
        output_element* out_row = out + b * units;
        unrolled_rows::run(in + b * input_depth, [out_row](int o, std::int32_t dot) {
          out_row[o] = requantize(folded_bias[static_cast<std::size_t>(o)] + dot, o);
        });
      }
    } else if constexpr (sparse_form == SparseForm::compressed) {
      // The dot products of up to 32 rows, then their requantization: two short loops keep their
      // values in registers, and the stack holds 32 accumulators, not one per unit.
      constexpr int rows_per_pass = units < 32 ? units : 32;
      for (int b = 0; b < batches; ++b) {
        std::size_t entry = 0;  // where the next row starts in the compressed tables
        for (int o = 0; o < units; o += rows_per_pass) {
          const int rows = units - o < rows_per_pass ? units - o : rows_per_pass;
          std::int32_t acc[rows_per_pass];
          compressed_rows::run(in + b * input_depth, o, rows, acc, entry);
          for (int r = 0; r < rows; ++r)
            out[b * units + o + r] = requantize(folded_bias[static_cast<std::size_t>(o + r)] + acc[r], o + r);
        }
      }
    } else if constexpr (std::is_same_v<input_element, std::int8_t>) {
#if TINYNET_HOST_SIMD
      if (!std::is_constant_evaluated()) {
        host::Dense<FullyConnected, Weights>::run(in, out);  // core/host_dense.hpp
        return;
      }
#endif
      // Widen the input row into an int16 patch, one block at a time, and run two units per
      // pass over each block (core/dot.hpp).
      for (int b = 0; b < batches; ++b) {
        const input_element* row = in + b * input_depth;
        alignas(4) std::int16_t patch[block]{};
        if constexpr (input_depth == block) {
          // One block: each pair of units is finished and requantized at once (no accumulator array).
          for (int i = 0; i < input_depth; ++i) patch[kernels::patch_position<input_depth>(i)] = row[i];
          for (int o = 0; o + 2 <= units; o += 2) {
            std::int32_t acc[2] = {folded_bias[static_cast<std::size_t>(o)], folded_bias[static_cast<std::size_t>(o + 1)]};
            kernels::dot_rows<input_depth, 2>(patch, &Weights[o * input_depth], acc);
            out[b * units + o] = requantize(acc[0], o);
            out[b * units + o + 1] = requantize(acc[1], o + 1);
          }
          if constexpr (units % 2 != 0) {
            std::int32_t acc[1] = {folded_bias[static_cast<std::size_t>(units - 1)]};
            kernels::dot_rows<input_depth, 1>(patch, &Weights[(units - 1) * input_depth], acc);
            out[b * units + units - 1] = requantize(acc[0], units - 1);
          }
        } else {
          std::int32_t acc[units];
          for (int o = 0; o < units; ++o) acc[o] = folded_bias[static_cast<std::size_t>(o)];
          int start = 0;
          for (; start + block <= input_depth; start += block) accumulate_block<block>(patch, row, start, acc);
          if constexpr (tail > 0) accumulate_block<tail>(patch, row, start, acc);
          for (int o = 0; o < units; ++o) out[b * units + o] = requantize(acc[o], o);
        }
      }
    } else if constexpr (is_quantized) {
      for (int b = 0; b < batches; ++b) {
        const input_element* row = in + b * input_depth;
        for (int o = 0; o < units; ++o) {
          const std::int8_t* w = &Weights[o * input_depth];
          accumulator acc = folded_bias[static_cast<std::size_t>(o)];
          for (int i = 0; i < input_depth; ++i) acc += static_cast<accumulator>(w[i]) * row[i];
          const std::size_t m = per_channel ? static_cast<std::size_t>(o) : 0;
          const std::int32_t scaled = fixed::multiply_by_quantized_multiplier(acc, multipliers.multiplier[m], multipliers.shift[m]);
          out[b * units + o] = static_cast<output_element>(clamp(scaled + Out::zero_point, range));
        }
      }
    } else {
      constexpr FloatRange float_range = activation_range_float(Options.activation);
      for (int b = 0; b < batches; ++b) {
        const float* row = in + b * input_depth;
        for (int o = 0; o < units; ++o) {
          float total = 0.0f;
          for (int i = 0; i < input_depth; ++i) total += row[i] * Weights[o * input_depth + i];
          float bias = 0.0f;
          if constexpr (has_bias<Bias>) bias = Bias[o];
          out[b * units + o] = clamp_float(total + bias, float_range);
        }
      }
    }
  }
};

}  // namespace tinynet
