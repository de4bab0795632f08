// Conv2D with few input channels: the target kernel against constant evaluation (the portable loops) on the edge
// cases of few_channels_edges.hpp; the device image runs the same cases with the DSP kernel.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>

#include "few_channels_edges.hpp"

TEST_CASE("Conv2D few-channel edge cases: invoke() gives the bytes of constant evaluation") {
  few_edges::for_each_case([]<class Case>() {
    using net = typename Case::network;
    alignas(16) std::array<std::byte, net::arena_bytes> arena{};
    std::ranges::copy(Case::input, net::input(arena.data()).begin());
    net::invoke(arena.data());
    const auto out = net::output(arena.data());
    CAPTURE(Case::layer::out_c);
    CAPTURE(Case::layer::out_w);
    CHECK(std::equal(out.begin(), out.end(), Case::expected.begin(), Case::expected.end()));
    // Not degenerate: many distinct values, so misplaced or skipped outputs show.
    std::array<bool, 256> seen{};
    for (const auto v : Case::expected) seen[static_cast<std::size_t>(v + 128)] = true;
    CHECK(std::ranges::count(seen, true) > 8);
  });
}
