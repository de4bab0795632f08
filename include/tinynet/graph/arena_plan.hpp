// The compile-time arena planner.
//
// Input: for every tensor its size in bytes, the step that writes it (graph inputs: step 0; op k:
// step k + 1), the last step that reads it (graph outputs: one past the last op) and the tensor
// whose buffer it shares, with the byte offset of its start from that tensor's start (Reshape: 0;
// a slice that is a contiguous byte range of its input: where the range begins; an input of a Pack
// written straight into its slot of the output; a convolution whose output overlaps its input,
// starting below it: a negative offset). Shared tensors form one buffer group: it spans from its
// lowest member byte to its highest and lives over the union of its members' lifetimes; which
// members may overlap is decided by whoever sets shares_with (graph/network.hpp), not here.
// Groups are placed largest first at the lowest 16-byte-aligned offset that overlaps no already
// placed group alive at the same time: TFLM's greedy memory planner, run by the compiler.
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
  std::array<long, N> share_offset{};    // bytes from the start of tensor shares_with to this one's
};

template <std::size_t N>
struct ArenaPlan {
  std::array<std::size_t, N> offset{};
  std::size_t total_bytes = 0;
};

// Tensors that share a buffer form one group; the group's root stands for it: the span of its
// members' bytes and the union of their lifetimes. A member starts `at` bytes after the group's
// lowest byte (where the group is placed).
template <std::size_t N>
struct BufferGroups {
  std::array<std::size_t, N> root{};   // per tensor: its group's root
  std::array<std::size_t, N> at{};     // per tensor: its start, from the start of its group
  std::array<std::size_t, N> bytes{};  // per root
  std::array<int, N> first{};
  std::array<int, N> last{};
  std::array<bool, N> is_root{};
  // Per root: whether a member sits at an offset (a view, a gathered input, an overlap from below).
  // Such a group is checked against others member by member, each with its own bytes and
  // lifetime: its span is not reserved for its whole lifetime (vww: the bytes a widening
  // convolution adds below its input are not taken while the input's producer runs). A group
  // whose members all start at its start is checked as one block, as TFLM's planner would.
  std::array<bool, N> exact{};
  std::array<std::size_t, N> member_bytes{};  // per tensor, and its own first and last step
  std::array<int, N> member_first{};
  std::array<int, N> member_last{};
  // The members of each group, root by root: members of root r are member_list[member_begin[r]],
  // ... (member_count[r] of them).
  std::array<std::size_t, N> member_list{};
  std::array<std::size_t, N> member_begin{};
  std::array<std::size_t, N> member_count{};
};

template <std::size_t N>
constexpr BufferGroups<N> buffer_groups(const TensorLifetimes<N>& t) {
  BufferGroups<N> g{};
  std::array<long, N> from_root{};  // per tensor: its start relative to its root's
  std::array<long, N> low{}, high{};  // per root: the lowest and one past the highest member byte
  for (std::size_t i = 0; i < N; ++i) {
    std::size_t r = i;
    long offset = 0;
    while (t.shares_with[r] >= 0) {
      offset += t.share_offset[r];
      r = static_cast<std::size_t>(t.shares_with[r]);
    }
    g.root[i] = r;
    from_root[i] = offset;
    g.first[i] = 1 << 30;
    g.last[i] = -1;
    low[i] = 0;
    high[i] = 0;
  }
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t r = g.root[i];
    const long end = from_root[i] + static_cast<long>(t.bytes[i]);
    g.is_root[r] = true;
    low[r] = low[r] < from_root[i] ? low[r] : from_root[i];
    high[r] = high[r] > end ? high[r] : end;
    g.first[r] = g.first[r] < t.first[i] ? g.first[r] : t.first[i];
    g.last[r] = g.last[r] > t.last[i] ? g.last[r] : t.last[i];
  }
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t r = g.root[i];
    g.at[i] = static_cast<std::size_t>(from_root[i] - low[r]);
    if (g.is_root[i]) g.bytes[i] = static_cast<std::size_t>(high[i] - low[i]);
    g.member_bytes[i] = t.bytes[i];
    g.member_first[i] = t.first[i];
    g.member_last[i] = t.last[i];
  }
  for (std::size_t i = 0; i < N; ++i) {
    if (from_root[i] != 0) g.exact[g.root[i]] = true;
    ++g.member_count[g.root[i]];
  }
  std::size_t next = 0;
  for (std::size_t r = 0; r < N; ++r) {
    g.member_begin[r] = next;
    next += g.member_count[r];
  }
  std::array<std::size_t, N> filled{};
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t r = g.root[i];
    g.member_list[g.member_begin[r] + filled[r]++] = i;
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

// Where buffer b placed at `at` first collides with buffer j placed at offset_j: 0 if nowhere, else
// the lowest offset for b past that collision. Blocks are compared whole; an exact group (above)
// member by member.
template <std::size_t N>
constexpr std::size_t collision(const BufferGroups<N>& g, std::size_t b, std::size_t at, std::size_t j, std::size_t offset_j) {
  const bool coexist = g.first[j] <= g.last[b] && g.first[b] <= g.last[j];
  const std::size_t j_end = offset_j + align_up(g.bytes[j]);
  if (!coexist || at >= j_end || offset_j >= at + align_up(g.bytes[b])) return 0;
  if (!g.exact[b] && !g.exact[j]) return j_end;
  // Member rectangles: (start, bytes, first, last); a block is one rectangle.
  std::size_t past = 0;
  const std::size_t b_count = g.exact[b] ? g.member_count[b] : 1, j_count = g.exact[j] ? g.member_count[j] : 1;
  for (std::size_t mk = 0; mk < b_count; ++mk) {
    const std::size_t m = g.exact[b] ? g.member_list[g.member_begin[b] + mk] : b;
    const std::size_t m_at = g.exact[b] ? g.at[m] : 0, m_bytes = g.exact[b] ? g.member_bytes[m] : g.bytes[b];
    const int m_first = g.exact[b] ? g.member_first[m] : g.first[b], m_last = g.exact[b] ? g.member_last[m] : g.last[b];
    for (std::size_t nk = 0; nk < j_count; ++nk) {
      const std::size_t n = g.exact[j] ? g.member_list[g.member_begin[j] + nk] : j;
      const std::size_t n_at = g.exact[j] ? g.at[n] : 0, n_bytes = g.exact[j] ? g.member_bytes[n] : g.bytes[j];
      const int n_first = g.exact[j] ? g.member_first[n] : g.first[j], n_last = g.exact[j] ? g.member_last[n] : g.last[j];
      const std::size_t m_start = at + m_at, n_start = offset_j + n_at;
      if (m_first <= n_last && n_first <= m_last && m_start < n_start + n_bytes && n_start < m_start + m_bytes) {
        // b must start where m begins past n's end.
        const std::size_t need = n_start + n_bytes > m_at ? align_up(n_start + n_bytes - m_at) : 0;
        past = past > need ? past : need;
      }
    }
  }
  return past;
}

// The lowest aligned offset for buffer b clear of every buffer j with counts(j) (already placed, in
// the same memory).
template <std::size_t N, class Counts>
constexpr std::size_t lowest_clear_offset(const BufferGroups<N>& g, std::size_t b, const std::array<std::size_t, N>& offset,
                                          Counts counts) {
  std::size_t candidate = 0;
  bool moved = true;
  while (moved) {
    moved = false;
    for (std::size_t j = 0; j < N; ++j) {
      if (!counts(j)) continue;
      const std::size_t past = collision(g, b, candidate, j, offset[j]);
      if (past > candidate) {
        candidate = past;
        moved = true;
      }
    }
  }
  return candidate;
}

// Places the buffers in `order` (count of them), each at the lowest offset clear of every placed
// buffer it coexists with.
template <std::size_t N>
constexpr ArenaPlan<N> place_in_order(const BufferGroups<N>& g, const std::array<std::size_t, N>& order, std::size_t count) {
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
  const std::array<std::size_t, N> group_offset = plan.offset;
  for (std::size_t i = 0; i < N; ++i) plan.offset[i] = group_offset[g.root[i]] + g.at[i];
  return plan;
}

template <std::size_t N>
constexpr ArenaPlan<N> plan_arena(const TensorLifetimes<N>& t) {
  // 1. Resolve sharing into buffer groups.
  const BufferGroups<N> g = buffer_groups(t);

  // 2. Order the buffers: largest first, then earliest first.
  std::array<std::size_t, N> order{};
  std::size_t count = 0;
  bool any_exact = false;
  for (std::size_t i = 0; i < N; ++i)
    if (g.is_root[i]) {
      order[count++] = i;
      any_exact = any_exact || g.exact[i];
    }
  order_largest_first(g, order, count);

  // 3. Place them in that order. With exact groups, also with the exact groups last, and in the
  // order they are written, and keep the smallest plan (the first that small).
  const ArenaPlan<N> plan = place_in_order(g, order, count);
  if (!any_exact) return plan;
  std::array<std::size_t, N> blocks_first{};
  std::size_t k = 0;
  for (int pass = 0; pass < 2; ++pass)
    for (std::size_t i = 0; i < count; ++i)
      if (g.exact[order[i]] == (pass == 1)) blocks_first[k++] = order[i];
  const ArenaPlan<N> other = place_in_order(g, blocks_first, count);
  // And in the order they are written (first step, then largest first): an overlapping group then
  // fits around the buffers alive before it, and the next around it.
  std::array<std::size_t, N> by_time = order;  // a stable insertion sort
  for (std::size_t a = 1; a < count; ++a) {
    const std::size_t x = by_time[a];
    std::size_t b = a;
    for (; b > 0 && g.first[by_time[b - 1]] > g.first[x]; --b) by_time[b] = by_time[b - 1];
    by_time[b] = x;
  }
  const ArenaPlan<N> third = place_in_order(g, by_time, count);
  const ArenaPlan<N>& better = other.total_bytes < plan.total_bytes ? other : plan;
  return third.total_bytes < better.total_bytes ? third : better;
}

}  // namespace tinynet::detail
