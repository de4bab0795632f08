// The host (SSE2) kernel of int8 FullyConnected (layers/dense/fully_connected.hpp): each input
// row widened to int16, then units in the vector lanes (channel_lanes.hpp), or, for fewer than
// four units, one dot product per unit with the input positions in the lanes.
// Only used under TINYNET_HOST_SIMD: Cortex-M images never contain these tables.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "channel_lanes.hpp"
#include "simd.hpp"

#if TINYNET_HOST_SIMD
namespace tinynet::host {

// Layer: a FullyConnected with int8 input and output (layers/dense/fully_connected.hpp), Weights
// its [units][depth] weights.
template <class Layer, const auto& Weights>
struct Dense {
  static constexpr int units = Layer::units;
  static constexpr int depth = Layer::input_depth;
  static constexpr int pairs = (depth + 1) / 2;
  using lanes = ChannelLanes<Layer, depth>;
  using requantizer = typename lanes::requantizer;

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
    const i32x4 acc = load<i32x4>(&requantizer::bias[0]) + sum4(sums[0], sums[1], sums[2], sums[3]);
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
      for (; i + 16 <= depth; i += 16) widen16_to_int16(row + i, x + i);
      for (; i < depth; ++i) x[i] = row[i];
      store(x + depth, i16x8{});
      store(x + depth + 8, i16x8{});
      std::int8_t* dst = out + b * units;
      if constexpr (units < 4) {
        dot_units(x, dst);
      } else {
        lanes::run(x, row, dst);
      }
    }
  }
};

}  // namespace tinynet::host
#endif
