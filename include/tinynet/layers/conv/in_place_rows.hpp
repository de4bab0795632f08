// Running a windowed op (DepthwiseConv2D) with its output over its input.
//
// The arena planner (graph/arena_plan.hpp) gives an op flagged `in_place` the buffer of its first
// input when that input dies at the op, so the op may be called with in == out. A convolution
// cannot write an output row where it reads: later output rows still need the input rows under
// it. So output rows are computed into a small ring of rows (on the stack) and each is copied to
// its place as soon as no output row still to be computed reads an input row its bytes overlap
// (TinyEngine's in-place depthwise convolution, row by row instead of channel by channel, which
// keeps the four-channel kernels). A 3x3 stride-1 layer needs two rows of ring, stride 2 one.
// Everything below is decided by the compiler from the shapes.
#pragma once

#include <array>
#include <cstddef>

namespace tinynet::detail {

// InRow / OutRow: elements of one input / output row (width x channels); one batch.
template <int InH, int InRow, int OutH, int OutRow, int StrideH, int PadH>
struct InPlaceRows {
  // The last output row whose window reads input row i (the largest oy with oy*s - pad <= i).
  static constexpr int last_reader(int i) {
    const int oy = (i + PadH) / StrideH;
    return oy < OutH - 1 ? oy : OutH - 1;
  }

  // Output row r may be written to its place once output row flush_after[r] has been computed:
  // every input row its bytes cover has no reader left (and r itself is computed).
  static constexpr std::array<int, static_cast<std::size_t>(OutH)> flush_after = [] {
    std::array<int, static_cast<std::size_t>(OutH)> after{};
    for (int r = 0; r < OutH; ++r) {
      int latest = r;
      const long first_in = static_cast<long>(r) * OutRow / InRow;
      long last_in = (static_cast<long>(r + 1) * OutRow - 1) / InRow;
      if (last_in > InH - 1) last_in = InH - 1;
      for (long i = first_in; i <= last_in; ++i) {
        const int reader = last_reader(static_cast<int>(i));
        latest = latest > reader ? latest : reader;
      }
      after[static_cast<std::size_t>(r)] = latest;
    }
    return after;
  }();

  // Rows computed but not yet written back at the worst moment, rows flushed in order.
  static constexpr int ring_rows = [] {
    int flushed = 0, most = 1;
    for (int oy = 0; oy < OutH; ++oy) {
      most = most > oy - flushed + 1 ? most : oy - flushed + 1;
      while (flushed <= oy && flush_after[static_cast<std::size_t>(flushed)] <= oy) ++flushed;
    }
    return most;
  }();

  static constexpr std::size_t ring_elements = static_cast<std::size_t>(ring_rows) * OutRow;

  // Calls row(oy, dst) for every output row, dst pointing at the output row itself, or, when
  // `ring` is not null (in place), at a ring row that is then copied over the input in order.
  template <class E, class RowFn>
  static constexpr void run(E* out, E* ring, RowFn&& row) {
    int flushed = 0;
    for (int oy = 0; oy < OutH; ++oy) {
      if (ring == nullptr) {
        row(oy, out + oy * OutRow);
        continue;
      }
      row(oy, ring + (oy % ring_rows) * OutRow);
      while (flushed <= oy && flush_after[static_cast<std::size_t>(flushed)] <= oy) {
        __builtin_memcpy(out + flushed * OutRow, ring + (flushed % ring_rows) * OutRow, sizeof(E) * OutRow);
        ++flushed;
      }
    }
  }
};

}  // namespace tinynet::detail
