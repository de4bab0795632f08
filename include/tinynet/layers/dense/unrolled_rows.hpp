// The `unrolled` sparse form of an int8 weight matrix: the compiler writes out the
// multiply-accumulates of the non-zero weights only, with every column and value a constant in
// the instructions (no position or value table reaches flash).
//
// Inputs that share a weight magnitude are summed first and multiplied once. Within a row the
// non-zero weights are sorted by magnitude, largest first: m_1 >= m_2 >= ... >= m_n, with signs
// s_k and columns c_k. With S_k = s_1 x[c_1] + ... + s_k x[c_k] (the signed inputs seen so far),
//   sum_k s_k m_k x[c_k] = sum_k (m_k - m_{k+1}) * S_k        (m_{n+1} = 0; summation by parts)
// so each input costs one add or subtract, and each *distinct* magnitude one multiply-accumulate:
// the terms whose step m_k - m_{k+1} is 0 multiply by a constant 0 and vanish.
// Integer sums do not depend on their order, so the result is the dense dot product exactly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "../../core/sparsity.hpp"

namespace tinynet::kernels {

template <const auto& Weights, int Units, int Depth>
struct UnrolledRows {
  static constexpr int nonzeros = sparsity::count_nonzeros(Weights, 0, Units * Depth);

  // |partial sums| <= 128 * 128 * Depth (the steps of a row add up to its largest magnitude, at
  // most 128; |S_k| <= 128 * Depth): they fit int32 for every depth below 2^17.
  static_assert(Depth < (1 << 17), "tinynet: the unrolled sparse form takes input depths below 131072; "
                                   "use SparseForm::compressed or SparseForm::dense for this layer");

  struct Term {
    int column = 0;
    int sign = 0;  // +1 or -1
    int step = 0;  // this magnitude minus the next one in the row (0 past the row's last term: its magnitude)
  };

  // row_start[o] .. row_start[o + 1]: row o's terms.
  static constexpr std::array<int, Units + 1> row_start = [] {
    std::array<int, Units + 1> start{};
    for (int o = 0; o < Units; ++o)
      start[static_cast<std::size_t>(o + 1)] =
          start[static_cast<std::size_t>(o)] + sparsity::count_nonzeros(Weights, o * Depth, (o + 1) * Depth);
    return start;
  }();

  // Each row's non-zero weights by magnitude, largest first, ties by column (a counting sort over
  // the 128 magnitudes: linear in the row's length).
  static constexpr std::array<Term, static_cast<std::size_t>(nonzeros)> terms = [] {
    std::array<Term, static_cast<std::size_t>(nonzeros)> out{};
    for (int o = 0; o < Units; ++o) {
      const int row = o * Depth;  // (an index: GCC 12 rejects pointer arithmetic into a constexpr std::array here)
      int first_of[130]{};  // first_of[129 - m]: where magnitude m starts within the row
      for (int i = 0; i < Depth; ++i) {
        const int w = Weights[row + i];
        if (w != 0) ++first_of[129 - (w < 0 ? -w : w)];
      }
      for (int m = 0, at = row_start[static_cast<std::size_t>(o)]; m < 130; ++m) {
        const int count = first_of[m];
        first_of[m] = at;
        at += count;
      }
      for (int i = 0; i < Depth; ++i) {
        const int w = Weights[row + i];
        if (w == 0) continue;
        const int magnitude = w < 0 ? -w : w;
        out[static_cast<std::size_t>(first_of[129 - magnitude]++)] = Term{i, w < 0 ? -1 : 1, magnitude};
      }
      // step = m_k - m_{k+1}
      const int end = row_start[static_cast<std::size_t>(o + 1)];
      for (int k = row_start[static_cast<std::size_t>(o)]; k + 1 < end; ++k)
        out[static_cast<std::size_t>(k)].step -= out[static_cast<std::size_t>(k + 1)].step;
    }
    return out;
  }();

  static constexpr std::size_t row_length(std::size_t o) {
    return static_cast<std::size_t>(row_start[o + 1] - row_start[o]);
  }

  // One row's dot product with x, written out: each term is a template argument, so its column,
  // sign and step are constants in the instructions.
  template <Term... T>
  static constexpr std::int32_t dot_terms([[maybe_unused]] const std::int8_t* x) {
    if constexpr (sizeof...(T) == 0) {
      return 0;  // a row whose weights are all zero
    } else {
      std::int32_t seen = 0;  // S_k
      std::int32_t acc = 0;
      ((seen += T.sign * x[T.column], acc += T.step * seen), ...);
      return acc;
    }
  }

  template <std::size_t Base, std::size_t... K>
  static constexpr std::int32_t row_dot(const std::int8_t* x, std::index_sequence<K...>) {
    return dot_terms<terms[Base + K]...>(x);
  }

  template <class Finish, std::size_t... Row>
  static constexpr void run_rows(const std::int8_t* x, Finish& finish, std::index_sequence<Row...>) {
    (finish(static_cast<int>(Row), row_dot<static_cast<std::size_t>(row_start[Row])>(x, std::make_index_sequence<row_length(Row)>{})), ...);
  }

  // Calls finish(o, dot product of row o with x) for every row o, in order.
  template <class Finish>
  static constexpr void run(const std::int8_t* x, Finish finish) {
    run_rows(x, finish, std::make_index_sequence<Units>{});
  }
};

}  // namespace tinynet::kernels
