// The compile-time arena planner.
//
// Input: for every tensor its size in bytes, the step that writes it (graph inputs: step 0; op k:
// step k + 1), the last step that reads it (graph outputs: one past the last op) and the tensor
// whose buffer it may share (Reshape outputs always; in-place element-wise outputs when their
// first input dies at that op). Shared tensors form one buffer whose lifetime is the union of
// theirs. Buffers are placed largest first at the lowest 16-byte-aligned offset that overlaps no
// already placed buffer alive at the same time: TFLM's greedy memory planner, run by the compiler.
#pragma once

#include <array>
#include <cstddef>

namespace tinynet::detail {

inline constexpr std::size_t arena_alignment = 16;

constexpr std::size_t align_up(std::size_t n) {
  return (n + arena_alignment - 1) / arena_alignment * arena_alignment;
}

template <std::size_t N>
struct TensorLifetimes {
  std::array<std::size_t, N> bytes{};
  std::array<int, N> first{};            // step that writes the tensor
  std::array<int, N> last{};             // last step that reads it
  std::array<int, N> shares_with{};      // tensor index whose buffer it reuses, or -1
};

template <std::size_t N>
struct ArenaPlan {
  std::array<std::size_t, N> offset{};
  std::size_t total_bytes = 0;
};

// Tensors that share a buffer form one group; the group's root stands for it: the largest member's
// bytes and the union of the members' lifetimes.
template <std::size_t N>
struct BufferGroups {
  std::array<std::size_t, N> root{};   // per tensor: its group's root
  std::array<std::size_t, N> bytes{};  // per root
  std::array<int, N> first{};
  std::array<int, N> last{};
  std::array<bool, N> is_root{};
};

template <std::size_t N>
constexpr BufferGroups<N> buffer_groups(const TensorLifetimes<N>& t) {
  BufferGroups<N> g{};
  for (std::size_t i = 0; i < N; ++i) {
    std::size_t r = i;
    while (t.shares_with[r] >= 0) r = static_cast<std::size_t>(t.shares_with[r]);
    g.root[i] = r;
    g.first[i] = 1 << 30;
    g.last[i] = -1;
  }
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t r = g.root[i];
    g.is_root[r] = true;
    g.bytes[r] = g.bytes[r] > t.bytes[i] ? g.bytes[r] : t.bytes[i];
    g.first[r] = g.first[r] < t.first[i] ? g.first[r] : t.first[i];
    g.last[r] = g.last[r] > t.last[i] ? g.last[r] : t.last[i];
  }
  return g;
}

// Orders `count` buffers largest first, then earliest first (a stable selection sort).
template <std::size_t N>
constexpr void order_largest_first(const BufferGroups<N>& g, std::array<std::size_t, N>& order, std::size_t count) {
  for (std::size_t a = 0; a < count; ++a)
    for (std::size_t b = a + 1; b < count; ++b) {
      const std::size_t x = order[a], y = order[b];
      if (g.bytes[y] > g.bytes[x] || (g.bytes[y] == g.bytes[x] && g.first[y] < g.first[x])) {
        order[a] = y;
        order[b] = x;
      }
    }
}

// The lowest aligned offset for buffer b clear of every buffer j with counts(j) (already placed, in
// the same memory) whose lifetime overlaps b's.
template <std::size_t N, class Counts>
constexpr std::size_t lowest_clear_offset(const BufferGroups<N>& g, std::size_t b, const std::array<std::size_t, N>& offset,
                                          Counts counts) {
  const std::size_t size = align_up(g.bytes[b]);
  std::size_t candidate = 0;
  bool moved = true;
  while (moved) {
    moved = false;
    for (std::size_t j = 0; j < N; ++j) {
      if (!counts(j)) continue;
      const bool coexist = g.first[j] <= g.last[b] && g.first[b] <= g.last[j];
      const std::size_t other_end = offset[j] + align_up(g.bytes[j]);
      if (coexist && candidate < other_end && offset[j] < candidate + size) {
        candidate = other_end;
        moved = true;
      }
    }
  }
  return candidate;
}

template <std::size_t N>
constexpr ArenaPlan<N> plan_arena(const TensorLifetimes<N>& t) {
  // 1. Resolve sharing into buffer groups.
  const BufferGroups<N> g = buffer_groups(t);

  // 2. Order the buffers: largest first, then earliest first.
  std::array<std::size_t, N> order{};
  std::size_t count = 0;
  for (std::size_t i = 0; i < N; ++i)
    if (g.is_root[i]) order[count++] = i;
  order_largest_first(g, order, count);

  // 3. Place each buffer at the lowest offset clear of every placed buffer it coexists with.
  ArenaPlan<N> plan{};
  std::array<bool, N> placed{};
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t b = order[k];
    const std::size_t at = lowest_clear_offset(g, b, plan.offset, [&](std::size_t j) { return placed[j]; });
    plan.offset[b] = at;
    placed[b] = true;
    const std::size_t end = at + align_up(g.bytes[b]);
    plan.total_bytes = plan.total_bytes > end ? plan.total_bytes : end;
  }
  for (std::size_t i = 0; i < N; ++i) plan.offset[i] = plan.offset[g.root[i]];
  return plan;
}

}  // namespace tinynet::detail
