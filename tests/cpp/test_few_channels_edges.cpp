// Conv2D with few input channels: the target kernel against constant evaluation (the portable loops) on the edge
// cases of few_channels_edges.hpp; the device image runs the same cases with the DSP kernel.
#include <doctest/doctest.h>

#include "few_channels_edges.hpp"

TEST_CASE("Conv2D few-channel edge cases: invoke() gives the bytes of constant evaluation") {
  few_edges::for_each_case([]<class Case>() {
    CAPTURE(Case::layer::out_c);
    CAPTURE(Case::layer::out_w);
    CHECK(edge_harness::invoke_gives_expected<Case>());
    // Not degenerate: many distinct values, so misplaced or skipped outputs show.
    CHECK(edge_harness::distinct_values(Case::expected) > 8);
  });
}
