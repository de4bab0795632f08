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
//
// Hybrid (float input and output, int8 weights): TFLite's fully_connected.cc EvalHybrid; each
// input row is quantized (symmetric, or asymmetric with Options.asymmetric_quantize_inputs) as it
// is widened into the patch (core/hybrid.hpp).
//
// int4 weights (core/int4.hpp): given as a std::array unpacked by the compiler, the layer is the
// int8 layer; given as a PackedInt4, the weights stay packed in flash (half the bytes) and the
// dense form unpacks them in its inner loop (kernels/int4_dot.hpp). The sparse forms read the
// values at compile time and store them as they always do.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#include "../../core/activation_range.hpp"
#include "../../core/channel_plan.hpp"
#include "../../core/constant_array.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/output_stage.hpp"
#include "../../core/requantize.hpp"
#include "../../core/sparsity.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "../../kernels/dot.hpp"
#include "../../kernels/int4_dot.hpp"
#include "../../kernels/unroll.hpp"
#include "../../kernels/x86_simd/dense.hpp"
#include "sparse_rows.hpp"

namespace tinynet {

struct FullyConnectedOptions {
  Activation activation = Activation::none;
  SparseForm sparse_form = SparseForm::automatic;  // int8 only; see core/sparsity.hpp
  bool asymmetric_quantize_inputs = false;         // hybrid only (TFLite's option of the same name)
};

namespace detail {
// FullyConnected's channel plan: unit o's weights are row o of the [units][depth] weights; a
// per-tensor layer has one multiplier, computed as TFLM's FullyConnected does.
template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales, FullyConnectedOptions Options,
          int Units = Out::shape::dim(-1), int Depth = array_size<Weights> / Units>
using fully_connected_plan = ChannelPlan<In, Out, Weights, Bias, WeightScales, Options.activation, Units,
                                         WeightLayout<Depth, Depth, 1>, MultiplierTable::shared_when_per_tensor>;

// An int8 input row widened into the patch (kernels::widen_patch) by a function of its own, not
// inlined: the layers of a network with the same depth share one copy (ad01's eight 128-deep
// layers: 1 KB less code for a call per layer). The patch is 4-byte aligned (alignas(4) in run()):
// told so, GCC stores each widened word pair with one STRD instead of through the stack.
template <int Count>
TINYNET_NOINLINE constexpr void widen_row(const std::int8_t* row, std::int16_t* patch) {
  kernels::widen_patch<Count, true>(row, patch);
}
}  // namespace detail

template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales,
          FullyConnectedOptions Options = FullyConnectedOptions{}>
struct FullyConnected : detail::fully_connected_plan<In, Out, Weights, Bias, WeightScales, Options> {
  using plan = detail::fully_connected_plan<In, Out, Weights, Bias, WeightScales, Options>;
  using plan::folded_bias, plan::multipliers, plan::range, plan::short_stage, plan::short_stage_table, plan::is_quantized,
      plan::is_hybrid, plan::per_channel, plan::multiplier_count, plan::requantize;
  using typename plan::accumulator;
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

  // ---- sparsity ----------------------------------------------------------------------------
  static constexpr int nonzero_weights = sparsity::count_nonzeros(Weights, 0, units * input_depth);
  // The form this layer runs in: the requested one, or the automatic rule's (core/sparsity.hpp).
  static constexpr SparseForm sparse_form =
      sparsity::choose(sparsity::LayerKind::fully_connected, Options.sparse_form, std::is_same_v<input_element, std::int8_t>,
                       nonzero_weights, static_cast<long long>(units) * input_depth,
                       kernels::NmRows<Weights, units, 1, input_depth>::nm_fit, sparsity::speed_build);
  static constexpr bool sparse = sparse_form != SparseForm::dense;
  using sparse_rows = kernels::SparseRows<Weights, units, input_depth, sparse ? sparse_form : SparseForm::unrolled>;
  using compressed_rows = kernels::CompressedRows<Weights, units, input_depth>;

  // Flash the layer's constants take: the weights as stored by its form (none for `unrolled`,
  // whose weights are instructions), the folded bias and the multipliers.
  static constexpr std::size_t stored_weight_bytes = [] {
    if constexpr (sparse) return sparse_rows::stored_weight_bytes;
    else return sizeof(Weights);
  }();
  static constexpr std::size_t weight_bytes = plan::weight_bytes_with(stored_weight_bytes);
  static constexpr const auto& weights = Weights;
  // The tables the kernels read: the weights as stored by the form (core/checksum.hpp).
  static constexpr auto constant_tables() {
    if constexpr (sparse) return plan::constant_tables_with(ConstantTables<>{}, sparse_rows::constant_tables());
    else return plan::constant_tables_with(ConstantTables<Weights>{});
  }

  // The input row is widened in blocks of at most 512 values: a bounded patch on the stack.
  static constexpr int block = input_depth < 512 ? input_depth : 512;
  static constexpr int tail = input_depth % block;

  // Layers of at least 1,024 multiply-accumulates (all ten of ad01) requantize each four outputs
  // of dot_4rows unrolled (no loop test per output) and widen their input in a shared function
  // (detail::widen_row, one copy per depth); smaller ones (the last layer of kws, vww or resnet,
  // a few passes) keep both inline and in a loop, which takes less code there.
  static constexpr bool big_layer = macs >= 1024;

  // Whether the weights are int4 packed two per byte (core/int4.hpp).
  static constexpr bool packed_int4 = is_packed_int4<std::remove_cvref_t<decltype(Weights)>>;

  // On DSP cores an int8 row deeper than 256 values is read in place (kernels::dot_rows_int8: two
  // SXTB16 per four inputs, shared by four units) instead of being widened into a patch of more
  // than 512 bytes of stack: 2 more instructions per 16 multiply-accumulates, and the accumulators
  // of a row split into blocks leave the stack too (ad01's 640-deep first layer: a 1,568-byte
  // frame before; micro_speech's 4,000-deep one: 1,104; docs/performance.md).
  static constexpr bool input_in_place = std::is_same_v<input_element, std::int8_t> && !is_hybrid && !sparse && !packed_int4 &&
                                         input_depth > 256 && kernels::int8_rows_apply<input_depth>;

  // out_row[o + k] = the requantized acc[k], k < 4: unrolled (no loop test per output) in layers of
  // at least 1,024 MACs (big_layer) and in the in-place path, a loop in small layers (less code).
  template <bool Unrolled>
  static constexpr void finish_four(const std::int32_t* acc, int o, output_element* out_row) {
    if constexpr (Unrolled) {
      TINYNET_UNROLL_4
      for (int k = 0; k < 4; ++k) out_row[o + k] = requantize(acc[k], o + k);
    } else {
      for (int k = 0; k < 4; ++k) out_row[o + k] = requantize(acc[k], o + k);
    }
  }

  // Four units per pass over the input row in place, requantized as they finish; the last
  // units % 4 together.
  static void run_in_place(const input_element* in, output_element* out) {
    for (int b = 0; b < batches; ++b) {
      const input_element* row = in + b * input_depth;
      output_element* out_row = out + b * units;
      int o = 0;
      for (; o + 4 <= units; o += 4) {
        std::int32_t acc[4];
        for (int k = 0; k < 4; ++k) acc[k] = folded_bias[static_cast<std::size_t>(o + k)];
        kernels::dot_rows_int8<input_depth, 4>(row, &Weights[o * input_depth], acc);
        finish_four<true>(acc, o, out_row);
      }
      if constexpr (units % 4 != 0) {
        constexpr int rest = units % 4;
        std::int32_t acc[rest];
        for (int k = 0; k < rest; ++k) acc[k] = folded_bias[static_cast<std::size_t>(o + k)];
        kernels::dot_rows_int8<input_depth, rest>(row, &Weights[o * input_depth], acc);
        for (int k = 0; k < rest; ++k) out_row[o + k] = requantize(acc[k], o + k);
      }
    }
  }

  static constexpr HybridInputs hybrid_inputs =
      Options.asymmetric_quantize_inputs ? HybridInputs::asymmetric : HybridInputs::symmetric;

  // acc[o] += the dot products of input values [start, start + Count) of row, widened to int16
  // by value (int8: as is; hybrid: q - offset).
  // Four units per pass where the target has a four-row kernel (each patch word serves four
  // rows; kernels::four_rows_apply), then two, then one.
  template <int Count>
  static constexpr void dot_units(const std::int16_t* patch, int start, std::int32_t* acc) {
    int o = 0;
    if constexpr (kernels::four_rows_apply<Count, input_depth>)
      for (; o + 4 <= units; o += 4)
        kernels::dot_rows<Count, 4, std::int32_t, input_depth>(patch, &Weights[o * input_depth + start], acc + o);
    for (; o + 2 <= units; o += 2)
      kernels::dot_rows<Count, 2, std::int32_t, input_depth>(patch, &Weights[o * input_depth + start], acc + o);
    if constexpr (units % 2 != 0)
      kernels::dot_rows<Count, 1, std::int32_t, input_depth>(patch, &Weights[o * input_depth + start], acc + o);
  }

  template <int Count, class Value>
  static constexpr void accumulate_block(std::int16_t* patch, const input_element* row, int start, std::int32_t* acc,
                                         Value value) {
    for (int i = 0; i < Count; ++i) patch[kernels::patch_position<Count>(i)] = value(row[start + i]);
    dot_units<Count>(patch, start, acc);
  }

  // int8: the block widened four values at a time on DSP cores (detail::widen_row).
  template <int Count>
  static constexpr void accumulate_block(std::int16_t* patch, const input_element* row, int start, std::int32_t* acc) {
    kernels::widen_patch<Count>(row + start, patch);
    dot_units<Count>(patch, start, acc);
  }

  static_assert(!packed_int4 || std::is_same_v<input_element, std::int8_t>,
                "tinynet: packed int4 weights are for int8 FullyConnected layers");

  // The dense form over packed int4 weights: the input row is widened in blocks (in the int4
  // kernel's order), two units per pass, and the sums requantized at the end.
  template <int Count>
  static constexpr void accumulate_block_int4(std::int16_t* patch, const input_element* row, int start, std::int32_t* acc) {
    kernels::widen_int4_patch<Count>(row + start, patch);  // (eight values at a time on DSP cores)
    const std::int32_t offset = kernels::int4_patch_offset<Count>(patch);
    int o = 0;
    for (; o + 2 <= units; o += 2)
      kernels::dot_rows_int4<Count, 2, input_depth, Weights>(patch, o * input_depth + start, offset, acc + o);
    if (o < units) kernels::dot_rows_int4<Count, 1, input_depth, Weights>(patch, o * input_depth + start, offset, acc + o);
  }

  static constexpr void run_packed_int4(const input_element* in, output_element* out) {
    static_assert(input_depth % 2 == 0, "tinynet: the packed int4 form needs an even input depth (each row "
                                        "starting at a byte); pass the weights unpacked (tinynet::unpack_int4)");
    for (int b = 0; b < batches; ++b) {
      const input_element* row = in + b * input_depth;
      alignas(4) std::int16_t patch[block]{};
      std::int32_t acc[units];
      for (int o = 0; o < units; ++o) acc[o] = folded_bias[static_cast<std::size_t>(o)];
      int start = 0;
      for (; start + block <= input_depth; start += block) accumulate_block_int4<block>(patch, row, start, acc);
      if constexpr (tail > 0) accumulate_block_int4<tail>(patch, row, start, acc);
      for (int o = 0; o < units; ++o) out[b * units + o] = requantize(acc[o], o);
    }
  }

  static constexpr void run(const input_element* in, output_element* out) {
    if constexpr (is_hybrid) {
      // Per row: its scale (one pass), then the int8 dot products block by block, scaled back.
      for (int b = 0; b < batches; ++b) {
        const float* row = in + b * input_depth;
        const HybridScale q = hybrid::input_scale<hybrid_inputs>(row, input_depth);
        const auto value = [q](float x) { return hybrid::centered<hybrid_inputs>(x, q); };
        alignas(4) std::int16_t patch[block]{};
        std::int32_t acc[units]{};
        int start = 0;
        for (; start + block <= input_depth; start += block) accumulate_block<block>(patch, row, start, acc, value);
        if constexpr (tail > 0) accumulate_block<tail>(patch, row, start, acc, value);
        for (int o = 0; o < units; ++o) out[b * units + o] = plan::finish_hybrid(acc[o], o, q.scale);
      }
    } else if constexpr (packed_int4 && sparse_form == SparseForm::dense) {
      run_packed_int4(in, out);
    } else if constexpr (sparse) {
      // The dot products of the non-zero weights (sparse_rows.hpp), requantized.
      for (int b = 0; b < batches; ++b) {
        output_element* out_row = out + b * units;
        sparse_rows::run(in + b * input_depth, [out_row](int o, std::int32_t dot) __attribute__((always_inline)) {
          out_row[o] = plan::template finish_sparse<1>(o, dot);
        });
      }
    } else if constexpr (std::is_same_v<input_element, std::int8_t>) {
      // At run time only: constant evaluation takes the patch below, so that the device tests'
      // expected bytes (Network::evaluate) come from the other path.
      if constexpr (input_in_place) {
        if (!std::is_constant_evaluated()) {
          run_in_place(in, out);
          return;
        }
      }
#if TINYNET_HOST_SIMD
      if (!std::is_constant_evaluated()) {
        host::Dense<FullyConnected, Weights>::run(in, out);  // kernels/x86_simd/dense.hpp
        return;
      }
#endif
      // Widen the input row into an int16 patch, one block at a time, and run two units per
      // pass over each block (kernels/dot.hpp).
      for (int b = 0; b < batches; ++b) {
        const input_element* row = in + b * input_depth;
        // Every value a kernel reads is written first (widen_patch): no clearing (a memset call).
        alignas(4) std::int16_t patch[block];
        if constexpr (input_depth == block) {
          // One block: each four (where kernels::four_rows_apply) or two units are finished and
          // requantized at once (no accumulator array).
          if constexpr (big_layer) detail::widen_row<input_depth>(row, patch);
          else kernels::widen_patch<input_depth>(row, patch);
          int o = 0;
          if constexpr (kernels::four_rows_apply<input_depth, input_depth>)
            for (; o + 4 <= units; o += 4) {
              std::int32_t acc[4];
              for (int k = 0; k < 4; ++k) acc[k] = folded_bias[static_cast<std::size_t>(o + k)];
              kernels::dot_rows<input_depth, 4>(patch, &Weights[o * input_depth], acc);
              finish_four<big_layer>(acc, o, out + b * units);
            }
          for (; o + 2 <= units; o += 2) {
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
          out[b * units + o] = plan::requantize_exact(acc, o);
        }
      }
    } else {
      for (int b = 0; b < batches; ++b) {
        const float* row = in + b * input_depth;
        for (int o = 0; o < units; ++o) {
          float total = 0.0f;
          for (int i = 0; i < input_depth; ++i) total += row[i] * Weights[o * input_depth + i];
          out[b * units + o] = plan::finish_float(total, o);
        }
      }
    }
  }
};

}  // namespace tinynet
