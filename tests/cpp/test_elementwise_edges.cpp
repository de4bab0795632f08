// Add/Sub int8: the short form of the DSP cores' loop (three SMMLAR, the output zero point folded
// into the last rounding) against TFLM's formula (apply(), checked against TFLM itself by the
// tflm-ops conformance suite) on every one of the 65,536 input pairs of each edge case of
// elementwise_edges.hpp; the device image runs the same cases through invoke().
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>

#include "elementwise_edges.hpp"

TEST_CASE("Add/Sub int8 short form: TFLM's result for every pair of inputs, at both saturations") {
  elementwise_edges::for_each_case([]<class Case>() {
    using layer = typename Case::layer;
    static_assert(layer::short_form_applies);
    int differences = 0, low = 0, high = 0;
    for (int x1 = -128; x1 < 128; ++x1)
      for (int x2 = -128; x2 < 128; ++x2) {
        const auto exact = layer::apply(static_cast<std::int8_t>(x1), static_cast<std::int8_t>(x2));
        differences += layer::apply_short(static_cast<std::int8_t>(x1), static_cast<std::int8_t>(x2)) != exact;
        low += exact == layer::range.min;
        high += exact == layer::range.max;
      }
    CAPTURE(Case::expected.size());
    CHECK(differences == 0);
    // Both ends of the clamp are reached, so saturation is part of what was compared.
    CHECK(low > 0);
    CHECK(high > 0);
  });
}

TEST_CASE("Add/Sub int8 edge cases: invoke() gives the bytes of constant evaluation") {
  elementwise_edges::for_each_case([]<class Case>() {
    CAPTURE(Case::expected.size());
    CHECK(edge_harness::invoke_gives_expected<Case>());
  });
}
