// The sparse forms of a weighted layer's dot products, shared by FullyConnected, Conv2D and
// DepthwiseConv2D: `unrolled` (unrolled_rows.hpp) or `compressed` (compressed_rows.hpp) over
// Units rows of Depth weights in a Layout (core/sparsity.hpp), or `nm` (nm_rows.hpp: row-major
// rows of Depth / Channels taps of Channels input channels; FullyConnected and Conv2D only). The
// layer keeps its folded bias and requantization; this gives it the dot products and says what
// the form stores in flash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../../core/constant_tables.hpp"
#include "../../core/sparsity.hpp"
#include "../../core/target.hpp"
#include "compressed_rows.hpp"
#include "nm_rows.hpp"
#include "unrolled_rows.hpp"

namespace tinynet::kernels {

template <const auto& Weights, int Units, int Depth, SparseForm Form, class Layout = sparsity::RowMajor<Depth>,
          int Channels = Depth, int Scale = 1>
struct SparseRows {
  static_assert(Form == SparseForm::unrolled || Form == SparseForm::compressed || Form == SparseForm::nm);
  static_assert(Form != SparseForm::nm || (std::is_same_v<Layout, sparsity::RowMajor<Depth>> && Depth % Channels == 0));
  // `unrolled` gives Scale times the dot products (its weights are constants: a layer whose output
  // stage doubles the accumulator has them doubled for free); the other forms Scale 1.
  static_assert(Scale == 1 || Form == SparseForm::unrolled);
  using unrolled = UnrolledRows<Weights, Units, Depth, Layout, Scale>;
  using compressed = CompressedRows<Weights, Units, Depth, Layout>;
  using nm = NmRows<Weights, Units, Depth / Channels, Channels>;

  // Flash the form stores for the weights: nothing for `unrolled` (its weights are
  // instructions), the value, step and count tables for `compressed`, the kept weights and their
  // slots for `nm`.
  static constexpr std::size_t stored_weight_bytes = [] {
    if constexpr (Form == SparseForm::unrolled) return std::size_t{0};
    else if constexpr (Form == SparseForm::nm) return nm::table_bytes;
    else return compressed::table_bytes;
  }();

  // The tables the form reads (core/checksum.hpp).
  static constexpr auto constant_tables() {
    if constexpr (Form == SparseForm::unrolled) return ConstantTables<>{};
    else if constexpr (Form == SparseForm::nm) return ConstantTables<nm::tables>{};
    else return ConstantTables<compressed::tables, compressed::counts>{};
  }

  // Calls finish(o, dot product of row o with x) for every row o, in order. `compressed` computes
  // up to 32 dot products, then finishes them (run_each): two short loops keep their values in
  // registers, and the stack holds 32 accumulators, not one per row.
  template <class Finish>
  static constexpr void run(const std::int8_t* x, Finish finish) {
    if constexpr (Form == SparseForm::unrolled) {
      unrolled::run(x, finish);
    } else if constexpr (Form == SparseForm::nm) {
      nm::run(x, finish);
    } else {
      run_each<1>(&x, finish);
    }
  }

  // finish(o, dot of row o with x[0], ..., with x[Inputs - 1]) for every row o, in order, for
  // Inputs (1 or 2) inputs read in place; `compressed` only (CompressedRows::run: each entry's
  // value and column are loaded once for all the inputs). DepthwiseConv2D runs two pixels' windows
  // so.
  template <int Inputs, class Finish>
  static constexpr void run_each(const std::int8_t* const* x, Finish finish) {
    static_assert(Form == SparseForm::compressed && (Inputs == 1 || Inputs == 2));
    constexpr int rows_per_pass = Units < 32 ? Units : 32;
    std::size_t entry = 0;  // where the next row starts in the compressed tables
    for (int o = 0; o < Units; o += rows_per_pass) {
      const int rows = Units - o < rows_per_pass ? Units - o : rows_per_pass;
      std::int32_t acc[Inputs][32];
      compressed::template run<Inputs>(x, o, rows, acc, entry);
      for (int r = 0; r < rows; ++r) {
        if constexpr (Inputs == 1) finish(o + r, acc[0][r]);
        else finish(o + r, acc[0][r], acc[1][r]);
      }
    }
  }

  // Inputs per pass of run_many: `nm`'s (NmRows::inputs_per_pass), else four where their
  // paired columns fit a pass's stack (pass_stack_bytes, core/target.hpp: Depth x 8 bytes; then
  // each weight takes 6 instructions for four inputs where two take 4 each, twice, in `unrolled`;
  // 8 where two take 7 each, twice, in `compressed`), else two (Depth x 4 bytes), else one.
  static constexpr int inputs_per_pass = [] {
    if constexpr (Form == SparseForm::nm) return nm::inputs_per_pass;
    else return std::size_t{Depth} * 8 <= pass_stack_bytes ? 4 : std::size_t{Depth} * 4 <= pass_stack_bytes ? 2 : 1;
  }();

  // Several inputs at once: finish(o, dot of row o with x[0], ..., with x[Inputs - 1]) for every
  // row o, in order; Inputs is inputs_per_pass (or 2). `unrolled` and `compressed` pair the inputs
  // column by column (paired::pack_columns), so that each load of a column serves them all
  // (paired_columns.hpp: UnrolledRows::run_columns, CompressedRows::run_columns), one input runs
  // as run() does; `nm` builds its pair tables (NmRows::run_many).
  template <int Inputs, class Finish>
  static constexpr void run_many(const std::int8_t* const* x, Finish finish) {
    if constexpr (Form == SparseForm::nm) {
      nm::template run_many<Inputs>(x, finish);
    } else if constexpr (Inputs == 1) {
      run(x[0], finish);
    } else {
      static_assert(Inputs == 2 || Inputs == 4);
      // Every column is written below (zeroing them would cost a memset per call).
      alignas(8) std::int32_t columns[Depth * Inputs / 2];
      paired::pack_columns<Inputs, Depth>(x, columns);
      if constexpr (Form == SparseForm::unrolled) {
        unrolled::template run_columns<Inputs>(columns, finish);
      } else {
        constexpr int rows_per_pass = Units < 32 ? Units : 32;
        std::size_t entry = 0;
        for (int o = 0; o < Units; o += rows_per_pass) {
          const int rows = Units - o < rows_per_pass ? Units - o : rows_per_pass;
          std::int32_t acc[Inputs][32];
          compressed::template run_columns<Inputs>(columns, o, rows, acc, entry);
          for (int r = 0; r < rows; ++r) {
            if constexpr (Inputs == 2) finish(o + r, acc[0][r], acc[1][r]);
            else finish(o + r, acc[0][r], acc[1][r], acc[2][r], acc[3][r]);
          }
        }
      }
    }
  }
};

}  // namespace tinynet::kernels
