// Weights pruned N:M along the input channels, for the tests of the `nm` sparse form
// (test_sparse.cpp, test_sparse_conv.cpp, tests/cortex-m/device_tests.cpp): rows of `channels`
// weights (the last axis), in every group of M channels (the last one shorter when M does not
// divide the channels) min(N, group size) kept at random positions, each kept weight a random
// int8, 0 now and then (a group with fewer than N non-zero weights, as pruning leaves one whose
// weight was already 0). Also what the automatic rule picks in this build (unrolled_if_for_speed).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <tinynet/core/sparsity.hpp>

namespace nm_test {

// What the automatic rule picks, in this build, for a Conv2D or FullyConnected it unrolls in a
// build for speed: a build without optimization (-O0) or for size (-Os) does not unroll them by
// itself (core/sparsity.hpp; only a small DepthwiseConv2D unrolls at -Os), it takes `otherwise`.
constexpr tinynet::SparseForm unrolled_if_for_speed(tinynet::SparseForm otherwise) {
  return tinynet::sparsity::speed_build ? tinynet::SparseForm::unrolled : otherwise;
}

template <std::size_t Count>
constexpr std::array<std::int8_t, Count> nm_weights(int channels, int n, int m, std::uint32_t seed) {
  std::array<std::int8_t, Count> w{};
  std::uint32_t state = seed;
  const auto next = [&state] { return (state = state * 1664525u + 1013904223u) >> 8; };
  for (std::size_t start = 0; start < Count; start += static_cast<std::size_t>(channels))
    for (int g = 0; g < channels; g += m) {
      const int size = channels - g < m ? channels - g : m;
      int kept = 0;
      for (int i = 0; i < size; ++i) {
        // position i is kept with probability (n - kept) / (size - i): exactly min(n, size) kept
        const bool keep = static_cast<int>(next() % static_cast<std::uint32_t>(size - i)) < n - kept;
        kept += keep ? 1 : 0;
        const int v = static_cast<int>(next() % 256) - 128;
        w[start + static_cast<std::size_t>(g + i)] = keep && next() % 11 != 0 ? static_cast<std::int8_t>(v) : std::int8_t{0};
      }
    }
  return w;
}

}  // namespace nm_test
