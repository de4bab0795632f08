// The host (SSE2) kernel of int8 FullyConnected, kept out of the layer's header: units in the
// vector lanes. The compiler lays the weights out widened to int16 as (w[u][2j], w[u][2j+1])
// pairs, unit after unit, for each pair j of input positions; the matching input pair
// (x[2j], x[2j+1]) is broadcast to all lanes, so one pmaddwd performs eight multiply-accumulates
// for four units, and the accumulators come out unit by unit, ready for the vector output stage.
// Only used under TINYNET_HOST_SIMD: Cortex-M images never contain these tables.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "host_simd.hpp"
#include "output_stage.hpp"

#if TINYNET_HOST_SIMD
namespace tinynet::host {

// Layer: a FullyConnected with int8 input and output (layers/dense/fully_connected.hpp), Weights
// its [units][depth] weights.
template <class Layer, const auto& Weights>
struct Dense {
  static constexpr int units = Layer::units;
  static constexpr int depth = Layer::input_depth;
  static constexpr int pairs = (depth + 1) / 2;
  static constexpr int padded_units = (units + 3) / 4 * 4;
  static constexpr std::size_t table_size = static_cast<std::size_t>(pairs * padded_units * 2);

  alignas(16) static constexpr std::array<std::int16_t, table_size> weights = [] {
    std::array<std::int16_t, table_size> out{};
    for (int u = 0; u < units; ++u)
      for (int i = 0; i < depth; ++i)
        out[static_cast<std::size_t>(((i / 2) * padded_units + u) * 2 + i % 2)] = Weights[u * depth + i];
    return out;
  }();

  alignas(16) static constexpr std::array<std::int32_t, static_cast<std::size_t>(padded_units)> bias = [] {
    std::array<std::int32_t, static_cast<std::size_t>(padded_units)> out{};
    for (int u = 0; u < units; ++u)
      out[static_cast<std::size_t>(u)] = static_cast<std::int32_t>(Layer::folded_bias[static_cast<std::size_t>(u)]);
    return out;
  }();

  // The short output stage per unit (a per-tensor multiplier repeated for every unit).
  static constexpr VectorOutputStage<padded_units> stage = [] {
    ShortOutputStage<padded_units> per_unit{};
    for (int u = 0; u < padded_units; ++u) {
      const auto m = static_cast<std::size_t>(Layer::per_channel && u < units ? u : 0);
      per_unit.multiplier[static_cast<std::size_t>(u)] = Layer::short_stage_table.multiplier[m];
      per_unit.rounding[static_cast<std::size_t>(u)] = Layer::short_stage_table.rounding[m];
      per_unit.right_shift[static_cast<std::size_t>(u)] = Layer::short_stage_table.right_shift[m];
    }
    return vector_output_stage<padded_units>(per_unit, Layer::output::zero_point);
  }();

  // TFLM's formula, for layers whose accumulators may be too large for the short stage.
  static constexpr FullVectorOutputStage<padded_units> full_stage =
      full_vector_output_stage<padded_units>(Layer::multipliers, Layer::output::zero_point);

  // Units u .. u + 3 of accumulators acc, requantized (zero point added, not clamped).
  static i32x4 requantize4(i32x4 acc, int u) {
    if constexpr (Layer::short_stage) {
      return stage.scale(acc, static_cast<std::size_t>(u));
    } else if constexpr (full_vector_output_stage_applies(Layer::multipliers)) {
      return full_stage.scale(acc, static_cast<std::size_t>(u));
    } else {
      i32x4 out{};
      for (int i = 0; i < 4 && u + i < units; ++i) {
        const auto m = static_cast<std::size_t>(Layer::per_channel ? u + i : 0);
        out[i] = fixed::multiply_by_quantized_multiplier(acc[i], Layer::multipliers.multiplier[m], Layer::multipliers.shift[m]) +
                 Layer::output::zero_point;
      }
      return out;
    }
  }

  // (x[2j], x[2j+1]) as one 32-bit word. Short rows are read from the input bytes directly: the
  // widened copy is then written by narrow stores that a wider load cannot be forwarded from.
  static std::int32_t input_pair(const std::int16_t* x, const std::int8_t* row, int j) {
    if constexpr (depth < 16) {
      const std::int32_t high = 2 * j + 1 < depth ? row[2 * j + 1] : 0;
      return static_cast<std::int32_t>(static_cast<std::uint16_t>(row[2 * j]) | (static_cast<std::uint32_t>(high) << 16));
    } else {
      return load<std::int32_t>(x + 2 * j);
    }
  }

  // Units u .. u + 4 * Vectors - 1 (Vectors 1 or 4) of one input row x (int16, padded to pairs).
  // (Separate variables, not an array: GCC 12 keeps an array of vectors in memory.)
  template <int Vectors>
  static void block(const std::int16_t* x, const std::int8_t* row, std::int8_t* out, int u) {
    const auto bias_at = [&](int k) { return load<i32x4>(&bias[static_cast<std::size_t>(u + 4 * k)]); };
    i32x4 a0 = bias_at(0), a1{}, a2{}, a3{};
    if constexpr (Vectors == 4) a1 = bias_at(1), a2 = bias_at(2), a3 = bias_at(3);
    const std::int16_t* w = &weights[static_cast<std::size_t>(u * 2)];
    TINYNET_HOST_UNROLL
    for (int j = 0; j < pairs; ++j, w += padded_units * 2) {
      const i16x8 pair = reinterpret_cast<i16x8>(i32x4{} + input_pair(x, row, j));
      a0 += madd(pair, load<i16x8>(w));
      if constexpr (Vectors == 4) {
        a1 += madd(pair, load<i16x8>(w + 8));
        a2 += madd(pair, load<i16x8>(w + 16));
        a3 += madd(pair, load<i16x8>(w + 24));
      }
    }
    const auto range = Layer::range;
    if constexpr (Vectors == 4) {
      store(out + u, narrow_clamped(requantize4(a0, u), requantize4(a1, u + 4), requantize4(a2, u + 8), requantize4(a3, u + 12),
                                    range.min, range.max));
    } else {
      const int left = units - u;
      store_bytes(out + u, narrow_clamped(requantize4(a0, u), a0, range.min, range.max), left < 4 ? left : 4);
    }
  }

  // Fewer than four units (a classifier's last layer): one dot product per unit instead, the
  // input positions in the lanes, each weight row widened and padded with zeros to a multiple of 8.
  static constexpr int row_depth = (depth + 7) / 8 * 8;
  alignas(16) static constexpr std::array<std::int16_t, static_cast<std::size_t>(units * row_depth)> row_weights = [] {
    std::array<std::int16_t, static_cast<std::size_t>(units * row_depth)> out{};
    for (int u = 0; u < units; ++u)
      for (int i = 0; i < depth; ++i) out[static_cast<std::size_t>(u * row_depth + i)] = Weights[u * depth + i];
    return out;
  }();

  static void dot_units(const std::int16_t* x, std::int8_t* out) {
    i32x4 sums[4] = {};
    for (int u = 0; u < units; ++u) {
      const std::int16_t* w = &row_weights[static_cast<std::size_t>(u * row_depth)];
      TINYNET_HOST_UNROLL
      for (int i = 0; i < row_depth; i += 8) sums[u] += madd(load<i16x8>(x + i), load<i16x8>(w + i));
    }
    const i32x4 acc = load<i32x4>(&bias[0]) + sum4(sums[0], sums[1], sums[2], sums[3]);
    // The layer's own scalar output stage: for one to three values its latency is shorter.
    for (int u = 0; u < units; ++u) out[u] = Layer::requantize(acc[u], u);
  }

  static void run(const std::int8_t* in, std::int8_t* out) {
    constexpr int used = units < 4 ? row_depth : 2 * pairs;
    for (int b = 0; b < Layer::batches; ++b) {
      // The input row widened to int16 (sixteen at a time: bytes to the high halves, then an
      // arithmetic shift by 8), zeros after it.
      alignas(16) std::int16_t x[used + 16];
      const std::int8_t* row = in + b * depth;
      int i = 0;
      for (; i + 16 <= depth; i += 16) {
        const i8x16 v = load<i8x16>(row + i), zero{};
        store(x + i, reinterpret_cast<i16x8>(__builtin_shufflevector(zero, v, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)) >> 8);
        store(x + i + 8,
              reinterpret_cast<i16x8>(__builtin_shufflevector(zero, v, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)) >> 8);
      }
      for (; i < depth; ++i) x[i] = row[i];
      store(x + depth, i16x8{});
      store(x + depth + 8, i16x8{});
      std::int8_t* dst = out + b * units;
      if constexpr (units < 4) {
        dot_units(x, dst);
      } else {
        int u = 0;
        for (; u + 16 <= units; u += 16) block<4>(x, row, dst, u);  // (whole blocks of 16 real units)
        for (; u < padded_units; u += 4) block<1>(x, row, dst, u);
      }
    }
  }
};

}  // namespace tinynet::host
#endif
