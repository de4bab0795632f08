// Running a windowed op (DepthwiseConv2D, Conv2D) with its output over its input.
//
// The arena planner (graph/arena_plan.hpp) gives an op flagged `in_place` the buffer of its first
// input when that input dies at the op, so the op may be called with in == out (a Conv2D: its
// run_in_place, and only where the planner found that the arena shrinks: graph/network.hpp). A convolution
// cannot write an output row where it reads: later output rows still need the input rows under
// it. So output rows are computed into a small ring of rows (on the stack) and each is copied to
// its place `lag` rows later, when no output row still to be computed reads an input row its bytes
// overlap (TinyEngine's in-place depthwise convolution, row by row instead of channel by channel,
// which keeps the four-channel kernels). A 3x3 stride-1 layer lags one row (a ring of two rows),
// stride 2 none (one row). Everything below is decided by the compiler from the shapes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tinynet::detail {

// Copies ring rows first .. last (a ring of ring_rows rows of row_bytes) to their places in out,
// a word at a time. One function for all layers, and no call to the C library's memcpy, which a
// network might otherwise not link at all.
[[gnu::noinline]] inline void flush_rows(unsigned char* out, const unsigned char* ring, int first, int last,
                                         std::size_t row_bytes, int ring_rows) {
  for (int r = first; r <= last; ++r) {
    unsigned char* to = out + static_cast<std::size_t>(r) * row_bytes;
    const unsigned char* from = ring + static_cast<std::size_t>(r % ring_rows) * row_bytes;
    std::size_t i = 0;
#if defined(__ARM_ARCH) && !defined(__ARM_FEATURE_UNALIGNED)
    // No unaligned loads (Cortex-M0/M0+): words where both rows are word-aligned, else bytes.
    if (((reinterpret_cast<std::uintptr_t>(to) | reinterpret_cast<std::uintptr_t>(from)) & 3) != 0) {
      for (; i < row_bytes; ++i) to[i] = from[i];
      continue;
    }
    to = static_cast<unsigned char*>(__builtin_assume_aligned(to, 4));
    from = static_cast<const unsigned char*>(__builtin_assume_aligned(from, 4));
#endif
    // Four words in four scalars: an array of four (as until session 24) stayed on the stack at
    // -Os, about 50 instructions per 16 bytes (kws pruned 80 %: 21,000 per depthwise layer); now
    // four loads and four stores (unaligned ones where a row's size is not a multiple of four:
    // LDR/STR allow it on Cortex-M3 and later, GCC makes bytes of them on cores without).
    for (; i + 16 <= row_bytes; i += 16) {
      std::uint32_t a, b, c, d;
      __builtin_memcpy(&a, from + i, 4);
      __builtin_memcpy(&b, from + i + 4, 4);
      __builtin_memcpy(&c, from + i + 8, 4);
      __builtin_memcpy(&d, from + i + 12, 4);
      asm("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d));  // no memcpy call made of the loop
      __builtin_memcpy(to + i, &a, 4);
      __builtin_memcpy(to + i + 4, &b, 4);
      __builtin_memcpy(to + i + 8, &c, 4);
      __builtin_memcpy(to + i + 12, &d, 4);
    }
    for (; i + 4 <= row_bytes; i += 4) {
      std::uint32_t a;
      __builtin_memcpy(&a, from + i, 4);
      asm("" : "+r"(a));
      __builtin_memcpy(to + i, &a, 4);
    }
    for (; i < row_bytes; ++i) to[i] = from[i];
  }
}

// InRow / OutRow: elements of one input / output row (width x channels); one batch.
template <int InH, int InRow, int OutH, int OutRow, int StrideH, int PadH>
struct InPlaceRows {
  // The last output row whose window reads input row i (the largest oy with oy*s - pad <= i).
  static constexpr int last_reader(int i) {
    const int oy = (i + PadH) / StrideH;
    return oy < OutH - 1 ? oy : OutH - 1;
  }

  // Output row r may go to its place once output row r + lag has been computed: by then every
  // input row its bytes cover has no reader left.
  static constexpr int lag = [] {
    int most = 0;
    for (int r = 0; r < OutH; ++r) {
      const long first_in = static_cast<long>(r) * OutRow / InRow;
      long last_in = (static_cast<long>(r + 1) * OutRow - 1) / InRow;
      if (last_in > InH - 1) last_in = InH - 1;
      for (long i = first_in; i <= last_in; ++i) {
        const int wait = last_reader(static_cast<int>(i)) - r;
        most = most > wait ? most : wait;
      }
    }
    return most;
  }();
  static constexpr int ring_rows = lag + 1;
  static constexpr std::size_t ring_elements = static_cast<std::size_t>(ring_rows) * OutRow;

  // Calls row(oy, dst) for every output row, dst pointing at the output row itself, or, when
  // `ring` is not null (in place), at a ring row that is copied over the input `lag` rows later.
  template <class E, class RowFn>
  static constexpr void run(E* out, E* ring, RowFn&& row) {
    for (int oy = 0; oy < OutH; ++oy) {
      // One call site: the row's code is inlined once.
      row(oy, ring == nullptr ? out + oy * OutRow : ring + (oy % ring_rows) * OutRow);
      if (ring != nullptr && oy >= lag) flush(out, ring, oy - lag, oy - lag);
    }
    if (ring != nullptr) flush(out, ring, OutH - lag, OutH - 1);
  }

 private:
  template <class E>
  static void flush(E* out, const E* ring, int first, int last) {
    flush_rows(reinterpret_cast<unsigned char*>(out), reinterpret_cast<const unsigned char*>(ring), first, last,
               sizeof(E) * OutRow, ring_rows);
  }
};

}  // namespace tinynet::detail
