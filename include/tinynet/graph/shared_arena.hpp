// SharedArena: several networks, one arena, laid out by the compiler.
//
// A product that runs a cheap network on every frame and a larger one only when the first says so
// (a wake word before a command recogniser, an anomaly detector before a classifier) never needs
// both arenas at once. Networks listed directly share the same bytes, so the storage is the largest
// arena, not the sum:
//
//   static tinynet::SharedArena<wake::network, command::network> memory;   // .bss: max of the two
//   auto wake = memory.instance<wake::network>();
//   auto command = memory.instance<command::network>();
//   wake.invoke();                       // read wake's outputs before command writes its input:
//   if (wake.output()[2] > 0) { ... command.invoke(); }    // the two arenas are the same bytes
//
// Networks that must stay alive together (one's output read while the other runs, or two
// pipelines interleaved) are grouped with Together<...>: inside a group each network gets its own
// bytes, one after the other, and the group takes their sum. Groups share with each other. A
// network may be placed by hand with At<Net, Offset> (offset in bytes from the arena's start, a
// multiple of arena_alignment); networks of one group placed so that their arenas would overlap
// are a compile error naming both offsets.
//
//   tinynet::SharedArena<tinynet::Together<a::network, b::network>, c::network>
//     storage: max(a + b, c); a and b alive together, c alone.
//
// A stateful network (Network::is_stateful: an SVDF or LSTM keeping state across invoke() calls)
// needs its state bytes untouched between its invokes: a SharedArena in which another network's
// arena covers any of them does not compile (state_overwritten_by_another_network<...> names both
// networks and their offsets). Put the two in one Together<...>, or place the other with At<> where
// it leaves the state alone. See docs/design.md, "State".
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "instance.hpp"

namespace tinynet {

template <class Net, std::size_t Offset>
struct At {};
template <class... Members>
struct Together {};

namespace detail {

// A member of a group: a network, placed after the previous member or at a fixed offset.
template <class Member>
struct member_placement {
  using network = Member;
  static constexpr bool fixed = false;
  static constexpr std::size_t offset = 0;
};
template <class Net, std::size_t Offset>
struct member_placement<At<Net, Offset>> {
  using network = Net;
  static constexpr bool fixed = true;
  static constexpr std::size_t offset = Offset;
  static_assert(Offset % Net::arena_alignment == 0,
                "tinynet: SharedArena: At<Net, Offset>: the offset must be a multiple of the network's arena_alignment");
};

constexpr std::size_t align_up(std::size_t n, std::size_t alignment) { return (n + alignment - 1) / alignment * alignment; }

// Where each member of a group starts, and how far the group reaches.
template <class... Members>
struct group_layout {
  static constexpr std::size_t size = sizeof...(Members);
  using networks = TypeList<typename member_placement<Members>::network...>;
  static constexpr std::array<std::size_t, size> bytes{member_placement<Members>::network::arena_bytes...};
  static constexpr std::array<std::size_t, size> offsets = [] {
    constexpr std::array<bool, size> fixed{member_placement<Members>::fixed...};
    constexpr std::array<std::size_t, size> given{member_placement<Members>::offset...};
    constexpr std::array<std::size_t, size> alignment{member_placement<Members>::network::arena_alignment...};
    std::array<std::size_t, size> at{};
    std::size_t cursor = 0;
    for (std::size_t i = 0; i < size; ++i) {
      at[i] = fixed[i] ? given[i] : align_up(cursor, alignment[i]);
      cursor = at[i] + bytes[i];
    }
    return at;
  }();
  static constexpr std::size_t end = [] {
    std::size_t e = 0;
    for (std::size_t i = 0; i < size; ++i) e = offsets[i] + bytes[i] > e ? offsets[i] + bytes[i] : e;
    return e;
  }();
  // The first pair of members whose arenas overlap, or {size, size}.
  static constexpr std::array<std::size_t, 2> overlap = [] {
    for (std::size_t i = 0; i < size; ++i)
      for (std::size_t j = i + 1; j < size; ++j)
        if (bytes[i] > 0 && bytes[j] > 0 && offsets[i] < offsets[j] + bytes[j] && offsets[j] < offsets[i] + bytes[i])
          return std::array<std::size_t, 2>{i, j};
    return std::array<std::size_t, 2>{size, size};
  }();

  template <class Net>
  static constexpr std::size_t count = (std::size_t{0} + ... + std::is_same_v<Net, typename member_placement<Members>::network>);
  template <class Net>
  static constexpr std::size_t offset_of = [] {
    constexpr std::array<bool, size> match{std::is_same_v<Net, typename member_placement<Members>::network>...};
    for (std::size_t i = 0; i < size; ++i)
      if (match[i]) return offsets[i];
    return std::size_t{0};
  }();
};

template <std::size_t A, std::size_t ABytes, std::size_t B, std::size_t BBytes>
struct networks_declared_together_overlap {
  static_assert(A + ABytes <= B || B + BBytes <= A,
                "tinynet: SharedArena: two networks declared Together<...> overlap: the bytes [A, A + ABytes) and "
                "[B, B + BBytes) named in this instantiation are both in use at once; move one At<Net, Offset>");
  static constexpr bool ok = true;
};

template <class Group>
struct group_of {
  using type = group_layout<Group>;
};
template <class... Members>
struct group_of<Together<Members...>> {
  using type = group_layout<Members...>;
};

template <class Layout>
constexpr bool group_is_disjoint() {
  if constexpr (Layout::overlap[0] == Layout::size) {
    return true;
  } else {
    constexpr std::size_t i = Layout::overlap[0], j = Layout::overlap[1];
    return networks_declared_together_overlap<Layout::offsets[i], Layout::bytes[i], Layout::offsets[j],
                                              Layout::bytes[j]>::ok;
  }
}

template <class Stateful, std::size_t StatefulOffset, class Other, std::size_t OtherOffset>
struct state_overwritten_by_another_network {
  static_assert(sizeof(Stateful) == 0,
                "tinynet: SharedArena: the arena of another network (Other, at OtherOffset, named in this "
                "instantiation) covers state that a stateful network (Stateful, at StatefulOffset) keeps between "
                "its invokes; list the two in one Together<...>, or place Other with At<Net, Offset> clear of that state");
};

// Whether Other's arena (at OtherOffset) leaves every state byte of Stateful (at StatefulOffset) alone.
template <class Stateful, std::size_t StatefulOffset, class Other, std::size_t OtherOffset>
constexpr bool state_left_alone() {
  constexpr bool ok = [] {
    for (const ByteRange r : state_ranges<Stateful>::value)
      if (StatefulOffset + r.begin < OtherOffset + Other::arena_bytes && OtherOffset < StatefulOffset + r.end) return false;
    return true;
  }();
  if constexpr (!ok) (void)state_overwritten_by_another_network<Stateful, StatefulOffset, Other, OtherOffset>{};
  return ok;
}

// Every stateful member of every group keeps its state from the members of every other group
// (members of one group are disjoint already).
template <class A, std::size_t I, class B, std::size_t... J>
constexpr bool member_state_kept(std::index_sequence<J...>) {
  return (state_left_alone<type_at<I, typename A::networks>, A::offsets[I], type_at<J, typename B::networks>, B::offsets[J]>() &&
          ...);
}
template <class A, class B, std::size_t... I>
constexpr bool group_state_kept(std::index_sequence<I...>) {
  return (member_state_kept<A, I, B>(std::make_index_sequence<B::size>{}) && ...);
}
template <std::size_t Ga, class Layouts, std::size_t... Gb>
constexpr bool state_kept_from(std::index_sequence<Gb...>) {
  return ([] {
    if constexpr (Ga == Gb) {
      return true;
    } else {
      using A = type_at<Ga, Layouts>;
      return group_state_kept<A, type_at<Gb, Layouts>>(std::make_index_sequence<A::size>{});
    }
  }() && ...);
}
template <class... Layouts, std::size_t... Ga>
constexpr bool state_kept(std::index_sequence<Ga...> groups) {
  return (state_kept_from<Ga, TypeList<Layouts...>>(groups) && ...);
}

template <class Net>
struct network_not_in_shared_arena {
  static_assert(sizeof(Net) == 0,
                "tinynet: SharedArena::instance<Net>(): Net is not one of the networks this SharedArena was declared with");
};
template <class Net>
struct network_twice_in_shared_arena {
  static_assert(sizeof(Net) == 0,
                "tinynet: SharedArena: a network is listed twice; list it once (inside Together<...> if it must stay "
                "alive with others)");
};

}  // namespace detail

template <class... Groups>
class SharedArena {
  template <class G>
  using layout = typename detail::group_of<G>::type;

  static_assert(sizeof...(Groups) > 0, "tinynet: SharedArena needs at least one network");
  static_assert((detail::group_is_disjoint<layout<Groups>>() && ...));

  template <class Net>
  static constexpr std::size_t count = (std::size_t{0} + ... + layout<Groups>::template count<Net>);

  // No network's arena covers the state of a network in another group.
  static_assert(detail::state_kept<layout<Groups>...>(std::index_sequence_for<Groups...>{}));

 public:
  // Bytes of the shared storage: the largest group (a group's extent is its members' sum).
  static constexpr std::size_t arena_bytes = [] {
    std::size_t m = 0;
    ((m = layout<Groups>::end > m ? layout<Groups>::end : m), ...);
    return m;
  }();
  static constexpr std::size_t arena_alignment = detail::arena_alignment;
  // What the same networks would take with an Instance each: the figure the sharing saves from.
  static constexpr std::size_t separate_bytes = (std::size_t{0} + ... + layout<Groups>::end);

  // Where Net's arena starts inside the shared storage.
  template <class Net>
  static constexpr std::size_t offset_of = [] {
    if constexpr (count<Net> == 0) {
      return std::size_t{sizeof(detail::network_not_in_shared_arena<Net>)};
    } else if constexpr (count<Net> > 1) {
      return std::size_t{sizeof(detail::network_twice_in_shared_arena<Net>)};
    } else {
      return (std::size_t{0} + ... + layout<Groups>::template offset_of<Net>);
    }
  }();

  // A view running Net in its part of the shared storage (InstanceIn: input(), invoke(), output(),
  // wipe()...). Views are two words; take them once and keep them.
  template <class Net, AfterInvoke Policy = AfterInvoke::keep>
  InstanceIn<Net, Policy> instance() {
    return InstanceIn<Net, Policy>{{}, storage + offset_of<Net>};
  }

  // Clears the whole shared storage, state included (see Instance::wipe).
  void wipe() { detail::secure_zero(storage, sizeof(storage)); }

  alignas(arena_alignment) std::byte storage[arena_bytes > 0 ? arena_bytes : 1];
};

}  // namespace tinynet
