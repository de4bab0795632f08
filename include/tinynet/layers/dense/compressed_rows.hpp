// The `compressed` sparse form of an int8 weight matrix: only the non-zero values reach flash,
// each with a byte that gives its column, walked by a loop whose bounds are compile-time tables.
//
// Row o's entries are (value, column byte). Where no non-zero weight's column is beyond 255, the
// byte is the entry's column (`absolute`: each entry's address is one load away, independent of
// the others'). Else it is a step: the column of an entry is the previous entry's column plus its
// step, starting from column 0 (the first entry's step is its column), and a gap of more than 255
// columns is bridged by filler entries of value 0 and step 255, which add 0 * x.
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
  // The kernels walk a row `group` entries at a time. A row's first n % group entries (its head)
  // are read as the last entries of a group that would start before them, through a switch that
  // falls through them (walk_head): no remainder loop, and no padding entries (until session 24
  // each row was padded to a multiple of four with entries of value 0, about 1.5 per row, each
  // walked once per pass).
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


  struct Tables {
    std::array<std::int8_t, static_cast<std::size_t>(entries)> values{};
    std::array<std::uint8_t, static_cast<std::size_t>(entries)> columns{};  // column bytes
  };
  static constexpr Tables tables = [] {
    Tables out{};  // fillers stay value 0
    std::size_t k = 0;
    for (int o = 0; o < Units; ++o) {
      const std::size_t row_end = k + static_cast<std::size_t>(row_entries(o));
      int previous = 0;
      for (int i = 0; i < Depth; ++i) {
        const std::int8_t w = Weights[Layout::weight(o, i)];
        if (w == 0) continue;
        const int column = Layout::column(o, i);
        if constexpr (!absolute)
          for (; column - previous > max_step; previous += max_step, ++k) out.columns[k] = max_step;  // fillers
        out.values[k] = w;
        out.columns[k] = static_cast<std::uint8_t>(absolute ? column : column - previous);
        ++k;
        previous = column;
      }
      k = row_end;
    }
    return out;
  }();

  // Flash the form stores: values, column bytes and per-row entry counts.
  static constexpr std::size_t table_bytes = sizeof(tables.values) + sizeof(tables.columns) + sizeof(counts);

  // A row's head (its first n % group entries, 0 to 3), in order: entry(j) for j = group - head
  // .. group - 1, its place in a group that would start group - head entries before the row (the
  // callers index value[j - group + head], never before the tables). Returns the head's length:
  // the row's whole groups start that many entries on.
  template <class Entry>
  TINYNET_INLINE_UNROLLED static constexpr int walk_head(int n, Entry&& entry) {
    static_assert(group == 4);
    const int head = n % group;
    switch (head) {
      case 3: entry(1); [[fallthrough]];
      case 2: entry(2); [[fallthrough]];
      case 1: entry(3); break;
      default: break;
    }
    return head;
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
    const std::int8_t* value = tables.values.data() + entry;
    const std::uint8_t* place = tables.columns.data() + entry;
    for (int r = 0; r < rows; ++r) {
      // The row's end, from the compile-time count of its entries: the loop is bounded by the table.
      const int n = counts[static_cast<std::size_t>(first_row + r)];
      const std::int8_t* const row_end = value + n;
      int column = 0;
      std::int32_t sum0 = 0, sum1 = 0;
      const int head = walk_head(n, [&](int j) __attribute__((always_inline)) {
        column = column_of(column, place[j - group + n % group]);
        const std::int32_t w = value[j - group + n % group];
        sum0 += w * x0[column];
        if constexpr (Inputs == 2) sum1 += w * x1[column];
      });
      value += head;
      place += head;
      for (; value != row_end; value += group, place += group) {
        TINYNET_UNROLL
        for (int j = 0; j < group; ++j) {
          column = column_of(column, place[j]);
          const std::int32_t w = value[j];
          sum0 += w * x0[column];
          if constexpr (Inputs == 2) sum1 += w * x1[column];
        }
      }
      acc[0][r] = sum0;
      if constexpr (Inputs == 2) acc[1][r] = sum1;
    }
    entry = static_cast<std::size_t>(value - tables.values.data());
  }

  // The same walk over two or four inputs at once, their columns packed by
  // paired::pack_columns<Inputs> (paired_columns.hpp); acc[k][r] receives row first_row + r's dot
  // product with input k. One load of a column serves every input: per entry the column byte, the
  // value, the column's address, its word (two inputs: LDR) or words (four: LDRD) and two or four
  // multiply-accumulates, 6 instructions for two inputs, 8 for four (and a step's addition where
  // the columns are steps).
  template <int Inputs>
  TINYNET_NOINLINE static constexpr void run_columns(const std::int32_t* columns, int first_row, int rows,
                                                     std::int32_t (*acc)[32], std::size_t& entry) {
    static_assert(Inputs == 2 || Inputs == 4);
    constexpr int words = Inputs / 2;
    const std::int8_t* value = tables.values.data() + entry;
    const std::uint8_t* place = tables.columns.data() + entry;
    for (int r = 0; r < rows; ++r) {
      const int n = counts[static_cast<std::size_t>(first_row + r)];
      const std::int8_t* const row_end = value + n;
      int column = 0;
      std::int32_t sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
      const int head = walk_head(n, [&](int j) __attribute__((always_inline)) {
        column = column_of(column, place[j - group + n % group]);
        paired::mac_column<Inputs>(value[j - group + n % group], columns + words * column, sum0, sum1, sum2, sum3);
      });
      value += head;
      place += head;
      for (; value != row_end; value += group, place += group) {
        TINYNET_UNROLL
        for (int j = 0; j < group; ++j) {
          column = column_of(column, place[j]);
          paired::mac_column<Inputs>(value[j], columns + words * column, sum0, sum1, sum2, sum3);
        }
      }
      acc[0][r] = sum0;
      acc[1][r] = sum1;
      if constexpr (Inputs == 4) {
        acc[2][r] = sum2;
        acc[3][r] = sum3;
      }
    }
    entry = static_cast<std::size_t>(value - tables.values.data());
  }
};

}  // namespace tinynet::kernels
