// Memory regions: one network's arena split over several RAMs, the hottest tensors in the fastest.
//
// Boards have several RAMs and the fast ones are small (a Cortex-M7's 64 KB DTCM next to 512 KB of
// SRAM; external PSRAM behind a cache). The user lists them fastest first with their sizes; the
// compiler ranks the network's buffers by bytes accessed per byte of buffer
// (Network::tensor_access_bytes) and puts each, hottest first, at the lowest offset of the first
// region where it fits next to the buffers alive at the same time; then each region is re-packed
// with the arena planner's own order where that is no larger. A network that does not fit is a
// compile error naming the tensor, its size and the budgets.
//
//   using plan = tinynet::RegionPlan<net, tinynet::Region<64 * 1024>, tinynet::Region<512 * 1024>>;
//   alignas(16) static std::byte dtcm[plan::bytes<0>] __attribute__((section(".dtcm_bss")));
//   alignas(16) static std::byte sram[plan::bytes<1>];
//   static tinynet::InstanceInRegions<net, plan> instance{{}, {dtcm, sram}};
//   instance.invoke();
//
// plan::bytes<R> is what region R must provide (at most its budget), plan::access_bytes<R> the bytes
// the network reads and writes there per inference (the estimate the ranking uses), plan::region_of
// <T> and plan::offset_of<T> where a tensor went.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

#include "instance.hpp"
#include "network.hpp"

namespace tinynet {

template <std::size_t Bytes>
struct Region {
  static constexpr std::size_t bytes = Bytes;
};

namespace detail {

template <std::size_t N, std::size_t R>
struct RegionAssignment {
  std::array<std::size_t, N> region{};
  std::array<std::size_t, N> offset{};
  std::array<std::size_t, R> bytes{};
  std::array<std::uint64_t, R> access_bytes{};
  std::size_t unplaced = N;  // a tensor that fits nowhere, or N
};

template <std::size_t N, std::size_t R>
constexpr RegionAssignment<N, R> assign_regions(const TensorLifetimes<N>& t, const std::array<std::uint64_t, N>& access,
                                                const std::array<std::size_t, R>& budget) {
  // Buffer groups (a tensor and those sharing its buffer), as the arena planner forms them.
  const BufferGroups<N> g = buffer_groups(t);
  std::array<std::uint64_t, N> hits{};
  for (std::size_t i = 0; i < N; ++i) hits[g.root[i]] += access[i];

  // Two orders: hottest per byte first (hits / bytes compared as hits_a * bytes_b > hits_b * bytes_a),
  // and most hits first; the assignment that keeps more traffic in the first regions wins. (Per
  // byte alone can fill a fast region with a small buffer and leave a larger, hotter one outside:
  // kws_ref_model, whose in-place layers share one 8,000-byte buffer, in 8 KB of fast RAM.)
  std::array<std::size_t, N> roots{};
  std::size_t count = 0;
  for (std::size_t i = 0; i < N; ++i)
    if (g.is_root[i]) roots[count++] = i;
  const auto sorted = [&](bool per_byte) {
    std::array<std::size_t, N> order = roots;
    for (std::size_t a = 0; a < count; ++a)
      for (std::size_t b = a + 1; b < count; ++b) {
        const std::size_t x = order[a], y = order[b];
        const std::uint64_t bx = per_byte && g.bytes[x] > 0 ? g.bytes[x] : 1, by = per_byte && g.bytes[y] > 0 ? g.bytes[y] : 1;
        if (hits[y] * bx > hits[x] * by) {
          order[a] = y;
          order[b] = x;
        }
      }
    return order;
  };

  const auto assign = [&](const std::array<std::size_t, N>& order) {
    RegionAssignment<N, R> out{};
    std::array<bool, N> placed{};
    const auto lowest_clear = [&](std::size_t b, std::size_t reg) {
      return lowest_clear_offset(g, b, out.offset, [&](std::size_t j) { return placed[j] && out.region[j] == reg; });
    };

    // 1. Hottest first, into the first region with room.
    for (std::size_t k = 0; k < count; ++k) {
      const std::size_t b = order[k];
      bool done = false;
      for (std::size_t reg = 0; reg < R && !done; ++reg) {
        const std::size_t at = lowest_clear(b, reg);
        if (at + align_up(g.bytes[b]) <= budget[reg]) {
          out.region[b] = reg;
          out.offset[b] = at;
          placed[b] = true;
          done = true;
        }
      }
      if (!done) {
        out.unplaced = b;
        return out;
      }
    }

    // 2. Re-pack each region in the arena planner's order (largest first) when that takes less.
    for (std::size_t reg = 0; reg < R; ++reg) {
      std::size_t greedy = 0;
      std::array<std::size_t, N> members{};
      std::size_t m = 0;
      for (std::size_t i = 0; i < count; ++i) {
        const std::size_t b = order[i];
        if (out.region[b] != reg) continue;
        members[m++] = b;
        const std::size_t end = out.offset[b] + align_up(g.bytes[b]);
        greedy = end > greedy ? end : greedy;
      }
      order_largest_first(g, members, m);
      const RegionAssignment<N, R> before = out;
      const std::array<bool, N> was_placed = placed;
      for (std::size_t i = 0; i < m; ++i) placed[members[i]] = false;
      std::size_t packed = 0;
      for (std::size_t i = 0; i < m; ++i) {
        const std::size_t b = members[i];
        out.offset[b] = lowest_clear(b, reg);
        placed[b] = true;
        const std::size_t end = out.offset[b] + align_up(g.bytes[b]);
        packed = end > packed ? end : packed;
      }
      if (packed > greedy) {
        out = before;
        placed = was_placed;
        packed = greedy;
      }
      out.bytes[reg] = packed;
    }
    const RegionAssignment<N, R> groups = out;
    for (std::size_t i = 0; i < N; ++i) {
      out.region[i] = groups.region[g.root[i]];
      out.offset[i] = groups.offset[g.root[i]] + g.at[i];
      out.access_bytes[out.region[i]] += access[i];
    }
    return out;
  };
  const RegionAssignment<N, R> by_density = assign(sorted(true));
  const RegionAssignment<N, R> by_hits = assign(sorted(false));
  if (by_density.unplaced != N) return by_hits.unplaced == N ? by_hits : by_density;
  if (by_hits.unplaced != N) return by_density;
  for (std::size_t reg = 0; reg < R; ++reg)
    if (by_hits.access_bytes[reg] != by_density.access_bytes[reg])
      return by_hits.access_bytes[reg] > by_density.access_bytes[reg] ? by_hits : by_density;
  return by_density;
}

template <class Tensor, std::size_t TensorBytes, std::size_t... Budgets>
struct tensor_does_not_fit_in_the_regions {
  static_assert(sizeof(Tensor) == 0,
                "tinynet: RegionPlan: the network does not fit its memory regions: the tensor named in this "
                "instantiation (its size in bytes next to it, then each region's budget) finds no region with room "
                "next to the tensors alive at the same time; enlarge a region or add one");
  static constexpr bool ok = false;
};

}  // namespace detail

template <class Net, class... Regions>
struct RegionPlan {
  static_assert(sizeof...(Regions) > 0, "tinynet: RegionPlan needs at least one Region<bytes>");
  using network = Net;
  static constexpr std::size_t region_count = sizeof...(Regions);
  static constexpr std::array<std::size_t, region_count> budgets{Regions::bytes...};

 private:
  static constexpr auto assignment =
      detail::assign_regions(Net::arena_lifetimes, Net::tensor_access_bytes, budgets);
  static constexpr bool fits = [] {
    if constexpr (assignment.unplaced == Net::tensor_count) {
      return true;
    } else {
      using tensor = type_at<assignment.unplaced, typename Net::tensors>;
      return detail::tensor_does_not_fit_in_the_regions<tensor, tensor::bytes, Regions::bytes...>::ok;
    }
  }();
  static_assert(fits);

 public:
  // Bytes region R must provide (its budget at most), and the bytes read and written there per
  // inference (estimated as Network::tensor_access_bytes).
  template <std::size_t R>
  static constexpr std::size_t bytes = assignment.bytes[R];
  template <std::size_t R>
  static constexpr std::uint64_t access_bytes = assignment.access_bytes[R];
  template <class T>
  static constexpr std::size_t region_of = assignment.region[Net::template tensor_index<T>];
  template <class T>
  static constexpr std::size_t offset_of = assignment.offset[Net::template tensor_index<T>];

  // Addresses for Network::invoke_at: region base + offset.
  struct Address {
    const std::array<std::byte*, region_count>& base;
    template <class T>
    typename T::element* operand() const {
      return reinterpret_cast<typename T::element*>(base[region_of<T>] + offset_of<T>);
    }
    template <class T>
    typename T::element* result() const {
      return operand<T>();
    }
    template <class Op>
    static constexpr bool skip() {
      return false;
    }
  };
};

// A network whose arena is split over regions as Plan says: `base` holds each region's storage
// (Plan::bytes<R> bytes, aligned to Net::arena_alignment), fastest first.
template <class Net, class Plan>
struct InstanceInRegions {
  static_assert(std::is_same_v<typename Plan::network, Net>, "tinynet: InstanceInRegions: the plan is for another network");
  std::array<std::byte*, Plan::region_count> base;

  template <std::size_t I = 0>
  auto input() {
    using T = typename Net::template input_t<I>;
    return std::span<typename T::element, static_cast<std::size_t>(T::size)>(
        typename Plan::Address{base}.template operand<T>(), static_cast<std::size_t>(T::size));
  }
  template <std::size_t I = 0>
  auto output() {
    using T = typename Net::template output_t<I>;
    return std::span<typename T::element, static_cast<std::size_t>(T::size)>(
        typename Plan::Address{base}.template operand<T>(), static_cast<std::size_t>(T::size));
  }
  void invoke() { Net::invoke_at(typename Plan::Address{base}); }
  // A stateful network's state back to its initial values (Network::reset); invoke() does it by
  // itself after wipe() or on zeroed regions.
  void reset() { Net::reset_at(typename Plan::Address{base}); }
  // Clears every region's part of the arena, state included (see Instance::wipe).
  void wipe() { wipe_regions(std::make_index_sequence<Plan::region_count>{}); }

 private:
  template <std::size_t... R>
  void wipe_regions(std::index_sequence<R...>) {
    (detail::secure_zero(base[R], Plan::template bytes<R>), ...);
  }
};

}  // namespace tinynet
