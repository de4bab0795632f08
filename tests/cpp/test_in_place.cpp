// In-place convolutions (in_place_network.hpp): invoke() in the planned arena, where each
// depthwise and narrowing pointwise convolution writes over its input, gives the bytes of
// constant evaluation, where every tensor has a buffer of its own.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>

#include "in_place_network.hpp"

TEST_CASE("Depthwise and pointwise convolutions in place give the bytes of separate buffers") {
  using net = in_place_net::network;
  alignas(16) std::array<std::byte, net::arena_bytes> arena{};
  std::ranges::copy(in_place_net::input, net::input(arena.data()).begin());
  net::invoke(arena.data());
  const auto out = net::output(arena.data());
  CHECK(std::equal(out.begin(), out.end(), in_place_net::expected.begin(), in_place_net::expected.end()));
  // Not all one value: the test would not notice rows written to the wrong place otherwise.
  CHECK(std::ranges::count(in_place_net::expected, in_place_net::expected[0]) < 32);
}

TEST_CASE("A depthwise convolution given separate buffers still writes them directly") {
  using layer = in_place_net::dw3;
  std::array<std::int8_t, in_place_net::b::size> x{};
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<std::int8_t>(i * 29 + 3);
  std::array<std::int8_t, in_place_net::c::size> separate{}, shared{};
  layer::run(x.data(), separate.data());
  std::ranges::copy(x, shared.begin());
  layer::run(shared.data(), shared.data());
  CHECK(separate == shared);
}
