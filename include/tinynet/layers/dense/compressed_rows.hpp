// The `compressed` sparse form of an int8 weight matrix: only the non-zero values reach flash,
// each with a byte that gives its column, walked by a loop whose bounds are compile-time tables.
//
// Row o's entries are (value, column byte), two bytes side by side. Where no non-zero weight's
// column is beyond 255, the byte is the entry's column (`absolute`: each entry's address is one
// load away, independent of the others'). Else it is a step: the column of an entry is the
// previous entry's column plus its step, starting from column 0 (the first entry's step is its
// column), and a gap of more than 255 columns is bridged by filler entries of value 0 and step
// 255, which add 0 * x.
// Flash: 2 bytes per entry plus 2 bytes per row.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../../core/sparsity.hpp"
#include "../../core/target.hpp"
#include "../../kernels/unroll.hpp"
#include "paired_columns.hpp"

namespace tinynet::kernels {

// Element i of row o is Weights[Layout::weight(o, i)] at input column Layout::column(o, i)
// (core/sparsity.hpp; row-major by default; columns must not decrease along a row).
template <const auto& Weights, int Units, int Depth, class Layout = sparsity::RowMajor<Depth>>
struct CompressedRows {
  static constexpr int max_step = 255;
  // The largest column a non-zero weight multiplies (a layout's columns may reach past Depth: a
  // depthwise window's offsets in the image).
  static constexpr int last_column = [] {
    int last = 0;
    for (int o = 0; o < Units; ++o)
      for (int i = 0; i < Depth; ++i)
        if (Weights[Layout::weight(o, i)] != 0 && Layout::column(o, i) > last) last = Layout::column(o, i);
    return last;
  }();
  static constexpr bool absolute = last_column <= 255;
  // The column of an entry whose column byte is `byte`, after an entry at column `previous` (0
  // before a row's first).
  TINYNET_INLINE_UNROLLED static constexpr int column_of(int previous, std::uint8_t byte) {
    return absolute ? byte : previous + byte;
  }
  // The kernels walk a row `group` entries at a time, its first n % group entries (its head)
  // before them (walk_row): no remainder loop, and no padding entries (until session 24 each row
  // was padded to a multiple of four with entries of value 0, about 1.5 per row, each walked once
  // per pass).
  static constexpr int group = 4;

  // Entries of row o: one per non-zero weight and the fillers of gaps wider than max_step.
  static constexpr int row_entries(int o) {
    int entries = 0;
    int previous = 0;  // column of the previous entry (0 before the first)
    for (int i = 0; i < Depth; ++i) {
      if (Weights[Layout::weight(o, i)] == 0) continue;
      const int column = Layout::column(o, i);
      const int gap = column - previous;
      entries += 1 + (!absolute && gap > max_step ? (gap - 1) / max_step : 0);
      previous = column;
    }
    return entries;
  }

  static constexpr int entries = [] {
    int total = 0;
    for (int o = 0; o < Units; ++o) total += row_entries(o);
    return total;
  }();

  // Entries per row.
  static_assert(Depth <= 65535, "tinynet: the compressed sparse form counts a row's entries in 16 bits: "
                                "use SparseForm::unrolled or SparseForm::dense for input depths above 65535");
  static constexpr std::array<std::uint16_t, Units> counts = [] {
    std::array<std::uint16_t, Units> out{};
    for (int o = 0; o < Units; ++o) out[static_cast<std::size_t>(o)] = static_cast<std::uint16_t>(row_entries(o));
    return out;
  }();


  // The entries, two bytes each: entry k's value at [2k], its column byte at [2k + 1]. One
  // pointer walks both (until session 25 values and column bytes were two tables, and GCC kept a
  // pointer into each, advanced apart).
  static constexpr std::array<std::int8_t, 2 * static_cast<std::size_t>(entries)> tables = [] {
    std::array<std::int8_t, 2 * static_cast<std::size_t>(entries)> out{};  // fillers stay value 0
    std::size_t k = 0;
    const auto put = [&out, &k](std::int8_t value, int byte) {
      out[2 * k] = value;
      out[2 * k + 1] = static_cast<std::int8_t>(static_cast<std::uint8_t>(byte));
      ++k;
    };
    for (int o = 0; o < Units; ++o) {
      int previous = 0;
      for (int i = 0; i < Depth; ++i) {
        const std::int8_t w = Weights[Layout::weight(o, i)];
        if (w == 0) continue;
        const int column = Layout::column(o, i);
        if constexpr (!absolute)
          for (; column - previous > max_step; previous += max_step) put(0, max_step);  // fillers
        put(w, absolute ? column : column - previous);
        previous = column;
      }
    }
    return out;
  }();

  // Entry k's value and column byte, for an entry pointer `e` (into tables) and an offset k.
  TINYNET_INLINE_UNROLLED static constexpr std::int32_t value(const std::int8_t* e, int k) { return e[2 * k]; }
  TINYNET_INLINE_UNROLLED static constexpr std::uint8_t column_byte(const std::int8_t* e, int k) {
    return static_cast<std::uint8_t>(e[2 * k + 1]);
  }
  // The values and the column bytes as arrays of their own (tests, inspection; no kernel reads them).
  static constexpr std::array<std::int8_t, static_cast<std::size_t>(entries)> values() {
    std::array<std::int8_t, static_cast<std::size_t>(entries)> out{};
    for (int k = 0; k < entries; ++k) out[static_cast<std::size_t>(k)] = static_cast<std::int8_t>(value(tables.data(), k));
    return out;
  }
  static constexpr std::array<std::uint8_t, static_cast<std::size_t>(entries)> columns() {
    std::array<std::uint8_t, static_cast<std::size_t>(entries)> out{};
    for (int k = 0; k < entries; ++k) out[static_cast<std::size_t>(k)] = column_byte(tables.data(), k);
    return out;
  }

  // Flash the form stores: the entries and the per-row entry counts.
  static constexpr std::size_t table_bytes = sizeof(tables) + sizeof(counts);

  // Walks a row of n entries from `e` (its first entry in tables): mac(p, k) for every entry, in
  // order, the entry being p's k-th (value(p, k), column_byte(p, k)); returns where the next row
  // starts. The row's first n % group entries (its head, 0 to 3) come first, through a switch that
  // falls through them with p already past them (k = -3 .. -1: constant offsets), then its groups
  // of four in a loop tested at its end (one pointer, one comparison per group).
  template <class Mac>
  TINYNET_INLINE_UNROLLED static constexpr const std::int8_t* walk_row(const std::int8_t* e, int n, Mac&& mac) {
    static_assert(group == 4);
    const int head = n % group;
    const std::int8_t* const end = e + 2 * n;
    e += 2 * head;
    switch (head) {
      case 3: mac(e, -3); [[fallthrough]];
      case 2: mac(e, -2); [[fallthrough]];
      case 1: mac(e, -1); break;
      default: break;
    }
    // (Guarded by n, not by e != end: GCC merges a guard equal to the loop's condition into a
    // loop tested at its start, with a branch back: one more instruction per group.)
    if (n >= group) {
      do {
        TINYNET_UNROLL
        for (int j = 0; j < group; ++j) mac(e, j);
        e += 2 * group;
      } while (e != end);
    }
    return e;
  }

  // acc[k][r] = dot product of row first_row + r with input x[k], for r < rows and k < Inputs (1
  // or 2: two inputs read in place, e.g. two depthwise windows, share each entry's loads of its
  // value and column). `entry` is where row first_row starts in the tables (0 for row 0); on
  // return, where the next row starts.
  // (Not inlined: inside a caller's loops GCC 12 spills the walk's pointers to the stack.)
  template <int Inputs = 1>
  TINYNET_NOINLINE static constexpr void run(const std::int8_t* const* x, int first_row, int rows,
                                             std::int32_t (*acc)[32], std::size_t& entry) {
    static_assert(Inputs == 1 || Inputs == 2);
    const std::int8_t* const x0 = x[0];
    const std::int8_t* const x1 = x[Inputs - 1];
    const std::int8_t* e = tables.data() + 2 * entry;
    // The loop runs on the rows' counts (compile-time: the walk is bounded by the table), not on
    // a row index (with both, GCC kept the number of rows on the stack).
    const std::uint16_t* count = counts.data() + first_row;
    const std::uint16_t* const last = count + rows;
    for (int r = 0; count != last; ++count, ++r) {
      int column = 0;
      std::int32_t sum0 = 0, sum1 = 0;
      e = walk_row(e, *count, [&](const std::int8_t* p, int k) __attribute__((always_inline)) {
        column = column_of(column, column_byte(p, k));
        const std::int32_t w = value(p, k);
        sum0 += w * x0[column];
        if constexpr (Inputs == 2) sum1 += w * x1[column];
      });
      acc[0][r] = sum0;
      if constexpr (Inputs == 2) acc[1][r] = sum1;
    }
    entry = static_cast<std::size_t>(e - tables.data()) / 2;
  }

  // The same walk over two or four inputs at once, their columns packed by
  // paired::pack_columns<Inputs> (paired_columns.hpp); acc[k][r] receives row first_row + r's dot
  // product with input k. One load of a column serves every input: per entry the column byte, the
  // value, the column's address, its word (two inputs: LDR) or words (four: LDRD) and two or four
  // multiply-accumulates, 6 instructions for two inputs, 8 for four (and a step's addition where
  // the columns are steps). (The caller's output stage inside this loop, with no accumulators
  // through memory, took more: the sums and the output pointers went to the stack.)
  template <int Inputs>
  TINYNET_NOINLINE static constexpr void run_columns(const std::int32_t* columns, int first_row, int rows,
                                                     std::int32_t (*acc)[32], std::size_t& entry) {
    static_assert(Inputs == 2 || Inputs == 4);
    constexpr int words = Inputs / 2;
    const std::int8_t* e = tables.data() + 2 * entry;
    const std::uint16_t* count = counts.data() + first_row;
    const std::uint16_t* const last = count + rows;
    for (int r = 0; count != last; ++count, ++r) {
      int column = 0;
      std::int32_t sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
      e = walk_row(e, *count, [&](const std::int8_t* p, int k) __attribute__((always_inline)) {
        column = column_of(column, column_byte(p, k));
        paired::mac_column<Inputs>(value(p, k), columns + words * column, sum0, sum1, sum2, sum3);
      });
      acc[0][r] = sum0;
      acc[1][r] = sum1;
      if constexpr (Inputs == 4) {
        acc[2][r] = sum2;
        acc[3][r] = sum3;
      }
    }
    entry = static_cast<std::size_t>(e - tables.data()) / 2;
  }
};

}  // namespace tinynet::kernels
