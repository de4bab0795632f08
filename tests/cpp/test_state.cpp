// State kept across invoke() calls (StateTensor, docs/design.md "State"): the plan gives state bytes
// nobody else reuses, invoke() starts a zeroed arena from the reset state, reset() and wipe() start
// over, the privacy wipe keeps state, SharedArena refuses to let another network cover it, and
// regions carry it. The networks use a test op that adds its input to an int8 state and outputs the
// new state (plus a stateless op on each side, whose tensors could take the state's bytes if the
// planner let them): every expected value is a running sum worked out by hand.
//
// Then the Svdf layer's int8 edges (the op that keeps state; one translation unit for both).
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

// ---- Svdf ----------------------------------------------------------------------------------
// Svdf int8 edges. Every expected value is worked out by hand from TFLM's EvalIntegerSvdfReference
// (micro/kernels/svdf_common.cc): shift the state one frame left, newest frame =
// clamp(MBQM(sum wf * (x - input_zp), m1) + state_zp), then bias + sum wt * (frame - state_zp),
// output = clamp(MBQM(total, m2) + output_zp, -128, 127). The scales make m1 and m2 exactly 1 or
// 1/2, so MBQM is the identity or gemmlowp's rounding halving (SaturatingRoundingDoublingHighMul
// with 2^30: +6.5 -> 7, -6.5 -> -6, as its nudge gives).

using i16 = std::int16_t;

namespace svdf_test {
// One filter (rank 1, one unit), two inputs, memory 2: wf = {3, -2}; wt = {2 (older), 1 (newest)}.
inline constexpr Quant in_q{0.5f, 1};
inline constexpr Quant state_q{0.125f, 0};        // m1 = 0.5 * 0.25 / 0.125 = 1
inline constexpr Quant out_q{0.0625f, -3};        // m2 = 0.125 * 0.5 / 0.0625 = 1
inline constexpr Quant half_q{0.125f, 0};         // m2 = 1/2
inline constexpr Quant int8_state_q{0.125f, 10};  // int8 state: zero point 10
inline constexpr i8 wf[2] = {3, -2};
inline constexpr i16 wt16[2] = {2, 1};
inline constexpr i8 wt8[2] = {2, 1};
inline constexpr std::int32_t bias[1] = {5};
inline constexpr std::int32_t bias_minus5[1] = {-5};
inline constexpr float scales[2] = {0.25f, 0.5f};

struct x : Tensor<i8, Shape<1, 2>, in_q> {};
struct s16 : StateTensor<i16, Shape<1, 2>, state_q> {};
struct s8 : StateTensor<i8, Shape<1, 2>, int8_state_q> {};
struct y : Tensor<i8, Shape<1, 1>, out_q> {};
struct y_half : Tensor<i8, Shape<1, 1>, half_q> {};

using identity = Network<Inputs<x>, Outputs<y>, Svdf<x, s16, y, wf, wt16, bias, scales>>;
using halving = Network<Inputs<x>, Outputs<y_half>, Svdf<x, s16, y_half, wf, wt16, bias_minus5, scales>>;
using int8_state = Network<Inputs<x>, Outputs<y>, Svdf<x, s8, y, wf, wt8, bias, scales>>;

using op = Svdf<x, s16, y, wf, wt16, bias, scales>;
static_assert(op::feature_multiplier.multiplier == (1 << 30) && op::feature_multiplier.shift == 1);
static_assert(op::macs == 4 && op::weight_bytes == 2 + 4 + 4);
static_assert(identity::is_stateful && identity::state_bytes == 4);

// x = {4, 2}: dot = 3 * 3 - 2 * 1 = 7, state {0, 7}, total = 5 + 2 * 0 + 7 = 12, y = 12 - 3 = 9.
static_assert(identity::evaluate(std::array<i8, 2>{4, 2})[0] == 9);
// Three invokes of {4, 2}: states {0, 7}, {7, 7}, {7, 7}: totals 12, 5 + 14 + 7 = 26: y = 23.
static_assert(identity::evaluate_repeated(3, std::array<i8, 2>{4, 2})[0] == 23);

TEST_CASE("Svdf int8: the state shifts one frame per invoke and the time weights read it") {
  static Instance<identity> net;
  const std::array<std::array<i8, 2>, 3> inputs{{{4, 2}, {1, 5}, {4, 2}}};
  // dots 7, 3 * 0 - 2 * 4 = -8, 7; states {0, 7}, {7, -8}, {-8, 7};
  // totals 5 + 7 = 12, 5 + 14 - 8 = 11, 5 - 16 + 7 = -4; outputs minus 3.
  const std::array<int, 3> expected{9, 8, -7};
  for (std::size_t k = 0; k < 3; ++k) {
    net.input()[0] = inputs[k][0];
    net.input()[1] = inputs[k][1];
    net.invoke();
    CHECK(net.output()[0] == expected[k]);
  }
  CHECK(net.state()[0] == -8);
  CHECK(net.state()[1] == 7);
  net.reset();                       // back to {0, 0}: the first output again
  net.input()[0] = 4;
  net.input()[1] = 2;
  net.invoke();
  CHECK(net.output()[0] == 9);
}

TEST_CASE("Svdf int8: output rounding (m2 = 1/2) and saturation") {
  // From the reset state each time, so time = the newest frame: total = -5 + dot.
  const auto run = [](i8 a, i8 b) { return halving::evaluate(std::array<i8, 2>{a, b})[0]; };
  CHECK(run(7, 1) == 7);       // dot 18, total 13: 6.5 -> 7
  CHECK(run(1, 5) == -6);      // dot -8, total -13: -6.5 -> -6 (gemmlowp's nudge)
  CHECK(run(4, 2) == 1);       // total 2 -> 1
  CHECK(run(127, -128) == 127);   // dot 3 * 126 + 2 * 129 = 636, total 631 -> 316: saturates
  CHECK(run(-128, 127) == -128);  // dot -387 - 252 = -639, total -644 -> -322: saturates
}

TEST_CASE("Svdf int8 state: starts at its zero point; the zero point is added before the clamp") {
  static Instance<int8_state> net;
  net.input()[0] = 4;
  net.input()[1] = 2;
  net.invoke();
  // Initial state {10, 10}; newest frame 7 + 10 = 17; time 2 * (10 - 10) + (17 - 10) = 7; y = 9.
  CHECK(net.output()[0] == 9);
  CHECK(net.state()[0] == 10);
  CHECK(net.state()[1] == 17);
  net.reset();
  net.input()[0] = 127;
  net.input()[1] = -128;
  net.invoke();
  // dot 636 + 10 = 646 clamps to 127 (adding 10 after the clamp would wrap to -119);
  // time (127 - 10) = 117, total 122, y = 119.
  CHECK(net.state()[1] == 127);
  CHECK(net.output()[0] == 119);
}

}  // namespace svdf_test
