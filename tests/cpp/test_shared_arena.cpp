// SharedArena (several networks, one arena) and the privacy wipe of Instance. Expected arena sizes
// and offsets are worked out from the networks' own arena_bytes and the 16-byte alignment; expected
// outputs by hand from the weights (identity-like FullyConnected layers with unit scales).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

namespace shared {
inline constexpr Quant q{1.0f, 0};
inline constexpr std::int32_t zero2[2] = {0, 0};
inline constexpr std::int32_t zero3[3] = {0, 0, 0};
inline constexpr float one[1] = {1.0f};

// Network a: 40 int8 in -> 2 out (sum of the first 20, sum of the last 20, saturated).
struct a_in : Tensor<i8, Shape<1, 40>, q> {};
struct a_out : Tensor<i8, Shape<1, 2>, q> {};
inline constexpr auto a_w = [] {
  std::array<i8, 80> w{};
  for (int i = 0; i < 20; ++i) w[static_cast<std::size_t>(i)] = 1;
  for (int i = 20; i < 40; ++i) w[static_cast<std::size_t>(40 + i)] = 1;
  return w;
}();
using a = Network<Inputs<a_in>, Outputs<a_out>, FullyConnected<a_in, a_out, a_w, zero2, one>>;

// Network b: 3 in -> 3 out, y = (x0 - x1, x1 - x2, x2 - x0), then 3 -> 3 doubling.
struct b_in : Tensor<i8, Shape<1, 3>, q> {};
struct b_mid : Tensor<i8, Shape<1, 3>, q> {};
struct b_out : Tensor<i8, Shape<1, 3>, q> {};
inline constexpr i8 b_w1[9] = {1, -1, 0, 0, 1, -1, -1, 0, 1};
inline constexpr i8 b_w2[9] = {2, 0, 0, 0, 2, 0, 0, 0, 2};
using b = Network<Inputs<b_in>, Outputs<b_out>, FullyConnected<b_in, b_mid, b_w1, zero3, one>,
                  FullyConnected<b_mid, b_out, b_w2, zero3, one>>;

}  // namespace shared

using namespace shared;

// Exclusive sharing: the storage is the larger arena, and both networks start at byte 0.
using exclusive = SharedArena<a, b>;
static_assert(exclusive::arena_bytes == std::max(a::arena_bytes, b::arena_bytes));
static_assert(exclusive::separate_bytes == a::arena_bytes + b::arena_bytes);
static_assert(exclusive::offset_of<a> == 0 && exclusive::offset_of<b> == 0);
static_assert(sizeof(exclusive) == exclusive::arena_bytes);

// Together: b starts at the first 16-byte boundary after a's arena; the storage is their extent.
using together = SharedArena<Together<a, b>>;
static_assert(together::offset_of<a> == 0);
static_assert(together::offset_of<b> == (a::arena_bytes + 15) / 16 * 16);
static_assert(together::arena_bytes == together::offset_of<b> + b::arena_bytes);

// At<> places by hand; the gap before a is the user's to leave.
using placed = SharedArena<Together<At<b, 0>, At<a, 64>>>;
static_assert(placed::offset_of<a> == 64 && placed::arena_bytes == 64 + a::arena_bytes);

namespace {
void fill_a(InstanceIn<a> view) {
  auto in = view.input();
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<i8>(i < 20 ? 1 : -2);
}
void fill_b(InstanceIn<b> view) {
  const std::array<i8, 3> x{10, 4, -7};
  std::copy(x.begin(), x.end(), view.input().begin());
}
}  // namespace

TEST_CASE("SharedArena: networks listed apart run one after the other in the same bytes") {
  static exclusive memory;
  auto first = memory.instance<a>();
  auto second = memory.instance<b>();
  fill_a(first);
  first.invoke();
  CHECK(first.output()[0] == 20);   // twenty ones
  CHECK(first.output()[1] == -40);  // twenty -2s
  fill_b(second);
  second.invoke();
  // (10 - 4, 4 + 7, -7 - 10) doubled.
  CHECK(second.output()[0] == 12);
  CHECK(second.output()[1] == 22);
  CHECK(second.output()[2] == -34);
  // Both views point into the one storage.
  CHECK(reinterpret_cast<std::byte*>(first.input().data()) >= memory.storage);
  CHECK(reinterpret_cast<std::byte*>(second.output().data()) < memory.storage + exclusive::arena_bytes);
}

TEST_CASE("SharedArena: networks declared Together keep their outputs while the other runs") {
  static together memory;
  auto first = memory.instance<a>();
  auto second = memory.instance<b>();
  fill_a(first);
  first.invoke();
  fill_b(second);
  second.invoke();
  CHECK(first.output()[0] == 20);
  CHECK(first.output()[1] == -40);
  CHECK(second.output()[2] == -34);
}

TEST_CASE("Instance::wipe clears every byte of the arena") {
  static Instance<a> instance;
  fill_a(InstanceIn<a>{{}, instance.arena});
  instance.invoke();
  CHECK(std::any_of(std::begin(instance.arena), std::end(instance.arena), [](std::byte v) { return v != std::byte{0}; }));
  instance.wipe();
  CHECK(std::all_of(std::begin(instance.arena), std::end(instance.arena), [](std::byte v) { return v == std::byte{0}; }));
}

TEST_CASE("AfterInvoke::wipe_all_but_outputs leaves the outputs alone in RAM") {
  static Instance<b, AfterInvoke::wipe_all_but_outputs> instance;
  fill_b(InstanceIn<b>{{}, instance.arena});
  instance.invoke();
  CHECK(instance.output()[0] == 12);
  CHECK(instance.output()[1] == 22);
  CHECK(instance.output()[2] == -34);
  const std::size_t out_begin = b::offset_of<b_out>;
  for (std::size_t k = 0; k < b::arena_bytes; ++k) {
    if (k >= out_begin && k < out_begin + 3) continue;
    CHECK(instance.arena[k] == std::byte{0});
  }
  // The input was in the arena before invoke() and is gone after it.
  CHECK(b::offset_of<b_in> + 3 <= b::arena_bytes);
}

TEST_CASE("SharedArena::wipe clears the whole storage") {
  static exclusive memory;
  auto first = memory.instance<a>();
  fill_a(first);
  first.invoke();
  memory.wipe();
  CHECK(std::all_of(std::begin(memory.storage), std::end(memory.storage), [](std::byte v) { return v == std::byte{0}; }));
}
