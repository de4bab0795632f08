// The channel plan of the weighted ops (Conv2D, DepthwiseConv2D, FullyConnected): everything the
// compiler derives per output channel from the weights, the bias and the scales, in one place.
//
//   acc[c] = folded_bias[c] + sum_i weight(c, i) * x_i          (int8: x_i without the zero point)
//   out[c] = clamp(MultiplyByQuantizedMultiplier(acc[c], multipliers[c]) + output_zero_point)
//
// The ops differ only in where weight i of channel c lies in their flat weight array: that is
// the plan's WeightLayout. Each op derives from its plan (so Op::folded_bias, Op::multipliers...
// are the plan's tables) and keeps its own geometry and kernels.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "activation_range.hpp"
#include "constant_array.hpp"
#include "constant_tables.hpp"
#include "fixed_point.hpp"
#include "hybrid.hpp"
#include "output_stage.hpp"
#include "requantize.hpp"

namespace tinynet {

// Channel c's weight i (i < PerChannel) is Weights[c * ChannelStride + i * WeightStride]:
// OHWI Conv2D and [units][depth] FullyConnected weights are <K, K, 1>; DepthwiseConv2D's
// [1][kh][kw][out_c] weights are <taps, 1, out_c>.
template <int PerChannel, int ChannelStride, int WeightStride>
struct WeightLayout {
  static constexpr int per_channel = PerChannel;
  static constexpr int index(int c, int i) { return c * ChannelStride + i * WeightStride; }
};

// One multiplier for all channels (a per-tensor FullyConnected, as TFLM computes it: the scale
// product in float) or one per channel, repeated when the weights are per-tensor (convolutions:
// in double, as TFLM's per-channel conv kernels).
enum class MultiplierTable { per_channel, shared_when_per_tensor };

template <class In, class Out, const auto& Weights, const auto& Bias, const auto& WeightScales, Activation Act,
          int Channels, class Layout, MultiplierTable Table = MultiplierTable::per_channel>
struct ChannelPlan {
  using input_element = typename In::element;
  using output_element = typename Out::element;
  using output = Out;
  static constexpr int channels = Channels;

  static constexpr bool is_quantized = !In::is_float;
  // Float activations with int8 weights and their scales (core/hybrid.hpp).
  static constexpr bool is_hybrid = In::is_float && std::is_same_v<array_element<Weights>, std::int8_t>;
  // TFLite's 16x8 mode (int16 activations, int8 weights) accumulates in 64 bits with an int64
  // bias and requantizes with the 64-bit MultiplyByQuantizedMultiplier.
  using accumulator = std::conditional_t<std::is_same_v<input_element, std::int16_t>, std::int64_t, std::int32_t>;
  static constexpr int scale_count = is_quantized || is_hybrid ? array_size<WeightScales> : 1;
  static constexpr bool per_channel = scale_count > 1;
  static_assert(!(is_quantized || is_hybrid) || scale_count == 1 || scale_count == Channels,
                "tinynet: weight scales must have 1 (per-tensor) or one entry per output channel");
  static constexpr bool shared_multiplier = Table == MultiplierTable::shared_when_per_tensor && !per_channel;
  static constexpr int multiplier_count = shared_multiplier ? 1 : Channels;

  // A hybrid layer whose per-channel scales are not all equal (TFLite's is_hybrid_per_channel).
  static constexpr bool hybrid_scales_differ = [] {
    if constexpr (is_hybrid) {
      for (int c = 1; c < scale_count; ++c)
        if (WeightScales[c] != WeightScales[0]) return true;
    }
    return false;
  }();

  // Which multiplier entry channel c uses.
  static constexpr std::size_t entry(int c) { return shared_multiplier ? 0 : static_cast<std::size_t>(c); }

  // bias - input_zero_point * sum_i weight(c, i)   (TFLite: acc += w * (x + input_offset)), in the
  // accumulator's type; folded_bias below stores it.
  static constexpr std::array<accumulator, Channels> folded_bias_values = [] {
    std::array<accumulator, Channels> out{};
    if constexpr (is_quantized) {
      for (int c = 0; c < Channels; ++c) {
        accumulator weight_sum = 0;
        for (int i = 0; i < Layout::per_channel; ++i) weight_sum += Weights[Layout::index(c, i)];
        accumulator bias = 0;
        if constexpr (has_bias<Bias>) bias = static_cast<accumulator>(Bias[c]);
        out[static_cast<std::size_t>(c)] = bias - In::zero_point * weight_sum;
      }
    }
    return out;
  }();
  // The folded bias as stored in flash, in the narrowest type that holds every channel exactly:
  // int16 when all fit (most 4-bit layers: their int32 biases are about 18 times smaller than at 8
  // bits, and so are the weight sums), the accumulator otherwise. Kernels read it by value
  // (folded_bias[c], widened to the accumulator), never through an int32 pointer.
  static constexpr bool narrow_folded_bias = [] {
    if constexpr (!is_quantized || !std::is_same_v<accumulator, std::int32_t>) return false;
    for (const auto value : folded_bias_values)
      if (value < -32768 || value > 32767) return false;
    return true;
  }();
  using folded_bias_element = std::conditional_t<narrow_folded_bias, std::int16_t, accumulator>;
  static constexpr std::array<folded_bias_element, Channels> folded_bias = [] {
    std::array<folded_bias_element, Channels> out{};
    for (std::size_t c = 0; c < static_cast<std::size_t>(Channels); ++c)
      out[c] = static_cast<folded_bias_element>(folded_bias_values[c]);
    return out;
  }();

  static constexpr ChannelMultipliers<multiplier_count> multipliers = [] {
    if constexpr (is_quantized) {
      return channel_multipliers<multiplier_count, scale_count>(
          In::scale, WeightScales, Out::scale, shared_multiplier ? ScaleProduct::in_float : ScaleProduct::in_double);
    } else {
      return ChannelMultipliers<multiplier_count>{};
    }
  }();

  static constexpr QuantizedRange range =
      is_quantized ? activation_range<output_element>(Act, Out::scale, Out::zero_point) : QuantizedRange{0, 0};
  static constexpr FloatRange float_range = activation_range_float(Act);

  // |acc| <= |folded_bias| + 128 * sum |w| per multiplier entry, the largest over the channels
  // that share it (int8 inputs; core/output_stage.hpp).
  static constexpr std::array<std::int64_t, multiplier_count> accumulator_bound = [] {
    std::array<std::int64_t, multiplier_count> out{};
    if constexpr (is_quantized) {
      for (int c = 0; c < Channels; ++c) {
        std::int64_t magnitude = 0;
        for (int i = 0; i < Layout::per_channel; ++i) {
          const std::int64_t w = Weights[Layout::index(c, i)];
          magnitude += w < 0 ? -w : w;
        }
        const std::int64_t bias = static_cast<std::int64_t>(folded_bias[static_cast<std::size_t>(c)]);
        const std::int64_t bound = (bias < 0 ? -bias : bias) + 128 * magnitude;
        auto& slot = out[entry(c)];
        slot = slot > bound ? slot : bound;
      }
    }
    return out;
  }();
  static constexpr bool short_stage = std::is_same_v<input_element, std::int8_t> &&
                                      short_output_stage_applies<multiplier_count>(multipliers, accumulator_bound);
  // The output zero point folded into the short stage's rounding words where it fits
  // (core/output_stage.hpp): requantize() then adds nothing after the shift.
  static constexpr std::int32_t short_stage_zero_point = [] {
    if constexpr (short_stage) return zero_point_foldable<multiplier_count>(multipliers, Out::zero_point) ? Out::zero_point : 0;
    else return 0;
  }();
  static constexpr ShortOutputStage<multiplier_count> short_stage_table =
      short_output_stage<multiplier_count>(multipliers, short_stage_zero_point);

  // The flash the plan's tables take beside the weights as the op stores them (stored_weights
  // bytes): the folded bias and the output stage the kernels read (the short stage's tables where
  // it applies, else the multipliers), or a float layer's bias. plan_tables false: the op's
  // kernels read records of their own instead (counted in stored_weights).
  static constexpr std::size_t weight_bytes_with(std::size_t stored_weights, bool plan_tables = true) {
    const std::size_t bias_bytes = has_bias<Bias> ? sizeof(Bias) : 0;
    if constexpr (is_hybrid) return stored_weights + sizeof(WeightScales) + bias_bytes;
    if (!plan_tables) return stored_weights;
    const std::size_t stage_bytes = short_stage ? sizeof(short_stage_table) : sizeof(multipliers);
    return stored_weights + (is_quantized ? sizeof(folded_bias) + stage_bytes : bias_bytes);
  }

  // The tables the op's kernels read (core/checksum.hpp): a float layer's weights and bias; a
  // quantized layer's weights as the op stores them (Stored: none when they are instructions),
  // the plan's tables and the op's own derived tables (Own).
  template <class Stored, class Own = ConstantTables<>>
  static constexpr auto constant_tables_with(Stored stored, Own own = {}) {
    if constexpr (is_hybrid) {
      if constexpr (has_bias<Bias>) return ConstantTables<Weights, Bias, WeightScales>{};
      else return ConstantTables<Weights, WeightScales>{};
    } else if constexpr (!is_quantized) {
      if constexpr (has_bias<Bias>) return ConstantTables<Weights, Bias>{};
      else return ConstantTables<Weights>{};
    } else {
      return []<const auto&... S, const auto&... O>(ConstantTables<S...>, ConstantTables<O...>) {
        return ConstantTables<S..., folded_bias, multipliers, O..., short_stage_table>{};
      }(stored, own);
    }
  }

  // The short stage's scaled value (ShortOutputStage::scale, or a kernel's own record of the same
  // words) to the output value: the zero point the rounding words do not hold, then the clamp.
  static constexpr std::int32_t short_stage_output_offset = Out::zero_point - short_stage_zero_point;
  [[gnu::always_inline]] static constexpr output_element after_short_scale(std::int32_t scaled) {
    return static_cast<output_element>(tinynet::after_short_scale<short_stage_output_offset, range>(scaled));
  }

  // An int8 accumulator of channel c to its output value: the short stage where it applies.
  // Ssat: clamp with the range as a compile-time constant (one SSAT on DSP cores); the kernels
  // that allocate registers better with the plain clamp pass false.
  template <bool Ssat = true>
  [[gnu::always_inline]] static constexpr output_element requantize(std::int32_t acc, int c) {
    if constexpr (short_stage && Ssat) return after_short_scale(short_stage_table.scale(acc, entry(c)));
    std::int32_t shifted;  // the scaled accumulator plus the output zero point
    if constexpr (short_stage) {
      shifted = short_stage_table.scale(acc, entry(c)) + (Out::zero_point - short_stage_zero_point);
    } else {
      shifted = fixed::multiply_by_quantized_multiplier(acc, multipliers.multiplier[entry(c)], multipliers.shift[entry(c)]) +
                Out::zero_point;
    }
    if constexpr (Ssat) {
      return static_cast<output_element>(clamp<range>(shifted));
    } else {
      return static_cast<output_element>(clamp(shifted, range));
    }
  }

  // A kernel whose weights and bias are constants in the instructions (the unrolled sparse form)
  // multiplies them by weight_scale and passes its accumulator to requantize_scaled: where the
  // short stage applies, its first step (doubling the accumulator) then costs nothing, one
  // instruction less per output.
  static constexpr int weight_scale = short_stage ? 2 : 1;
  [[gnu::always_inline]] static constexpr output_element requantize_scaled(std::int32_t scaled_acc, int c) {
    if constexpr (weight_scale == 2) return after_short_scale(short_stage_table.scale_doubled(scaled_acc, entry(c)));
    else return requantize(scaled_acc, c);
  }

  // to[k][c] = requantize(bias + dots[k], c) for several accumulators of channel c (a sparse
  // form's pixels). Where the short stage applies, its first step (doubling the accumulator) goes
  // to the terms, 2 * bias + 2 * dot (exact: it applies only where |2 * acc| < 2^31): the bias
  // doubles once, and each output takes one ADD with a shifted operand where bias + dot and its
  // doubling took two.
  template <class... Dots>
  [[gnu::always_inline]] static constexpr void requantize_each(std::int32_t bias, int c, output_element* const* to,
                                                               Dots... dots) {
    int k = 0;
    if constexpr (short_stage) {
      std::uint32_t twice_bias = static_cast<std::uint32_t>(bias) << 1;
#if defined(__arm__)
      // (In a register: GCC 12 shifted the bias again in every ADD, and the accumulator apart.)
      if (!std::is_constant_evaluated()) asm("" : "+r"(twice_bias));
#endif
      ((to[k++][c] = after_short_scale(short_stage_table.scale_doubled(
            static_cast<std::int32_t>(twice_bias + (static_cast<std::uint32_t>(dots) << 1)), entry(c)))),
       ...);
    } else {
      ((to[k++][c] = requantize(bias + dots, c)), ...);
    }
  }

  // The sparse forms' output stage, for every layer and form (layers/dense/sparse_rows.hpp): the
  // output of channel c from a dot product without the bias. Scale: how many times the kernel
  // gives its dot products, 1 or weight_scale (`unrolled`, whose constants come doubled where the
  // short stage applies: requantize_scaled); the folded bias is scaled to match.
  template <int Scale>
  [[gnu::always_inline]] static constexpr output_element finish_sparse(int c, std::int32_t dot) {
    static_assert(Scale == 1 || Scale == weight_scale);
    const std::int32_t bias = Scale * folded_bias[static_cast<std::size_t>(c)];
    if constexpr (Scale == 1) return requantize(bias + dot, c);
    else return requantize_scaled(bias + dot, c);
  }
  // to[k][c] = finish_sparse<Scale>(c, dots[k]) for the dot products of several pixels (Scale 1:
  // requantize_each, which doubles the bias once for them all).
  template <int Scale, class... Dots>
  [[gnu::always_inline]] static constexpr void finish_sparse_each(int c, output_element* const* to, Dots... dots) {
    static_assert(Scale == 1 || Scale == weight_scale);
    const std::int32_t bias = Scale * folded_bias[static_cast<std::size_t>(c)];
    if constexpr (Scale == 1) {
      requantize_each(bias, c, to, dots...);
    } else {
      int k = 0;
      ((to[k++][c] = requantize_scaled(bias + dots, c)), ...);
    }
  }

  // Any accumulator (int16 activations: 64 bits) with TFLM's formula.
  static constexpr output_element requantize_exact(accumulator acc, int c) {
    const std::int32_t scaled =
        fixed::multiply_by_quantized_multiplier(acc, multipliers.multiplier[entry(c)], multipliers.shift[entry(c)]);
    return static_cast<output_element>(clamp(scaled + Out::zero_point, range));
  }

  // A float layer's sum plus its bias, clamped to the activation's range.
  static constexpr float finish_float(float total, int c) {
    float bias = 0.0f;
    if constexpr (has_bias<Bias>) bias = Bias[c];
    return clamp_float(total + bias, float_range);
  }

  // A hybrid layer's int32 sum of channel c back to float (core/hybrid.hpp).
  static constexpr float finish_hybrid(std::int32_t acc, int c, float batch_scale) {
    float bias = 0.0f;
    if constexpr (has_bias<Bias>) bias = Bias[c];
    return hybrid::output(acc, batch_scale, WeightScales[scale_count > 1 ? c : 0], bias, float_range);
  }
};

}  // namespace tinynet
