// The host (SSE2) kernel shared by int8 Conv2D (one output pixel's patch) and FullyConnected
// (one input row): output channels in the vector lanes. The compiler lays the weights out widened
// to int16 as (w[c][2j], w[c][2j+1]) pairs, channel after channel, for each pair j of input
// positions (channels padded to a multiple of 4); the matching input pair is broadcast to all
// lanes, so one pmaddwd performs eight multiply-accumulates for four channels, and the
// accumulators come out channel by channel for the vector output stage.
// Only used under TINYNET_HOST_SIMD: Cortex-M images never contain these tables.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "simd.hpp"

#if TINYNET_HOST_SIMD
namespace tinynet::host {

// Plan: the op's channel plan (core/channel_plan.hpp) with channel c's Depth weights at
// Plan::weights[c * Depth + i] (OHWI filters, [units][depth] rows).
template <class Plan, int Depth>
struct ChannelLanes {
  static constexpr int channels = Plan::channels;
  static constexpr int pairs = (Depth + 1) / 2;
  using requantizer = VectorRequantizer<Plan>;
  static constexpr int padded = requantizer::padded;
  static constexpr std::size_t table_size = static_cast<std::size_t>(pairs * padded * 2);

  alignas(16) static constexpr std::array<std::int16_t, table_size> weights = [] {
    std::array<std::int16_t, table_size> out{};
    for (int c = 0; c < channels; ++c)
      for (int i = 0; i < Depth; ++i)
        out[static_cast<std::size_t>(((i / 2) * padded + c) * 2 + i % 2)] = Plan::weights[c * Depth + i];
    return out;
  }();

  // (x[2j], x[2j+1]) as one 32-bit word. Short inputs are read from their bytes directly: the
  // widened copy is then written by narrow stores that a wider load cannot be forwarded from.
  static std::int32_t input_pair(const std::int16_t* x, const std::int8_t* bytes, int j) {
    if constexpr (Depth < 16) {
      const std::int32_t high = 2 * j + 1 < Depth ? bytes[2 * j + 1] : 0;
      return static_cast<std::int32_t>(static_cast<std::uint16_t>(bytes[2 * j]) | (static_cast<std::uint32_t>(high) << 16));
    } else {
      return load<std::int32_t>(x + 2 * j);
    }
  }

  // Channels c .. c + 4 * Vectors - 1 (Vectors 4, 2 or 1) of one input: x widened to int16 and
  // padded to whole pairs, bytes the same input as int8.
  // (Separate variables, not an array: GCC 12 keeps an array of vectors in memory.)
  template <int Vectors>
  static void block(const std::int16_t* x, const std::int8_t* bytes, std::int8_t* out, int c) {
    const auto bias_at = [&](int k) { return load<i32x4>(&requantizer::bias[static_cast<std::size_t>(c + 4 * k)]); };
    i32x4 a0 = bias_at(0), a1{}, a2{}, a3{};
    if constexpr (Vectors >= 2) a1 = bias_at(1);
    if constexpr (Vectors == 4) a2 = bias_at(2), a3 = bias_at(3);
    const std::int16_t* w = &weights[static_cast<std::size_t>(c * 2)];
    TINYNET_HOST_UNROLL
    for (int j = 0; j < pairs; ++j, w += padded * 2) {
      const i16x8 pair = reinterpret_cast<i16x8>(i32x4{} + input_pair(x, bytes, j));  // in every lane
      a0 += madd(pair, load<i16x8>(w));
      if constexpr (Vectors >= 2) a1 += madd(pair, load<i16x8>(w + 8));
      if constexpr (Vectors == 4) {
        a2 += madd(pair, load<i16x8>(w + 16));
        a3 += madd(pair, load<i16x8>(w + 24));
      }
    }
    constexpr auto range = Plan::range;
    const auto scale = [](i32x4 acc, int channel) { return requantizer::scale(acc, channel); };
    if constexpr (Vectors == 4) {
      store(out + c, narrow_clamped(scale(a0, c), scale(a1, c + 4), scale(a2, c + 8), scale(a3, c + 12), range.min, range.max));
    } else if constexpr (Vectors == 2) {
      store_bytes(out + c, narrow_clamped(scale(a0, c), scale(a1, c + 4), range.min, range.max), 8);
    } else {
      const int left = channels - c;
      store_bytes(out + c, narrow_clamped(scale(a0, c), a0, range.min, range.max), left < 4 ? left : 4);
    }
  }

  // All channels of one input.
  static void run(const std::int16_t* x, const std::int8_t* bytes, std::int8_t* out) {
    int c = 0;
    for (; c + 16 <= channels; c += 16) block<4>(x, bytes, out, c);
    for (; c + 8 <= channels; c += 8) block<2>(x, bytes, out, c);
    for (; c < channels; c += 4) block<1>(x, bytes, out, c);
  }
};

}  // namespace tinynet::host
#endif
