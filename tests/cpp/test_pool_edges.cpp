// AveragePool2D int8 edge cases (pool_edges.hpp): invoke() against constant evaluation (the
// device image runs the same cases with the DSP cores' SXTB16/SADD16 loop), and the values that
// follow from the inputs by hand where the input is uniform.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>

#include "pool_edges.hpp"

TEST_CASE("AveragePool2D edge cases: invoke() gives the bytes of constant evaluation") {
  pool_edges::for_each_case([]<class Case>() {
    CAPTURE(Case::expected.size());
    CHECK(edge_harness::invoke_gives_expected<Case>());
  });
  // The average of a uniform input is that input.
  CHECK(std::ranges::all_of(pool_edges::low_256::expected, [](auto v) { return v == -128; }));
  CHECK(std::ranges::all_of(pool_edges::high_256::expected, [](auto v) { return v == 127; }));
  // ReLU6 with zero point -100 and scale 0.03: 6 / 0.03 - 100 = 100 at most, -100 at least.
  CHECK(std::ranges::all_of(pool_edges::same3::expected, [](auto v) { return v >= -100 && v <= 100; }));
}
