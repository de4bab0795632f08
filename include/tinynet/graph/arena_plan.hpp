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

template <std::size_t N>
constexpr ArenaPlan<N> plan_arena(const TensorLifetimes<N>& t) {
  // 1. Resolve sharing into buffer groups (each tensor points at its group's root).
  std::array<std::size_t, N> root{};
  for (std::size_t i = 0; i < N; ++i) {
    std::size_t r = i;
    while (t.shares_with[r] >= 0) r = static_cast<std::size_t>(t.shares_with[r]);
    root[i] = r;
  }
  std::array<std::size_t, N> group_bytes{};
  std::array<int, N> group_first{};
  std::array<int, N> group_last{};
  std::array<bool, N> is_root{};
  for (std::size_t i = 0; i < N; ++i) {
    group_first[i] = 1 << 30;
    group_last[i] = -1;
  }
  for (std::size_t i = 0; i < N; ++i) {
    const std::size_t r = root[i];
    is_root[r] = true;
    group_bytes[r] = group_bytes[r] > t.bytes[i] ? group_bytes[r] : t.bytes[i];
    group_first[r] = group_first[r] < t.first[i] ? group_first[r] : t.first[i];
    group_last[r] = group_last[r] > t.last[i] ? group_last[r] : t.last[i];
  }

  // 2. Order the buffers: largest first, then earliest first (a stable selection sort).
  std::array<std::size_t, N> order{};
  std::size_t count = 0;
  for (std::size_t i = 0; i < N; ++i)
    if (is_root[i]) order[count++] = i;
  for (std::size_t a = 0; a < count; ++a)
    for (std::size_t b = a + 1; b < count; ++b) {
      const std::size_t x = order[a], y = order[b];
      const bool y_first = group_bytes[y] > group_bytes[x] ||
                           (group_bytes[y] == group_bytes[x] && group_first[y] < group_first[x]);
      if (y_first) {
        order[a] = y;
        order[b] = x;
      }
    }

  // 3. Place each buffer at the lowest offset clear of every placed buffer it coexists with.
  ArenaPlan<N> plan{};
  std::array<bool, N> placed{};
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t b = order[k];
    const std::size_t size = align_up(group_bytes[b]);
    std::size_t candidate = 0;
    bool moved = true;
    while (moved) {
      moved = false;
      for (std::size_t j = 0; j < N; ++j) {
        if (!placed[j]) continue;
        const bool coexist = group_first[j] <= group_last[b] && group_first[b] <= group_last[j];
        const std::size_t other_begin = plan.offset[j];
        const std::size_t other_end = other_begin + align_up(group_bytes[j]);
        if (coexist && candidate < other_end && other_begin < candidate + size) {
          candidate = other_end;
          moved = true;
        }
      }
    }
    plan.offset[b] = candidate;
    placed[b] = true;
    plan.total_bytes = plan.total_bytes > candidate + size ? plan.total_bytes : candidate + size;
  }
  for (std::size_t i = 0; i < N; ++i) plan.offset[i] = plan.offset[root[i]];
  return plan;
}

}  // namespace tinynet::detail
