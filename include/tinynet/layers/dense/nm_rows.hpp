// The `nm` sparse form: weights pruned in an N:M pattern along the input channels (2:4, 1:4: at
// most N non-zero weights in every M consecutive input channels of a row and tap), stored as the
// kept weights only, two per SMLAD.
//
// The rows are Units output channels over Taps x Channels weights (Conv2D: OHWI, its taps the
// kernel's k_h * k_w positions; FullyConnected: one tap). Each tap's channels are cut into spans
// of S = 8 or 4 channels (the largest that holds at most two non-zero weights in every span of
// every row: 1:4 gives S = 8, 2:4 S = 4), and each span's two kept weights (a zero one where a
// span holds fewer) sit at a pair of positions (i, j), i < j < S: its "slot", one of at most 16
// slots the layer uses (2:4: at most the 6 pairs of four; 1:4: (i, 4 + j), 16). In flash, per row:
//   - the kept weights, int8, two spans per word in the order (a_i, b_i, a_j, b_j) for spans a, b,
//     so that SXTB16 gives span a's pair (a_i, a_j) and SXTB16 ROR 8 span b's;
//   - the slots, 4 bits per span (2 bits per kept weight), eight per uint32.
// At run time, per input (per output pixel, up to four per pass), a pair table holds for every
// span and slot the word (x[i], x[j]) of int16 halves (inputs past the tap's channels read 0), so
// a row costs per span: one nibble, one address, one load of the pair word per input and one
// SMLAD per input. The pair table is built once per input and shared by every row.
// Every product is exact and int32 sums do not depend on their order: the bytes are the dense
// dot product's. On cores without SMLAD (host, M0, constant evaluation) the same tables are read
// by the same loop with the halves multiplied one by one.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#include "../../core/sparsity.hpp"
#include "../../core/target.hpp"
#include "../../kernels/unroll.hpp"

namespace tinynet::kernels {

namespace nm {
inline constexpr int max_slots = 16;             // a slot is a nibble
inline constexpr std::size_t max_table_bytes = 4096;  // one input's pair table, on the stack

// (lo, hi) int16 halves of a word.
constexpr std::uint32_t pack(std::int32_t lo, std::int32_t hi) {
  return static_cast<std::uint32_t>(static_cast<std::uint16_t>(lo)) | (static_cast<std::uint32_t>(hi) << 16);
}
constexpr std::int32_t low(std::uint32_t v) { return static_cast<std::int16_t>(v & 0xFFFFu); }
constexpr std::int32_t high(std::uint32_t v) { return static_cast<std::int16_t>(v >> 16); }

// The DSP instructions the kernel needs, with their portable meaning (constant evaluation, other
// cores). Kept here rather than shared with kernels/arm_dsp/dot.hpp, which another kernel owns.
constexpr std::uint32_t smlad(std::uint32_t x, std::uint32_t w, std::uint32_t acc) {
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) return __smlad(x, w, acc);
#endif
  return acc + static_cast<std::uint32_t>(low(x) * low(w) + high(x) * high(w));
}
// Bytes 0 and 2 of a word of int8, sign-extended to int16 halves.
constexpr std::uint32_t sxtb16(std::uint32_t w) {
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) return __sxtb16(w);
#endif
  return pack(static_cast<std::int8_t>(w & 0xFFu), static_cast<std::int8_t>((w >> 16) & 0xFFu));
}
// Bytes 1 and 3.
constexpr std::uint32_t sxtb16_ror8(std::uint32_t w) {
#if TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) {
    std::uint32_t r;
    asm("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(w));
    return r;
  }
#endif
  return pack(static_cast<std::int8_t>((w >> 8) & 0xFFu), static_cast<std::int8_t>(w >> 24));
}
// Four int8 as a little-endian word (one LDR at run time).
constexpr std::uint32_t word(const std::int8_t* p) {
  if (!std::is_constant_evaluated()) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  return static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[0])) | static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[2])) << 16 | static_cast<std::uint32_t>(static_cast<std::uint8_t>(p[3])) << 24;
}

// How a layer's weights fit the form: the span S, and the slots (i, j) the rows use.
struct Fit {
  bool ok = false;
  int span = 0;
  int slots = 0;
  std::array<int, max_slots> first{};
  std::array<int, max_slots> second{};

  constexpr int find(int i, int j) const {
    for (int k = 0; k < slots; ++k)
      if (first[static_cast<std::size_t>(k)] == i && second[static_cast<std::size_t>(k)] == j) return k;
    return -1;
  }
  // A slot that covers position p (a span with one non-zero weight), or -1.
  constexpr int covering(int p) const {
    for (int k = 0; k < slots; ++k)
      if (first[static_cast<std::size_t>(k)] == p || second[static_cast<std::size_t>(k)] == p) return k;
    return -1;
  }
  constexpr bool add(int i, int j) {
    if (slots == max_slots) return false;
    first[static_cast<std::size_t>(slots)] = i;
    second[static_cast<std::size_t>(slots)] = j;
    ++slots;
    return true;
  }
};
}  // namespace nm

// Row o, tap t, channel c is Weights[(o * Taps + t) * Channels + c].
template <const auto& Weights, int Units, int Taps, int Channels>
struct NmRows {
  static constexpr int depth = Taps * Channels;
  static constexpr int weight_index(int o, int t, int c) { return (o * Taps + t) * Channels + c; }

  // The positions of the non-zero weights of span s (channels s*S .. s*S + S - 1) of row o, tap t;
  // count -1 when there are more than two.
  struct SpanNonzeros {
    int count = 0;
    int p[2]{};
  };
  static constexpr SpanNonzeros span_nonzeros(int o, int t, int s, int span) {
    SpanNonzeros n{};
    for (int i = 0; i < span && s * span + i < Channels; ++i) {
      if (Weights[weight_index(o, t, s * span + i)] == 0) continue;
      if (n.count == 2) return {-1, {}};
      n.p[n.count++] = i;
    }
    return n;
  }

  // Whether every span of S channels holds at most two non-zero weights, with at most 16 slots.
  // Spans with two non-zeros fix their slot, in the order they occur; then the single non-zeros take
  // a slot that covers them and, if no slot exists yet, an empty span takes (0, 1) -- replayed in
  // the order of their first occurrence (later occurrences of a position change nothing). One pass
  // over the weights with the counting inline: clang's constant evaluator allows 2^20 steps per
  // constant, and vww's largest pruned 1x1 layers (65,536 weights) exceeded it with two passes.
  static constexpr nm::Fit fit_for(int span) {
    nm::Fit f{};
    f.span = span;
    int events[9]{};  // first occurrences: position p of a single non-zero, or -1 for an empty span
    int event_count = 0;
    bool seen_single[8]{};
    bool seen_empty = false;
    for (int row = 0; row < Units * Taps; ++row) {
      const int base = row * Channels;
      for (int first = 0; first < Channels; first += span) {
        const int end = first + span < Channels ? first + span : Channels;
        int count = 0, p0 = 0, p1 = 0;
        for (int c = first; c < end; ++c) {
          if (Weights[base + c] == 0) continue;
          if (count == 2) return nm::Fit{};
          if (count == 0) p0 = c - first;
          else p1 = c - first;
          ++count;
        }
        if (count == 2) {
          if (f.find(p0, p1) < 0 && !f.add(p0, p1)) return nm::Fit{};
        } else if (count == 1) {
          if (!seen_single[p0]) events[event_count++] = p0;
          seen_single[p0] = true;
        } else if (!seen_empty) {
          events[event_count++] = -1;
          seen_empty = true;
        }
      }
    }
    for (int e = 0; e < event_count; ++e) {
      const int q = events[e];
      if (q < 0) {
        if (f.slots == 0) f.add(0, 1);
      } else if (f.covering(q) < 0 && !(q + 1 < span ? f.add(q, q + 1) : f.add(q - 1, q))) {
        return nm::Fit{};
      }
    }
    f.ok = true;
    return f;
  }
  static constexpr nm::Fit fit = [] {
    const nm::Fit wide = fit_for(8);
    return wide.ok ? wide : fit_for(4);
  }();

  static constexpr int span = fit.ok ? fit.span : 4;
  static constexpr int slots = fit.ok ? fit.slots : 1;
  static constexpr int spans_per_tap = (Channels + span - 1) / span;
  static constexpr int spans = Taps * spans_per_tap;         // kept pairs per row
  static constexpr int padded_spans = (spans + 1) / 2 * 2;   // whole weight words
  static constexpr int index_words = (padded_spans + 7) / 8;  // per row
  static constexpr int row_bytes = padded_spans * 2;
  // The pair table of one input: padded_spans x slots words (the padding span's set to 0).
  static constexpr std::size_t table_words = static_cast<std::size_t>(padded_spans) * slots;
  // Inputs (output pixels) per pass: four where their pair tables fit a pass's stack
  // (pass_stack_bytes, core/target.hpp; on Cortex-M4 four take about 0.75x the instructions of
  // 2 x 2: each weight word, slot and entry address serves them all), else two, else one.
  static constexpr int inputs_per_pass = table_words * 4 * 4 <= pass_stack_bytes   ? 4
                                         : table_words * 4 * 2 <= pass_stack_bytes ? 2
                                                                                   : 1;

  // The form fits where the weights follow the pattern, its flash (kept weights and slots) is at
  // most the dense weights' and one input's pair table within max_table_bytes; it pays (is faster than
  // dense on Cortex-M4: docs/sparsity.md) where it keeps at most one pair per four weights (2:4 or
  // sparser), its weight flash then at most 5/8 of the dense weights'.
  static constexpr bool fits = fit.ok && row_bytes + 4 * index_words <= depth && table_words * 4 <= nm::max_table_bytes;
  static constexpr bool pays = fits && 4LL * spans <= depth;
  static constexpr sparsity::NmFit nm_fit{fits, pays, static_cast<long long>(Units) * spans};

  // The slot and kept pair of row o's span q (q < spans: tap q / spans_per_tap).
  struct Kept {
    int slot = 0;
    std::int8_t a = 0, b = 0;
  };
  static constexpr Kept kept(int o, int q) {
    if (q >= spans) return {};
    const int t = q / spans_per_tap, s = q % spans_per_tap;
    const SpanNonzeros n = span_nonzeros(o, t, s, span);
    int k = 0;
    if (n.count == 2) k = fit.find(n.p[0], n.p[1]);
    else if (n.count == 1) k = fit.covering(n.p[0]);
    const int i = fit.first[static_cast<std::size_t>(k)], j = fit.second[static_cast<std::size_t>(k)];
    const auto at = [&](int p) -> std::int8_t {
      return s * span + p < Channels ? static_cast<std::int8_t>(Weights[weight_index(o, t, s * span + p)]) : std::int8_t{0};
    };
    return {k, at(i), at(j)};
  }

  struct Tables {
    std::array<std::uint32_t, static_cast<std::size_t>(Units) * index_words> index{};
    std::array<std::int8_t, static_cast<std::size_t>(Units) * row_bytes> weights{};
  };
  static constexpr Tables tables = [] {
    Tables out{};
    if constexpr (fits) {
      for (int o = 0; o < Units; ++o)
        for (int q = 0; q < padded_spans; q += 2) {
          const Kept a = kept(o, q), b = kept(o, q + 1);
          const std::size_t w = static_cast<std::size_t>(o * row_bytes + q * 2);
          out.weights[w] = a.a;
          out.weights[w + 1] = b.a;
          out.weights[w + 2] = a.b;
          out.weights[w + 3] = b.b;
          const std::size_t word = static_cast<std::size_t>(o * index_words + q / 8);
          out.index[word] |= static_cast<std::uint32_t>(a.slot) << (4 * (q % 8));
          out.index[word] |= static_cast<std::uint32_t>(b.slot) << (4 * (q % 8 + 1));
        }
    }
    return out;
  }();
  static constexpr std::size_t table_bytes = sizeof(tables.index) + sizeof(tables.weights);

  // The pair words of input x (Taps x Channels int8) into table[(q * slots + k) * Inputs + input]:
  // (x[i], x[j]) of span q's channels for slot k = (i, j), 0 past the tap's channels.
  template <int Inputs>
  static constexpr void build(const std::int8_t* x, std::uint32_t* table, int input) {
    const auto at = [x](int t, int c) -> std::int32_t { return c < Channels ? x[t * Channels + c] : 0; };
    for (int t = 0; t < Taps; ++t)
      for (int s = 0; s < spans_per_tap; ++s) {
        std::uint32_t* entry = table + static_cast<std::size_t>((t * spans_per_tap + s) * slots * Inputs + input);
        TINYNET_UNROLL
        for (int k = 0; k < slots; ++k)
          entry[k * Inputs] = nm::pack(at(t, s * span + fit.first[static_cast<std::size_t>(k)]),
                                       at(t, s * span + fit.second[static_cast<std::size_t>(k)]));
      }
  }

  static constexpr int chunk_spans = 8;  // one slot word

  template <class Finish, int... N>
  static constexpr void call_finish(Finish& finish, int o, const std::uint32_t* acc, std::integer_sequence<int, N...>) {
    finish(o, static_cast<std::int32_t>(acc[N])...);
  }

#if TINYNET_ARM_DSP
  // Spans Q and Q + 1 of a chunk (t: the chunk's first entry), one weight word: per span a nibble
  // (UBFX), its entry's address (ADD), the pair words of the inputs (LDRD, or LDR for one input)
  // and one SMLAD per input. (In assembly: GCC 12 recomputes each entry's offset in two more
  // instructions.)
  template <int Inputs, int Q>
  TINYNET_ALWAYS_INLINE static inline void dsp_step(const std::uint32_t* chunk, std::uint32_t slots_word, std::uint32_t w,
                                                     std::uint32_t* acc) {
    constexpr int entry_bytes = 4 * Inputs;
    constexpr int shift = Inputs == 1 ? 2 : Inputs == 2 ? 3 : 4;
    // The entries' offsets from the chunk as immediates (LDRD: at most 1020), or from a base
    // pointer advanced to span Q where they would not fit (4 inputs, many slots).
    constexpr int base = (Q + 1) * slots * entry_bytes + entry_bytes - 8 <= 1020 ? 0 : Q;
    const std::uint32_t* t = chunk + base * slots * Inputs;
    constexpr int oa = (Q - base) * slots * entry_bytes, ob = (Q + 1 - base) * slots * entry_bytes;
    std::uint32_t e, x0, x1, wv;
    // One span: its entry's address from nibble `lane` of the slot word, then the weight pair
    // (low or high bytes of w: `rot`) times the inputs' pair words at `off`. Two inputs are the
    // first half of four, one input the same with a single LDR.
#define TINYNET_NM_ENTRY(lane)                \
  "ubfx %[e], %[s], %[" lane "], #4\n\t" \
  "add %[e], %[t], %[e], lsl %[sh]"
#define TINYNET_NM_INPUTS_01(off, rot)              \
  "\n\tldrd %[x0], %[x1], [%[e], %[" off "]]"     \
  "\n\tsxtb16 %[wv], %[w]" rot                    \
  "\n\tsmlad %[a0], %[x0], %[wv], %[a0]"          \
  "\n\tsmlad %[a1], %[x1], %[wv], %[a1]"
#define TINYNET_NM_INPUTS_23(off8)                   \
  "\n\tldrd %[x0], %[x1], [%[e], %[" off8 "]]"     \
  "\n\tsmlad %[a2], %[x0], %[wv], %[a2]"           \
  "\n\tsmlad %[a3], %[x1], %[wv], %[a3]"
#define TINYNET_NM_INPUT_0(off, rot)          \
  "\n\tldr %[x0], [%[e], %[" off "]]"       \
  "\n\tsxtb16 %[wv], %[w]" rot              \
  "\n\tsmlad %[a0], %[x0], %[wv], %[a0]"
#define TINYNET_NM_OFFSETS \
  [t] "r"(t), [s] "r"(slots_word), [w] "r"(w), [la] "n"(4 * Q), [lb] "n"(4 * Q + 4), [sh] "n"(shift), [oa] "n"(oa), [ob] "n"(ob)
    if constexpr (Inputs == 4) {
      asm(TINYNET_NM_ENTRY("la") TINYNET_NM_INPUTS_01("oa", "") TINYNET_NM_INPUTS_23("oa8") "\n\t"
          TINYNET_NM_ENTRY("lb") TINYNET_NM_INPUTS_01("ob", ", ror #8") TINYNET_NM_INPUTS_23("ob8")
          : [a0] "+r"(acc[0]), [a1] "+r"(acc[1]), [a2] "+r"(acc[2]), [a3] "+r"(acc[3]), [e] "=&r"(e), [x0] "=&r"(x0),
            [x1] "=&r"(x1), [wv] "=&r"(wv)
          : TINYNET_NM_OFFSETS, [oa8] "n"(oa + 8), [ob8] "n"(ob + 8)
          : "memory");
    } else if constexpr (Inputs == 2) {
      asm(TINYNET_NM_ENTRY("la") TINYNET_NM_INPUTS_01("oa", "") "\n\t"
          TINYNET_NM_ENTRY("lb") TINYNET_NM_INPUTS_01("ob", ", ror #8")
          : [a0] "+r"(acc[0]), [a1] "+r"(acc[1]), [e] "=&r"(e), [x0] "=&r"(x0), [x1] "=&r"(x1), [wv] "=&r"(wv)
          : TINYNET_NM_OFFSETS
          : "memory");
    } else {
      asm(TINYNET_NM_ENTRY("la") TINYNET_NM_INPUT_0("oa", "") "\n\t"
          TINYNET_NM_ENTRY("lb") TINYNET_NM_INPUT_0("ob", ", ror #8")
          : [a0] "+r"(acc[0]), [e] "=&r"(e), [x0] "=&r"(x0), [wv] "=&r"(wv)
          : TINYNET_NM_OFFSETS
          : "memory");
      (void)x1;
    }
#undef TINYNET_NM_OFFSETS
#undef TINYNET_NM_INPUT_0
#undef TINYNET_NM_INPUTS_23
#undef TINYNET_NM_INPUTS_01
#undef TINYNET_NM_ENTRY
  }

  // A chunk of Spans spans (even, at most 8): one slot word, Spans / 2 weight words.
  template <int Inputs, int Spans, int... Pair>
  TINYNET_ALWAYS_INLINE static inline void dsp_chunk(const std::uint32_t* t, const std::uint32_t*& index,
                                                      const std::int8_t*& w, std::uint32_t* acc,
                                                      std::integer_sequence<int, Pair...>) {
    const std::uint32_t slots_word = *index++;
    (dsp_step<Inputs, 2 * Pair>(t, slots_word, nm::word(w + 4 * Pair), acc), ...);
    w += 2 * Spans;
  }

  template <int Inputs, class Finish>
  static void run_table_dsp(const std::uint32_t* table, Finish finish) {
    constexpr int full_chunks = padded_spans / chunk_spans, tail = padded_spans % chunk_spans;
    constexpr int chunk_words = chunk_spans * slots * Inputs;
    const std::int8_t* w = tables.weights.data();
    const std::uint32_t* index = tables.index.data();
    for (int o = 0; o < Units; ++o) {
      std::uint32_t acc[Inputs]{};
      for (int c = 0; c < full_chunks; ++c)
        dsp_chunk<Inputs, chunk_spans>(table + c * chunk_words, index, w, acc, std::make_integer_sequence<int, chunk_spans / 2>{});
      if constexpr (tail > 0)
        dsp_chunk<Inputs, tail>(table + full_chunks * chunk_words, index, w, acc, std::make_integer_sequence<int, tail / 2>{});
      call_finish(finish, o, acc, std::make_integer_sequence<int, Inputs>{});
    }
  }
#endif

  // The dot products of every row with Inputs (1, 2 or 4) inputs: finish(o, dot with the first
  // input[, dot with the second ...]).
  template <int Inputs, class Finish>
  static constexpr void run_table(const std::uint32_t* table, Finish finish) {
    static_assert(fits, "tinynet: the nm sparse form needs weights in an N:M pattern (at most 2 non-zero "
                           "weights in every 4, or 8, input channels)");
#if TINYNET_ARM_DSP
    if (!std::is_constant_evaluated()) return run_table_dsp<Inputs>(table, finish);
#endif
    constexpr int chunk_words = chunk_spans * slots * Inputs;
    const std::int8_t* w = tables.weights.data();
    const std::uint32_t* index = tables.index.data();
    for (int o = 0; o < Units; ++o) {
      std::uint32_t acc[Inputs]{};
      for (int q0 = 0; q0 < padded_spans; q0 += chunk_spans) {
        const std::uint32_t* t = table + q0 / chunk_spans * chunk_words;
        const std::uint32_t slots_word = *index++;
        const int in_chunk = padded_spans - q0 < chunk_spans ? padded_spans - q0 : chunk_spans;
        for (int q = 0; q < in_chunk; q += 2, w += 4) {
          const std::uint32_t weights = nm::word(w);
          const std::uint32_t wa = nm::sxtb16(weights), wb = nm::sxtb16_ror8(weights);
          const std::uint32_t* ea = t + (q * slots + ((slots_word >> (4 * q)) & 15u)) * Inputs;
          const std::uint32_t* eb = t + ((q + 1) * slots + ((slots_word >> (4 * q + 4)) & 15u)) * Inputs;
          for (int n = 0; n < Inputs; ++n) acc[n] = nm::smlad(ea[n], wa, acc[n]);
          for (int n = 0; n < Inputs; ++n) acc[n] = nm::smlad(eb[n], wb, acc[n]);
        }
      }
      call_finish(finish, o, acc, std::make_integer_sequence<int, Inputs>{});
    }
  }

  // The padding span's entries (an odd number of spans), which multiply zero weights: 0, not
  // whatever the stack held (the rest of the table is written by build).
  template <int Inputs>
  static constexpr void clear_padding(std::uint32_t* table) {
    for (std::size_t i = static_cast<std::size_t>(spans) * slots * Inputs; i < static_cast<std::size_t>(padded_spans) * slots * Inputs; ++i)
      table[i] = 0;
  }

  // finish(o, dot product of row o with x).
  template <class Finish>
  static constexpr void run(const std::int8_t* x, Finish finish) {
    std::uint32_t table[table_words];
    clear_padding<1>(table);
    build<1>(x, table, 0);
    run_table<1>(table, finish);
  }

  // finish(o, dot of row o with x[0], ... with x[Inputs - 1]), Inputs 1, 2 or 4: every weight
  // word, slot and entry address serves them all.
  template <int Inputs, class Finish>
  static constexpr void run_many(const std::int8_t* const* x, Finish finish) {
    std::uint32_t table[table_words * Inputs];
    clear_padding<Inputs>(table);
    for (int n = 0; n < Inputs; ++n) build<Inputs>(x[n], table, n);
    run_table<Inputs>(table, finish);
  }

};

}  // namespace tinynet::kernels
