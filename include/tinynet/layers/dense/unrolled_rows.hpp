// The `unrolled` sparse form of an int8 weight matrix: the compiler writes out the
// multiply-accumulates of the non-zero weights only, with every column and value a constant in
// the instructions (no position or value table reaches flash).
//
// Inputs that share a weight magnitude are summed first and multiplied once. Within a row the
// non-zero weights are grouped by magnitude (largest first); a group of weights +-m at columns
// c_1 .. c_g contributes s_1 m (x[c_1] +- x[c_2] ... +- x[c_g]) (each sign relative to the first's),
// so each input costs a load and, past a group's first, one add or subtract, and each *distinct*
// magnitude one multiply-accumulate by the constant s_1 m.
// Integer sums do not depend on their order, so the result is the dense dot product exactly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "../../core/sparsity.hpp"
#include "../../core/target.hpp"
#include "../../kernels/unroll.hpp"
#include "../../kernels/arm_dsp/dot.hpp"
#include "paired_columns.hpp"

namespace tinynet::kernels {

namespace detail_unrolled {
inline constexpr std::size_t fold_chunk = 128;

template <std::size_t Offset, class F, std::size_t... I>
constexpr void call_each(F f, std::index_sequence<I...>) {
  (f(std::integral_constant<std::size_t, Offset + I>{}), ...);
}

template <std::size_t N, class F, std::size_t... C>
constexpr void call_chunks(F f, std::index_sequence<C...>) {
  (call_each<C * fold_chunk>(f, std::make_index_sequence<(C + 1) * fold_chunk <= N ? fold_chunk : N - C * fold_chunk>{}),
   ...);
}
}  // namespace detail_unrolled

// Calls f(std::integral_constant<std::size_t, I>{}) for I = 0 .. N - 1, in order, through two
// nested folds of at most 128 calls each (clang refuses fold expressions of more than 256
// operands: -fbracket-depth). f travels by value: a function object that captures by value then
// keeps its captures in registers, where one reached through a reference would be loaded again
// after every int8 store (a character type may alias anything in memory).
template <std::size_t N, class F>
constexpr void for_each_index(F f) {
  using detail_unrolled::fold_chunk;
  static_assert(N <= fold_chunk * fold_chunk * 2, "tinynet: the unrolled sparse form writes out at most 32768 rows, "
                                                  "and 32768 non-zero weights per row: use SparseForm::compressed");
  detail_unrolled::call_chunks<N>(f, std::make_index_sequence<(N + fold_chunk - 1) / fold_chunk>{});
}

// Element i of row o is Weights[Layout::weight(o, i)] and multiplies x[Layout::column(o, i)]
// (core/sparsity.hpp; row-major by default). The dot products come out Scale times (1 or 2: the
// weights are constants in the instructions, so doubling them costs nothing).
template <const auto& Weights, int Units, int Depth, class Layout = sparsity::RowMajor<Depth>, int Scale = 1>
struct UnrolledRows {
  static constexpr int nonzeros = sparsity::count_nonzeros(Weights, 0, Units * Depth);

  // |partial sums| <= Scale * 128 * 128 * Depth (a group's sum is at most 128 * Depth, its
  // multiplier at most 128 Scale): they fit int32 for every depth below 2^17 / Scale.
  static_assert(Scale == 1 || Scale == 2);
  static_assert(Depth < (1 << 17) / Scale, "tinynet: the unrolled sparse form takes input depths below 131072; "
                                   "use SparseForm::compressed or SparseForm::dense for this layer");

  struct Term {
    int column = 0;
    int sign = 0;        // +1 or -1, relative to the sign of its magnitude group's first weight
    int step = 0;        // the last of a group: the group's first weight (sign times magnitude); else 0
    bool first = false;  // the first of a magnitude group
    int weight = 0;      // the weight itself (run_columns)
    int pair = 0;        // a group's last on DSP cores: 1 or 2, the first or second of a pair of steps
    std::uint32_t pair_word = 0;  // the pair's two multipliers (Scale * step) as int16 halves
  };

  // On DSP cores a row's multiply-accumulates go in pairs: one word holds both groups' constants
  // (one literal load) and SMLABB and SMLABT take its halves, three instructions for two steps
  // where a constant and an MLA each take four. A group's sum fits 16 bits: at most 255 inputs.
  static constexpr bool pair_steps = TINYNET_ARM_DSP;

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
        out[static_cast<std::size_t>(first_of[129 - magnitude]++)] =
            Term{Layout::column(o, i), w < 0 ? -1 : 1, magnitude, false, w};
      }
      // Magnitude groups: signs relative to the group's first, its signed magnitude on its last.
      const int end = row_start[static_cast<std::size_t>(o + 1)];
      int previous = 0, group_sign = 1, group_size = 0, waiting = -1;  // waiting: a step without its pair
      for (int k = row_start[static_cast<std::size_t>(o)]; k < end; ++k) {
        Term& term = out[static_cast<std::size_t>(k)];
        const int magnitude = term.step;
        const bool last = k + 1 == end || out[static_cast<std::size_t>(k + 1)].step != magnitude;
        term.first = magnitude != previous;
        if (term.first) {
          group_sign = term.sign;
          group_size = 0;
        }
        ++group_size;
        term.sign *= group_sign;
        term.step = last ? group_sign * magnitude : 0;
        previous = magnitude;
        if (pair_steps && last) {
          if (group_size > 255) continue;  // its sum may not fit 16 bits: a step of its own
          if (waiting < 0) {
            waiting = k;
          } else {
            Term& held = out[static_cast<std::size_t>(waiting)];
            const std::uint32_t word = static_cast<std::uint16_t>(static_cast<std::int16_t>(Scale * held.step)) |
                                       static_cast<std::uint32_t>(static_cast<std::uint16_t>(
                                           static_cast<std::int16_t>(Scale * term.step))) << 16;
            held.pair = 1;
            term.pair = 2;
            term.pair_word = word;
            waiting = -1;
          }
        }
      }
    }
    return out;
  }();

  static constexpr std::size_t row_length(std::size_t o) {
    return static_cast<std::size_t>(row_start[o + 1] - row_start[o]);
  }

  // Terms are written out `chunk` at a time: clang refuses fold expressions of more than 256
  // operands (-fbracket-depth).
  static constexpr std::size_t chunk = 128;

  // seen = x[c_k] (a group's first) or seen += s_k x[c_k]; acc += step_k * seen (a group's last),
  // for a chunk of terms passed as template arguments: every column, sign and step is a constant
  // in the instructions.
  // acc + low half of Word * a + high half * b (SMLABB, SMLABT: a and b fit 16 bits).
  template <std::uint32_t Word>
  TINYNET_INLINE_UNROLLED static constexpr std::int32_t mac_pair_of_steps(std::int32_t a, std::int32_t b, std::int32_t acc) {
#if TINYNET_ARM_DSP
    if (!std::is_constant_evaluated()) return __smlabt(b, static_cast<std::int32_t>(Word), __smlabb(a, static_cast<std::int32_t>(Word), acc));
#endif
    return acc + static_cast<std::int16_t>(Word & 0xFFFFu) * a + static_cast<std::int16_t>(Word >> 16) * b;
  }

  // One term: its input into the group's sum; on a group's last, the sum times the group's weight
  // into acc (or, paired, held until the pair's second).
  template <Term T>
  TINYNET_INLINE_UNROLLED static constexpr void add_term(const std::int8_t* x, std::int32_t& seen, std::int32_t& held,
                                                        std::int32_t& acc) {
    seen = T.first ? std::int32_t{x[T.column]} : seen + T.sign * x[T.column];
    if constexpr (T.pair == 1) held = seen;
    else if constexpr (T.pair == 2) acc = mac_pair_of_steps<T.pair_word>(held, seen, acc);
    else if constexpr (T.step != 0) acc += Scale * T.step * seen;
  }

  template <Term... T>
  TINYNET_INLINE_UNROLLED static constexpr void add_terms(const std::int8_t* x, std::int32_t& seen_io, std::int32_t& held_io,
                                                         std::int32_t& acc_io) {
    // Local copies: x points to int8 (a character type), which may alias the references, so
    // updating them in place would store and reload them after every input.
    std::int32_t seen = seen_io, held = held_io, acc = acc_io;
    (add_term<T>(x, seen, held, acc), ...);
    seen_io = seen;
    held_io = held;
    acc_io = acc;
  }

  template <std::size_t First, std::size_t... K>
  TINYNET_INLINE_UNROLLED static constexpr void add_chunk(const std::int8_t* x, std::int32_t& seen, std::int32_t& held,
                                                         std::int32_t& acc, std::index_sequence<K...>) {
    add_terms<terms[First + K]...>(x, seen, held, acc);
  }

  // The dot product of row Row with x.
  template <std::size_t Row>
  TINYNET_INLINE_UNROLLED static constexpr std::int32_t row_dot([[maybe_unused]] const std::int8_t* x) {
    constexpr std::size_t length = row_length(Row);
    if constexpr (length == 0) {
      return 0;  // a row whose weights are all zero
    } else {
      std::int32_t seen = 0;  // the current magnitude group's signed sum
      std::int32_t held = 0;  // a paired step's sum, until its pair's second
      std::int32_t acc = 0;
      for_each_index<(length + chunk - 1) / chunk>([&](auto c) {
        constexpr std::size_t done = decltype(c)::value * chunk;  // terms of earlier chunks
        add_chunk<static_cast<std::size_t>(row_start[Row]) + done>(
            x, seen, held, acc, std::make_index_sequence<length - done < chunk ? length - done : chunk>{});
      });
      return acc;
    }
  }

  // ---- groups of rows ---------------------------------------------------------------------------
  // The rows are written out in groups of at most group_terms terms (a longer row alone), each
  // group a function of its own: GCC's instruction scheduling and register allocation take time
  // that grows faster than a function's length, and a layer's rows inlined into one function
  // made the unrolled layers most of a build's time. A group's call costs a few instructions,
  // and GCC allocates the smaller functions' registers better: the measured unrolled layers run
  // fewer instructions in groups (docs/sparsity.md, "Session 26").
  static constexpr std::size_t group_terms = 1024;
  // group_first(g) .. group_first(g + 1) - 1: the rows of group g (groups of them).
  static constexpr auto grouping = [] {
    struct {
      std::array<int, Units + 1> first{};
      int count = 0;
    } out;
    std::size_t terms_in_group = 0;
    for (int o = 0; o < Units; ++o) {
      const std::size_t length = row_length(static_cast<std::size_t>(o));
      if (o > 0 && terms_in_group + length > group_terms) {
        out.first[static_cast<std::size_t>(++out.count)] = o;
        terms_in_group = 0;
      }
      terms_in_group += length;
    }
    out.first[static_cast<std::size_t>(++out.count)] = Units;
    return out;
  }();
  static constexpr int groups = grouping.count;
  static constexpr std::size_t group_first(std::size_t g) { return static_cast<std::size_t>(grouping.first[g]); }

  // Calls each(row) for the rows of group G, each(std::integral_constant<std::size_t, row>).
  template <std::size_t G, class Each>
  TINYNET_NOINLINE static constexpr void run_group(Each each) {
    for_each_index<group_first(G + 1) - group_first(G)>([each](auto r) TINYNET_INLINE_UNROLLED {
      each(std::integral_constant<std::size_t, group_first(G) + decltype(r)::value>{});
    });
  }

  // Calls each(row) for every row, in order: inline for a single group, else group by group.
  template <class Each>
  TINYNET_INLINE_UNROLLED static constexpr void for_each_row(Each each) {
    if constexpr (groups == 1) {
      for_each_index<Units>(each);
    } else {
      for_each_index<static_cast<std::size_t>(groups)>([each](auto g) TINYNET_INLINE_UNROLLED {
        run_group<decltype(g)::value>(each);
      });
    }
  }

  // Calls finish(o, dot product of row o with x) for every row o, in order.
  template <class Finish>
  static constexpr void run(const std::int8_t* x, Finish finish) {
    for_each_row([x, finish](auto row) TINYNET_INLINE_UNROLLED {
      finish(static_cast<int>(row), row_dot<decltype(row)::value>(x));
    });
  }

  // ---- two or four inputs at once -------------------------------------------------------------
  // The inputs' columns packed in 16-bit halves (paired_columns.hpp): one load (LDR, or LDRD for
  // four) serves every input, and each weight (a constant in a register) multiplies every half:
  // per weight, 4 instructions for two inputs and 6 or 7 for four, where run() takes 3 for one.
  // The columns come from paired::pack_columns<Inputs, Depth>.
  //
  // The accumulators are locals here (copied in and out), so that they stay in registers; the
  // helpers inlined always (else GCC calls some rows' terms with the accumulators in memory).
  template <int Inputs, Term... T>
  TINYNET_INLINE_UNROLLED static constexpr void add_column_terms(const std::int32_t* columns, std::array<std::int32_t, 4>& acc_io) {
    std::int32_t a0 = acc_io[0], a1 = acc_io[1], a2 = acc_io[2], a3 = acc_io[3];
    (paired::mac_column<Inputs, Inputs / 2 * T.column>(Scale * T.weight, columns, a0, a1, a2, a3), ...);
    acc_io = {a0, a1, a2, a3};
  }

  template <int Inputs, std::size_t First, std::size_t... K>
  TINYNET_INLINE_UNROLLED static constexpr void add_column_chunk(const std::int32_t* columns, std::array<std::int32_t, 4>& acc,
                                         std::index_sequence<K...>) {
    add_column_terms<Inputs, terms[First + K]...>(columns, acc);
  }

  // Calls finish(o, dot of row o with x[0], ..., with x[Inputs - 1]) for every row o, in order,
  // from the columns of paired::pack_columns<Inputs, Depth>.
  template <int Inputs, class Finish>
  static constexpr void run_columns(const std::int32_t* columns, Finish finish) {
    for_each_row([columns, finish](auto row) TINYNET_INLINE_UNROLLED {
      constexpr std::size_t o = decltype(row)::value;
      constexpr std::size_t length = row_length(o);
      std::array<std::int32_t, 4> acc{};
      if constexpr (length > 0 && length <= chunk) {
        // (Without the chunk loop's lambda: GCC called it with the accumulators in memory.)
        add_column_chunk<Inputs, static_cast<std::size_t>(row_start[o])>(columns, acc, std::make_index_sequence<length>{});
      } else if constexpr (length > chunk) {
        for_each_index<(length + chunk - 1) / chunk>([&](auto c) {
          constexpr std::size_t done = decltype(c)::value * chunk;
          add_column_chunk<Inputs, static_cast<std::size_t>(row_start[o]) + done>(
              columns, acc, std::make_index_sequence<length - done < chunk ? length - done : chunk>{});
        });
      }
      if constexpr (Inputs == 2) finish(static_cast<int>(o), acc[0], acc[1]);
      else finish(static_cast<int>(o), acc[0], acc[1], acc[2], acc[3]);
    });
  }
};

}  // namespace tinynet::kernels
