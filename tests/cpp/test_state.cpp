// State kept across invoke() calls (StateTensor, docs/design.md "State"): the plan gives state bytes
// nobody else reuses, invoke() starts a zeroed arena from the reset state, reset() and wipe() start
// over, the privacy wipe keeps state, SharedArena refuses to let another network cover it, and
// regions carry it. The networks use a test op that adds its input to an int8 state and outputs the
// new state (plus a stateless op on each side, whose tensors could take the state's bytes if the
// planner let them): every expected value is a running sum worked out by hand.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

namespace state_test {
inline constexpr Quant q{1.0f, 0};
inline constexpr Quant state_q{1.0f, 5};     // int8 state: starts at its zero point, 5
inline constexpr Quant int16_q{1.0f, 7};     // int16 state: starts at 0 whatever its zero point (TFLM)

// state += x (wrapping as int8); out = state.
template <class In, class State, class Out>
struct Accumulate {
  using inputs = TypeList<In, State>;
  using output = Out;
  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr void run(const typename In::element* in, typename State::element* state, typename Out::element* out) {
    for (int i = 0; i < In::size; ++i) {
      state[i] = static_cast<typename State::element>(state[i] + in[i]);
      out[i] = static_cast<typename Out::element>(state[i]);
    }
  }
};

struct x : Tensor<i8, Shape<1, 24>, q> {};
struct r : Tensor<i8, Shape<1, 24>, q> {};
struct s : StateTensor<i8, Shape<1, 24>, state_q> {};
struct a : Tensor<i8, Shape<1, 24>, q> {};
struct y : Tensor<i8, Shape<1, 24>, q> {};
using net = Network<Inputs<x>, Outputs<y>, Relu<x, r>, Accumulate<r, s, a>, Relu<a, y>>;

struct s16 : StateTensor<std::int16_t, Shape<1, 24>, int16_q> {};
struct sf : StateTensor<float, Shape<3>> {};
static_assert(s::initial == 5 && s16::initial == 0 && sf::initial == 0.0f);
static_assert(!Network<Inputs<x>, Outputs<r>, Relu<x, r>>::is_stateful);

// Type-level description.
static_assert(net::is_stateful && net::state_count == 1 && net::state_bytes == 24);
static_assert(std::is_same_v<net::state_t<0>, s>);

// The plan: state and marker live from step 0 to past the last op, and share bytes with nothing.
constexpr bool state_bytes_are_private() {
  const auto& life = net::arena_lifetimes;
  const auto& plan = net::arena_plan;
  const std::size_t kept[] = {net::tensor_index<s>, net::tensor_index<detail::StateMarker>};
  for (const std::size_t k : kept) {
    if (life.first[k] != 0 || life.last[k] != static_cast<int>(net::op_count) + 1 || life.shares_with[k] != -1) return false;
    for (std::size_t j = 0; j < net::tensor_count; ++j) {
      if (j == k) continue;
      const std::size_t jb = plan.offset[j], je = jb + life.bytes[j];
      const std::size_t kb = plan.offset[k], ke = kb + life.bytes[k];
      if (jb < ke && kb < je) return false;
    }
  }
  return true;
}
static_assert(state_bytes_are_private());

// evaluate starts from the reset state (5); evaluate_repeated carries it: 5 + 3 * 2 = 11.
static_assert(net::evaluate(std::array<i8, 24>{2})[0] == 7);
static_assert(net::evaluate_repeated(3, std::array<i8, 24>{2})[0] == 11);
static_assert(net::evaluate_repeated(3, std::array<i8, 24>{2})[1] == 5);

void feed(auto& instance, i8 value) {
  auto in = instance.input();
  for (auto& v : in) v = value;
}
}  // namespace state_test

using namespace state_test;

TEST_CASE("state: a zeroed Instance starts from the reset state and carries it across invokes") {
  static Instance<net> instance;   // .bss: zero bytes, the marker unset
  feed(instance, 3);
  instance.invoke();
  CHECK(instance.output()[0] == 8);   // 5 + 3
  CHECK(instance.state()[23] == 8);
  feed(instance, 3);
  instance.invoke();
  CHECK(instance.output()[0] == 11);  // 8 + 3
  instance.reset();
  CHECK(instance.state()[0] == 5);
  feed(instance, 1);
  instance.invoke();
  CHECK(instance.output()[5] == 6);
  instance.wipe();                    // everything to 0, marker included: the next invoke resets
  CHECK(instance.state()[0] == 0);
  feed(instance, 1);
  instance.invoke();
  CHECK(instance.output()[5] == 6);
}

TEST_CASE("state: an arena with garbage is started over by reset(); negative inputs reach the state") {
  alignas(net::arena_alignment) static std::byte memory[net::arena_bytes];
  for (auto& b : memory) b = std::byte{0x5a};
  InstanceIn<net> view{{}, memory};
  view.reset();
  feed(view, -20);                    // Relu drops it: the state stays 5
  view.invoke();
  CHECK(view.output()[0] == 5);
  feed(view, 20);
  view.invoke();
  CHECK(view.output()[0] == 25);
}

TEST_CASE("state: the privacy wipe keeps state (and outputs), clears the rest") {
  static Instance<net, AfterInvoke::wipe_all_but_outputs> instance;
  feed(instance, 4);
  instance.invoke();
  feed(instance, 4);
  instance.invoke();
  CHECK(instance.output()[0] == 13);  // 5 + 4 + 4: the state survived the first wipe
  CHECK(instance.state()[0] == 13);
  const std::size_t kept_begin[] = {net::offset_of<s>, net::offset_of<y>, net::offset_of<detail::StateMarker>};
  const std::size_t kept_bytes[] = {s::bytes, y::bytes, 16};
  for (std::size_t i = 0; i < net::arena_bytes; ++i) {
    bool kept = false;
    for (std::size_t k = 0; k < 3; ++k) kept = kept || (i >= kept_begin[k] && i < kept_begin[k] + kept_bytes[k]);
    if (!kept) CHECK(instance.arena[i] == std::byte{0});
  }
}

namespace state_test {
// A stateless network to share with.
struct u : Tensor<i8, Shape<1, 200>, q> {};
struct v : Tensor<i8, Shape<1, 200>, q> {};
using other = Network<Inputs<u>, Outputs<v>, Relu<u, v>>;
}  // namespace state_test

// Together: the stateful network keeps its own bytes. At: the other is placed past its arena.
using kept_together = SharedArena<Together<net, other>>;
using kept_apart = SharedArena<Together<net>, Together<At<other, (net::arena_bytes + 15) / 16 * 16>>>;
static_assert(kept_apart::arena_bytes == (net::arena_bytes + 15) / 16 * 16 + other::arena_bytes);
// SharedArena<net, other> (both at byte 0) does not compile: tests/compile_fail/shared_arena_state.cpp.

TEST_CASE("state: SharedArena keeps a stateful network's state while another network runs") {
  static kept_apart memory;
  auto stateful = memory.instance<net>();
  auto plain = memory.instance<other>();
  feed(stateful, 2);
  stateful.invoke();
  for (auto& e : plain.input()) e = -1;
  plain.invoke();
  feed(stateful, 2);
  stateful.invoke();
  CHECK(stateful.output()[0] == 9);   // 5 + 2 + 2
  memory.wipe();
  feed(stateful, 2);
  stateful.invoke();
  CHECK(stateful.output()[0] == 7);
}

TEST_CASE("state: regions carry state across invokes; wipe() starts over") {
  using plan = RegionPlan<net, Region<32>, Region<1024>>;
  alignas(16) static std::byte fast[plan::bytes<0>];
  alignas(16) static std::byte slow[plan::bytes<1>];
  static InstanceInRegions<net, plan> instance{{fast, slow}};
  feed(instance, 10);
  instance.invoke();
  feed(instance, 10);
  instance.invoke();
  CHECK(instance.output()[0] == 25);
  instance.wipe();
  feed(instance, 10);
  instance.invoke();
  CHECK(instance.output()[0] == 15);
  instance.reset();
  feed(instance, 0);
  instance.invoke();
  CHECK(instance.output()[0] == 5);
}
