// The harness of the edge-case tests of the target kernels (depthwise_edges.hpp,
// few_channels_edges.hpp, elementwise_edges.hpp, pool_edges.hpp): a case is a network of one
// layer with constexpr inputs (`input`, or `input1` and `input2` for two inputs) and `expected`,
// the bytes constant evaluation gives (the portable loops, checked against TFLM by the
// conformance tests). The host unit tests (test_*_edges.cpp) and the device image
// (tests/cortex-m/device_tests.cpp) run every case through invoke() and compare. Freestanding:
// the device image includes it.
#pragma once

#include <cstddef>
#include <cstring>

namespace edge_harness {

// The cases of one header, in order: calling it with f calls f.template operator()<Case>() for
// each (a header's for_each_case).
template <class... Cases>
struct CaseList {
  template <class F>
  constexpr void operator()(F&& f) const {
    (f.template operator()<Cases>(), ...);
  }
};

// True when `values` holds exactly `expected`'s values (int8: their bytes; sizes too). One byte
// comparison serves every check, which keeps the device image small.
template <class Values, class Expected>
bool same_values(const Values& values, const Expected& expected) {
  static_assert(sizeof(values[0]) == 1 && sizeof(expected[0]) == 1);
  return values.size() == expected.size() && std::memcmp(values.data(), expected.data(), expected.size()) == 0;
}

template <class From, class To>
void copy_values(const From& from, To&& to) {
  static_assert(sizeof(from[0]) == 1 && sizeof(to[0]) == 1);
  std::memcpy(to.data(), from.data(), from.size());
}

// Gives the case's inputs to invoke() in `arena` (at least Case::network::arena_bytes, aligned as
// the network needs) and compares its output with Case::expected.
template <class Case>
bool invoke_gives_expected(std::byte* arena) {
  using net = typename Case::network;
  if constexpr (requires { Case::input2; }) {
    copy_values(Case::input1, net::template input<0>(arena));
    copy_values(Case::input2, net::template input<1>(arena));
  } else {
    copy_values(Case::input, net::input(arena));
  }
  net::invoke(arena);
  return same_values(net::output(arena), Case::expected);
}

// The same in a zeroed arena of its own on the stack (the host unit tests).
template <class Case>
bool invoke_gives_expected() {
  alignas(16) std::byte arena[Case::network::arena_bytes]{};
  return invoke_gives_expected<Case>(arena);
}

// How many different int8 values `values` holds: a case whose output barely varies would prove
// little (misplaced or skipped outputs would not show).
template <class Values>
constexpr int distinct_values(const Values& values) {
  bool seen[256]{};
  int count = 0;
  for (const auto v : values) {
    const auto i = static_cast<std::size_t>(v + 128);
    count += !seen[i];
    seen[i] = true;
  }
  return count;
}

}  // namespace edge_harness
