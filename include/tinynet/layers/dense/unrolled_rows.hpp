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
#include <type_traits>
#include <utility>

#include "../../core/sparsity.hpp"

namespace tinynet::kernels {

namespace detail_unrolled {
inline constexpr std::size_t fold_chunk = 128;

template <std::size_t Offset, class F, std::size_t... I>
constexpr void call_each(F& f, std::index_sequence<I...>) {
  (f(std::integral_constant<std::size_t, Offset + I>{}), ...);
}

template <std::size_t N, class F, std::size_t... C>
constexpr void call_chunks(F& f, std::index_sequence<C...>) {
  (call_each<C * fold_chunk>(f, std::make_index_sequence<(C + 1) * fold_chunk <= N ? fold_chunk : N - C * fold_chunk>{}),
   ...);
}
}  // namespace detail_unrolled

// Calls f(std::integral_constant<std::size_t, I>{}) for I = 0 .. N - 1, in order, through two
// nested folds of at most 128 calls each (clang refuses fold expressions of more than 256
// operands: -fbracket-depth).
template <std::size_t N, class F>
constexpr void for_each_index(F f) {
  using detail_unrolled::fold_chunk;
  static_assert(N <= fold_chunk * fold_chunk * 2, "tinynet: the unrolled sparse form writes out at most 32768 rows, "
                                                  "and 32768 non-zero weights per row: use SparseForm::compressed");
  detail_unrolled::call_chunks<N>(f, std::make_index_sequence<(N + fold_chunk - 1) / fold_chunk>{});
}

// Element i of row o is Weights[Layout::weight(o, i)] and multiplies x[Layout::column(o, i)]
// (core/sparsity.hpp; row-major by default).
template <const auto& Weights, int Units, int Depth, class Layout = sparsity::RowMajor<Depth>>
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
          start[static_cast<std::size_t>(o)] + sparsity::count_row_nonzeros<Layout>(Weights, o, Depth);
    return start;
  }();

  // Each row's non-zero weights by magnitude, largest first, ties by column (a counting sort over
  // the 128 magnitudes: linear in the row's length).
  static constexpr std::array<Term, static_cast<std::size_t>(nonzeros)> terms = [] {
    std::array<Term, static_cast<std::size_t>(nonzeros)> out{};
    for (int o = 0; o < Units; ++o) {
      int first_of[130]{};  // first_of[129 - m]: where magnitude m starts within the row
      for (int i = 0; i < Depth; ++i) {
        const int w = Weights[Layout::weight(o, i)];
        if (w != 0) ++first_of[129 - (w < 0 ? -w : w)];
      }
      for (int m = 0, at = row_start[static_cast<std::size_t>(o)]; m < 130; ++m) {
        const int count = first_of[m];
        first_of[m] = at;
        at += count;
      }
      for (int i = 0; i < Depth; ++i) {
        const int w = Weights[Layout::weight(o, i)];
        if (w == 0) continue;
        const int magnitude = w < 0 ? -w : w;
        out[static_cast<std::size_t>(first_of[129 - magnitude]++)] = Term{Layout::column(o, i), w < 0 ? -1 : 1, magnitude};
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

  // Terms are written out `chunk` at a time: clang refuses fold expressions of more than 256
  // operands (-fbracket-depth).
  static constexpr std::size_t chunk = 128;

  // seen += s_k x[c_k]; acc += step_k * seen, for a chunk of terms passed as template arguments:
  // every column, sign and step is a constant in the instructions.
  template <Term... T>
  static constexpr void add_terms(const std::int8_t* x, std::int32_t& seen_io, std::int32_t& acc_io) {
    // Local copies: x points to int8 (a character type), which may alias the references, so
    // updating them in place would store and reload both after every input.
    std::int32_t seen = seen_io;
    std::int32_t acc = acc_io;
    ((seen += T.sign * x[T.column], acc += T.step * seen), ...);
    seen_io = seen;
    acc_io = acc;
  }

  template <std::size_t First, std::size_t... K>
  static constexpr void add_chunk(const std::int8_t* x, std::int32_t& seen, std::int32_t& acc,
                                  std::index_sequence<K...>) {
    add_terms<terms[First + K]...>(x, seen, acc);
  }

  // The dot product of row Row with x.
  template <std::size_t Row>
  static constexpr std::int32_t row_dot([[maybe_unused]] const std::int8_t* x) {
    constexpr std::size_t length = row_length(Row);
    if constexpr (length == 0) {
      return 0;  // a row whose weights are all zero
    } else {
      std::int32_t seen = 0;  // S_k
      std::int32_t acc = 0;
      for_each_index<(length + chunk - 1) / chunk>([&](auto c) {
        constexpr std::size_t done = decltype(c)::value * chunk;  // terms of earlier chunks
        add_chunk<static_cast<std::size_t>(row_start[Row]) + done>(
            x, seen, acc, std::make_index_sequence<length - done < chunk ? length - done : chunk>{});
      });
      return acc;
    }
  }

  // Calls finish(o, dot product of row o with x) for every row o, in order.
  template <class Finish>
  static constexpr void run(const std::int8_t* x, Finish finish) {
    for_each_index<Units>([&](auto row) { finish(static_cast<int>(row), row_dot<decltype(row)::value>(x)); });
  }
};

}  // namespace tinynet::kernels
