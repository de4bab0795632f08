// The `compressed` sparse form of an int8 weight matrix: only the non-zero values reach flash,
// each with a one-byte column step, walked by a loop whose bounds are compile-time tables.
//
// Row o's entries are (value, step): the column of an entry is the previous entry's column plus
// its step, starting from column 0 (the first entry's step is its column). A gap of more than
// 255 columns is bridged by filler entries of value 0 and step 255, which add 0 * x.
// Flash: 2 bytes per entry plus 2 bytes of entry count per row.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../../core/sparsity.hpp"

namespace tinynet::kernels {

template <const auto& Weights, int Units, int Depth>
struct CompressedRows {
  static constexpr int max_step = 255;

  // Entries of row o: one per non-zero weight plus the fillers of gaps wider than max_step.
  static constexpr int row_entries(int o) {
    int entries = 0;
    int previous = 0;  // column of the previous entry (0 before the first)
    for (int i = 0; i < Depth; ++i) {
      if (Weights[o * Depth + i] == 0) continue;
      const int gap = i - previous;
      entries += 1 + (gap > max_step ? (gap - 1) / max_step : 0);
      previous = i;
    }
    return entries;
  }

  static constexpr int entries = [] {
    int total = 0;
    for (int o = 0; o < Units; ++o) total += row_entries(o);
    return total;
  }();

  static constexpr std::array<std::uint16_t, Units> counts = [] {
    std::array<std::uint16_t, Units> out{};
    for (int o = 0; o < Units; ++o) out[static_cast<std::size_t>(o)] = static_cast<std::uint16_t>(row_entries(o));
    return out;
  }();
  static_assert(Depth <= 65535, "tinynet: the compressed sparse form counts a row's entries in 16 bits: "
                                "use SparseForm::unrolled or SparseForm::dense for input depths above 65535");

  struct Tables {
    std::array<std::int8_t, static_cast<std::size_t>(entries)> values{};
    std::array<std::uint8_t, static_cast<std::size_t>(entries)> steps{};
  };
  static constexpr Tables tables = [] {
    Tables out{};
    std::size_t k = 0;
    for (int o = 0; o < Units; ++o) {
      int previous = 0;
      for (int i = 0; i < Depth; ++i) {
        const std::int8_t w = Weights[o * Depth + i];
        if (w == 0) continue;
        for (; i - previous > max_step; previous += max_step, ++k) out.steps[k] = max_step;  // fillers (value 0)
        out.values[k] = w;
        out.steps[k] = static_cast<std::uint8_t>(i - previous);
        ++k;
        previous = i;
      }
    }
    return out;
  }();

  // Flash the form stores: values, steps and per-row counts.
  static constexpr std::size_t table_bytes = sizeof(tables.values) + sizeof(tables.steps) + sizeof(counts);

  // Calls finish(o, dot product of row o with x) for every row o, in order.
  template <class Finish>
  static constexpr void run(const std::int8_t* x, Finish finish) {
    const std::int8_t* value = tables.values.data();
    const std::uint8_t* step = tables.steps.data();
    for (int o = 0; o < Units; ++o) {
      const std::int8_t* column = x;
      std::int32_t acc = 0;
      // counts[o] <= Depth: the loop is bounded by the compile-time table.
      for (int k = counts[static_cast<std::size_t>(o)]; k > 0; --k) {
        column += *step++;
        acc += static_cast<std::int32_t>(*value++) * *column;
      }
      finish(o, acc);
    }
  }
};

}  // namespace tinynet::kernels
