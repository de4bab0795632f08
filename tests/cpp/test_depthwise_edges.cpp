// DepthwiseConv2D's target kernel against constant evaluation (the portable loops) on the edge
// cases of depthwise_edges.hpp; the device image runs the same cases with the DSP kernel.
#include <doctest/doctest.h>

#include "depthwise_edges.hpp"

TEST_CASE("DepthwiseConv2D edge cases: invoke() gives the bytes of constant evaluation") {
  dw_edges::for_each_case([]<class Case>() {
    CAPTURE(Case::layer::out_c);
    CAPTURE(Case::layer::out_w);
    CHECK(edge_harness::invoke_gives_expected<Case>());
    // Not degenerate: many distinct values, so misplaced or skipped outputs show.
    CHECK(edge_harness::distinct_values(Case::expected) > 8);
  });
}
