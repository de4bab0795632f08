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

TEST_CASE("A 3x3 Conv2D over its input (a residual block) gives the bytes of separate buffers") {
  using net = residual_net::network;
  alignas(16) std::array<std::byte, net::arena_bytes> arena{};
  std::ranges::copy(residual_net::input, net::input(arena.data()).begin());
  net::invoke(arena.data());
  const auto out = net::output(arena.data());
  CHECK(std::equal(out.begin(), out.end(), residual_net::expected.begin(), residual_net::expected.end()));
  CHECK(std::ranges::count(residual_net::expected, residual_net::expected[0]) < 30);
  // Layer by layer: run_in_place over a copy of y1 gives run()'s bytes.
  using layer = residual_net::conv2;
  std::array<std::int8_t, residual_net::y1::size> x{};
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<std::int8_t>(i * 37 + 5);
  std::array<std::int8_t, residual_net::y2::size> separate{}, shared{};
  layer::run(x.data(), separate.data());
  std::ranges::copy(x, shared.begin());
  layer::run_in_place(shared.data(), shared.data());
  CHECK(separate == shared);
  CHECK(std::ranges::count(separate, separate[0]) < 100);
  // invoke_from (the input read where it is) takes the same path.
  std::array<std::byte, net::arena_bytes> arena2{};
  net::invoke_from(arena2.data(), residual_net::input.data());
  const auto out2 = net::output(arena2.data());
  CHECK(std::equal(out2.begin(), out2.end(), residual_net::expected.begin(), residual_net::expected.end()));
}

TEST_CASE("Residual blocks run fused give the bytes of the network run layer by layer") {
  using net = residual_blocks::network;
  alignas(16) std::array<std::byte, net::arena_bytes> arena{};
  std::ranges::copy(residual_blocks::input, net::input(arena.data()).begin());
  net::invoke(arena.data());
  const auto out = net::output(arena.data());
  CHECK(std::equal(out.begin(), out.end(), residual_blocks::expected.begin(), residual_blocks::expected.end()));
  CHECK(std::ranges::count(residual_blocks::expected, residual_blocks::expected[0]) < 30);
  std::array<std::byte, net::arena_bytes> arena2{};
  net::invoke_from(arena2.data(), residual_blocks::input.data());
  const auto out2 = net::output(arena2.data());
  CHECK(std::equal(out2.begin(), out2.end(), residual_blocks::expected.begin(), residual_blocks::expected.end()));
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

TEST_CASE("Views, in-place ops over views and gather-free Pack/Concatenation give the bytes of separate buffers") {
  using net = layout_net::network;
  alignas(16) std::array<std::byte, net::arena_bytes> arena{};
  // Garbage first: an op skipped wrongly would leave it in the outputs.
  for (auto& v : arena) v = std::byte{0x5a};
  std::ranges::copy(layout_net::input, net::input(arena.data()).begin());
  net::invoke(arena.data());
  const auto& [y, y2] = layout_net::expected;
  CHECK(std::ranges::equal(net::output<0>(arena.data()), y));
  CHECK(std::ranges::equal(net::output<1>(arena.data()), y2));
  CHECK(std::ranges::count(y, y[0]) < 16);
  CHECK(std::ranges::count(y2, y2[0]) < 16);
  // The same with the input read where it is (invoke_from): the views are of r, written in the arena.
  std::array<std::byte, net::arena_bytes> arena2{};
  net::invoke_from(arena2.data(), layout_net::input.data());
  CHECK(std::ranges::equal(net::output<0>(arena2.data()), y));
  CHECK(std::ranges::equal(net::output<1>(arena2.data()), y2));
}

// A slice of a graph input is copied (invoke_from reads the input outside the arena); a slice of
// a slice's view is a view at the sum of the offsets; a slice that is not contiguous is copied.
namespace layout_edges {
using namespace layout_net;
struct a : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 2, 8>, q> {};
struct b : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 1, 8>, q> {};
struct c : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 4>, q> {};
struct d : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 4, 8>, q> {};
using of_input = tinynet::StridedSlice<x, a, rows23>;
using relu_d = tinynet::Relu<x, d>;
using of_view = tinynet::StridedSlice<d, a, rows23>;
using row3 = tinynet::StridedSlice<a, b, tinynet::StridedSliceOptions{.start = {0, 1, 0, 0}, .count = {1, 1, 8, 1}}>;
using columns = tinynet::StridedSlice<x, c, tinynet::StridedSliceOptions{.start = {0, 0, 4, 0}, .count = {1, 4, 4, 1}}>;
static_assert(columns::view_offset == -1 && row3::view_offset == 8);
using net1 = tinynet::Network<tinynet::Inputs<x>, tinynet::Outputs<a>, of_input>;
static_assert(net1::arena_lifetimes.shares_with[net1::tensor_index<a>] == -1 && !net1::elided<of_input>);
using net2 = tinynet::Network<tinynet::Inputs<x>, tinynet::Outputs<b, d>, relu_d, of_view, row3>;
static_assert(net2::offset_of<b> == net2::offset_of<d> + 24 && net2::elided<row3>);
}  // namespace layout_edges

TEST_CASE("A slice of a graph input is copied; a slice of a view is a view") {
  using net = layout_edges::net2;
  alignas(16) std::array<std::byte, net::arena_bytes> arena{};
  std::ranges::copy(layout_net::input, net::input(arena.data()).begin());
  net::invoke(arena.data());
  const auto& [b, d] = net::evaluate(layout_net::input);
  CHECK(std::ranges::equal(net::output<0>(arena.data()), b));
  CHECK(std::ranges::equal(net::output<1>(arena.data()), d));
  using net1 = layout_edges::net1;
  std::array<std::byte, net1::arena_bytes> arena1{};
  net1::invoke_from(arena1.data(), layout_net::input.data());
  CHECK(std::ranges::equal(net1::output(arena1.data()), net1::evaluate(layout_net::input)));
}

// The planner itself, on hand-made lifetimes (graph/arena_plan.hpp): members of a group at byte
// offsets from each other; the group spans its members and lives over their union.
TEST_CASE("Arena planner: a view inside a buffer, an output overlapping below its input, a gather") {
  using tinynet::detail::plan_arena;
  using tinynet::detail::TensorLifetimes;
  {
    // 0: 100 bytes, steps 0-2; 1: 16 bytes at +32 of 0, steps 1-3; 2: 40 bytes, steps 3-4.
    TensorLifetimes<3> t{{100, 16, 40}, {0, 1, 3}, {2, 3, 4}, {-1, 0, -1}, {0, 32, 0}};
    const auto plan = plan_arena(t);
    CHECK(plan.offset[1] == plan.offset[0] + 32);
    // The group (100 bytes) is checked member by member: at step 3 only 1's bytes [32, 48) are
    // alive, so 2 goes right after them (at 48, aligned), inside the group's span; as one block
    // alive to step 3 it would have had to start at 112.
    CHECK(plan.offset[0] == 0);
    CHECK(plan.offset[2] == 48);
    CHECK(plan.total_bytes == 112);
  }
  {
    // 1 starts 32 bytes below 0 and ends 64 past 0's end: the group spans [-32, 96) of 0.
    TensorLifetimes<3> t{{64, 128, 48}, {0, 1, 0}, {1, 2, 2}, {-1, 0, -1}, {0, -32, 0}};
    const auto plan = plan_arena(t);
    CHECK(plan.offset[0] == plan.offset[1] + 32);
    CHECK(plan.offset[1] == 0);
    CHECK(plan.offset[2] == 128);
    CHECK(plan.total_bytes == 176);
  }
  {
    // Gather: 0 and 1 (16 bytes each, written at steps 1 and 2) in slots 0 and 1 of 2 (step 3);
    // 3 (32 bytes, steps 0-1) coexists with 0 only through the group's union lifetime (1-4).
    TensorLifetimes<4> t{{16, 16, 32, 32}, {1, 2, 3, 0}, {3, 3, 4, 1}, {2, 2, -1, -1}, {0, 16, 0, 0}};
    const auto plan = plan_arena(t);
    CHECK(plan.offset[0] == plan.offset[2]);
    CHECK(plan.offset[1] == plan.offset[2] + 16);
    CHECK(plan.total_bytes == 64);
    CHECK((plan.offset[3] >= plan.offset[2] + 32 || plan.offset[3] + 32 <= plan.offset[2]));
  }
}
