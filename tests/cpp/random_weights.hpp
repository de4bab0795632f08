// Seeded pseudo-random constants for the unit tests of the sparse layers (test_sparse.cpp,
// test_sparse_conv.cpp), all computed by the compiler: an LCG; int8 weights kept with a given
// density and drawn from a small set of magnitudes, so that many inputs share a weight value (the
// case the unrolled form sums before multiplying), with the odd -128 and long runs of zeros;
// int32 biases in [-20000, 20000]; per-channel scales; int8 inputs over the whole range.
#pragma once

#include <array>
#include <cstdint>

namespace test_random {

struct Lcg {
  std::uint32_t state;
  constexpr std::uint32_t next() {
    state = state * 1664525u + 1013904223u;
    return state >> 8;  // the low bits of an LCG are poor
  }
};

// Count int8 weights with about density_percent % non-zero.
template <int Count>
constexpr std::array<std::int8_t, Count> random_weights(int density_percent, std::uint32_t seed) {
  std::array<std::int8_t, Count> w{};
  Lcg lcg{seed};
  for (auto& v : w) {
    const bool keep = static_cast<int>(lcg.next() % 100) < density_percent;
    const std::uint32_t r = lcg.next();
    if (!keep) continue;
    const int magnitude = r % 97 == 0 ? 128 : static_cast<int>(r % 23) * 5 + 17;  // 17..127, some 128
    v = static_cast<std::int8_t>((r >> 12) % 2 == 0 || magnitude == 128 ? -magnitude : magnitude);
  }
  return w;
}

template <int Count>
constexpr std::array<std::int32_t, Count> random_bias(std::uint32_t seed) {
  std::array<std::int32_t, Count> b{};
  Lcg lcg{seed};
  for (auto& v : b) v = static_cast<std::int32_t>(lcg.next() % 40001) - 20000;
  return b;
}

// base * (1 + i % 5) / 3: five distinct scales, repeating.
template <int Count>
constexpr std::array<float, Count> scales(float base) {
  std::array<float, Count> s{};
  for (int i = 0; i < Count; ++i) s[static_cast<std::size_t>(i)] = base * static_cast<float>(1 + i % 5) / 3.0f;
  return s;
}

template <int Count>
constexpr std::array<std::int8_t, Count> random_input(std::uint32_t seed) {
  std::array<std::int8_t, Count> x{};
  Lcg lcg{seed};
  for (auto& v : x) v = static_cast<std::int8_t>(static_cast<int>(lcg.next() % 256) - 128);
  return x;
}

}  // namespace test_random
