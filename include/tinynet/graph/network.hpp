// Network: a list of ops, run in order, wired together by tensor types.
//
//   using net = tinynet::Network<tinynet::Inputs<image>, tinynet::Outputs<scores>, conv1, pool, fc>;
//
// Everything a build needs to know is a constant: arena_bytes, macs, weight_bytes, the input and
// output tensor types. invoke(arena) runs the network in a caller-provided arena laid out by the
// compile-time planner; evaluate(inputs...) runs it in constant evaluation (no arena) and is what
// static_assert tests use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>

#include "../core/checksum.hpp"
#include "../core/op.hpp"
#include "../core/tensor.hpp"
#include "../core/type_list.hpp"
#include "../layers/conv/residual_rows.hpp"
#include "arena_plan.hpp"

// A function the optimiser treats as a black box at its call sites: GCC's noipa (no inlining, no
// cloning, no side-effect analysis across the call); clang has no such analysis bug to avoid.
#if defined(__GNUC__) && !defined(__clang__)
#define TINYNET_OPAQUE_CALL [[gnu::noipa]]
#else
#define TINYNET_OPAQUE_CALL [[gnu::noinline]]
#endif

namespace tinynet {

template <class... Tensors>
struct Inputs {};
template <class... Tensors>
struct Outputs {};

namespace detail {

// Every tensor of the network, graph inputs first, then in order of appearance.
template <class List, class... Ops>
struct collect_tensors {
  using type = List;
};
template <class List, class Op, class... Rest>
struct collect_tensors<List, Op, Rest...> {
  using with_inputs = typename concat_unique<List, typename Op::inputs>::type;
  using with_output = typename append_unique<with_inputs, typename Op::output>::type;
  using type = typename collect_tensors<with_output, Rest...>::type;
};

template <class Op>
concept AliasOp = requires { requires Op::alias; };

// The optional layout members of the op protocol (core/op.hpp).
template <class Op>
concept GatherOp = requires { Op::input_offsets[0]; };
template <class Op>
constexpr long view_offset() {
  if constexpr (requires { Op::view_offset; }) return Op::view_offset;
  else return -1;
}
// An in-place op that pays for it (a Conv2D's ring of rows copied back, layers/conv/conv2d.hpp):
// the planner keeps it over its input only where the arena shrinks.
template <class Op>
constexpr bool in_place_tried() {
  if constexpr (requires { Op::in_place_tried; }) return Op::in_place_tried;
  else return false;
}
template <class Op>
constexpr long in_place_below() {
  if constexpr (requires { Op::in_place_below; }) return Op::in_place_below;
  else return 0;
}

// The state tensors (StateTensor<...>, core/tensor.hpp) of a tensor list, in its order.
template <class Out, class... Ts>
struct filter_state {
  using type = Out;
};
template <class... Os, class T, class... Ts>
struct filter_state<TypeList<Os...>, T, Ts...> {
  using type = typename filter_state<std::conditional_t<StateTensorType<T>, TypeList<Os..., T>, TypeList<Os...>>,
                                     Ts...>::type;
};
template <class List>
struct state_tensors_of;
template <class... Ts>
struct state_tensors_of<TypeList<Ts...>> {
  using type = typename filter_state<TypeList<>, Ts...>::type;
};

// A stateful network's "state is set" word: one 16-byte slot of the arena, planned like a state
// tensor (never reused). Network::reset() writes state_marker_value there; an arena whose marker
// holds anything else (a zeroed arena: .bss, wipe()) has its state reset before the next invoke.
struct StateMarker : Tensor<std::int32_t, Shape<4>> {};
inline constexpr std::int32_t state_marker_value = 0x54534e54;  // "TNST"

template <class T>
inline constexpr bool kept_across_invokes = StateTensorType<T> || std::is_same_v<T, StateMarker>;

template <class Op, class Tensor>
struct op_writes_state_tensor {
  static_assert(sizeof(Op) == 0,
                "tinynet::Network: an op names a StateTensor as its output (see op_writes_state_tensor<Op, "
                "Tensor> below); an op updates its state in place through the state input it lists in `inputs`");
};
template <class Tensor>
struct state_tensor_in_graph_inputs_or_outputs {
  static_assert(sizeof(Tensor) == 0,
                "tinynet::Network: a StateTensor is listed in Inputs<...> or Outputs<...> (see "
                "state_tensor_in_graph_inputs_or_outputs<Tensor> below); state belongs to the ops that keep it");
};

template <class Op, class Tensor>
struct op_reads_unproduced_tensor {
  static_assert(sizeof(Op) == 0,
                "tinynet::Network: this op reads a tensor that is neither a network input nor the output "
                "of an earlier op (see op_reads_unproduced_tensor<Op, Tensor> below); list the ops in "
                "execution order and every input in Inputs<...>");
};
template <class Tensor>
struct output_never_produced {
  static_assert(sizeof(Tensor) == 0,
                "tinynet::Network: a tensor named in Outputs<...> is not produced by any op "
                "(see output_never_produced<Tensor> below)");
};

template <class Op, class Tensor>
struct tensor_produced_twice {
  static_assert(sizeof(Op) == 0,
                "tinynet::Network: two ops write the same tensor, or an op writes a network input "
                "(see tensor_produced_twice<Op, Tensor> below)");
};

}  // namespace detail

template <class InputsT, class OutputsT, class... Ops>
struct Network;

template <class... Ins, class... Outs, class... Ops>
struct Network<Inputs<Ins...>, Outputs<Outs...>, Ops...> {
  static_assert(sizeof...(Ins) >= 1 && sizeof...(Outs) >= 1 && sizeof...(Ops) >= 1,
                "tinynet::Network needs at least one input, one output and one op");
  // Every op follows the op protocol (core/op.hpp); an error here names the op and its missing member.
  static_assert((checked_op<Ops>::ok && ...));

  using input_list = TypeList<Ins...>;
  using output_list = TypeList<Outs...>;
  using op_list = TypeList<Ops...>;
  // State (docs/design.md, "State"): the StateTensor inputs of the ops, kept across invoke() calls.
  using state_list = typename detail::state_tensors_of<typename detail::collect_tensors<input_list, Ops...>::type>::type;
  static constexpr bool is_stateful = state_list::size > 0;
  // Every tensor of the arena; a stateful network's last one is its state marker.
  using tensors = std::conditional_t<
      is_stateful,
      typename detail::append_unique<typename detail::collect_tensors<input_list, Ops...>::type, detail::StateMarker>::type,
      typename detail::collect_tensors<input_list, Ops...>::type>;

  static constexpr std::size_t tensor_count = tensors::size;
  static constexpr std::size_t op_count = sizeof...(Ops);
  static constexpr std::size_t input_count = sizeof...(Ins);
  static constexpr std::size_t output_count = sizeof...(Outs);

  template <std::size_t I>
  using input_t = type_at<I, input_list>;
  template <std::size_t I>
  using output_t = type_at<I, output_list>;
  template <std::size_t I>
  using state_t = type_at<I, state_list>;
  static constexpr std::size_t state_count = state_list::size;
  // Bytes of the state tensors (the marker's 16 bytes come on top: they are in arena_bytes).
  static constexpr std::size_t state_bytes = []<class... S>(TypeList<S...>) {
    return (std::size_t{0} + ... + S::bytes);
  }(state_list{});

  template <class T>
  static constexpr std::size_t tensor_index = detail::index_of<T, tensors>::value;

  // ---- static checks of the wiring ---------------------------------------------------------
 private:
  // Per tensor: the position of the first op that writes it (op_count when none) and how many
  // ops write it. Computed once, so that checking every read and write costs a look-up each, not a
  // pass over the ops each (an unrolled RNN has hundreds of ops).
  struct Writers {
    std::array<std::size_t, tensor_count + 1> first{};   // [tensor_count]: tensors not in the list
    std::array<std::size_t, tensor_count + 1> count{};
  };
  static constexpr Writers writers = [] {
    Writers w{};
    for (std::size_t i = 0; i <= tensor_count; ++i) w.first[i] = op_count;
    std::size_t k = 0;
    ((w.first[tensor_index<typename Ops::output>] =
          w.first[tensor_index<typename Ops::output>] < k ? w.first[tensor_index<typename Ops::output>] : k,
      ++w.count[tensor_index<typename Ops::output>], ++k),
     ...);
    return w;
  }();
  template <std::size_t K, class Op, class T>
  static constexpr bool check_read() {
    constexpr bool produced_before =
        detail::contains<T, input_list> || StateTensorType<T> || writers.first[tensor_index<T>] < K;
    if constexpr (!produced_before) (void)detail::op_reads_unproduced_tensor<Op, T>{};
    return produced_before;
  }
  template <std::size_t K, class Op, class... Ts>
  static constexpr bool check_reads(TypeList<Ts...>) {
    return (check_read<K, Op, Ts>() && ...);
  }
  template <std::size_t K, class Op>
  static constexpr bool check_write() {
    constexpr bool ok = writers.count[tensor_index<typename Op::output>] == 1 &&
                        !detail::contains<typename Op::output, input_list>;
    if constexpr (!ok) (void)detail::tensor_produced_twice<Op, typename Op::output>{};
    constexpr bool not_state = !StateTensorType<typename Op::output>;
    if constexpr (!not_state) (void)detail::op_writes_state_tensor<Op, typename Op::output>{};
    return ok && not_state;
  }
  template <class T>
  static constexpr bool check_not_state() {
    if constexpr (StateTensorType<T>) (void)detail::state_tensor_in_graph_inputs_or_outputs<T>{};
    return !StateTensorType<T>;
  }
  template <class T>
  static constexpr bool check_output() {
    constexpr bool ok = writers.count[tensor_index<T>] > 0;
    if constexpr (!ok) (void)detail::output_never_produced<T>{};
    return ok;
  }
  template <std::size_t... K>
  static constexpr bool check_all(std::index_sequence<K...>) {
    return ((check_reads<K, Ops>(typename Ops::inputs{}) && check_write<K, Ops>()) && ...) &&
           (check_output<Outs>() && ...) && (check_not_state<Ins>() && ...) && (check_not_state<Outs>() && ...);
  }
  static_assert(check_all(std::index_sequence_for<Ops...>{}));

  // ---- lifetimes and the arena plan ------------------------------------------------------
  template <class... Ts>
  static constexpr void mark_reads(detail::TensorLifetimes<tensor_count>& t, int step, TypeList<Ts...>) {
    ((t.last[tensor_index<Ts>] = t.last[tensor_index<Ts>] > step ? t.last[tensor_index<Ts>] : step), ...);
  }
  template <class Op, class... In>
  static constexpr std::array<std::size_t, sizeof...(In)> input_indices(TypeList<In...>) {
    return {tensor_index<In>...};
  }
  template <class Op>
  static constexpr std::size_t first_input_index() {
    return tensor_index<type_at<0, typename Op::inputs>>;
  }

  // Ops whose output may start below their input (a widening pointwise convolution), or that pay
  // for going in place (a Conv2D's ring of rows): whether each does is decided by trying (see
  // lifetimes below).
  static constexpr std::array<bool, op_count> tried{
      (Ops::in_place && (detail::in_place_below<Ops>() > 0 || detail::in_place_tried<Ops>()))...};

  // Residual blocks conv1 -> conv2 -> ADD that may run fused, row by row (layers/conv/residual_rows.hpp):
  // per op, whether one starts there, and its tensors.
  struct Block {
    std::size_t x = 0, y1 = 0, y2 = 0, sum = 0;
  };
  template <std::size_t K>
  struct residual_at {
    using type = detail::ResidualRows<type_at<K, op_list>, type_at<K + 1, op_list>, type_at<K + 2, op_list>>;
  };
  template <std::size_t K>
  static constexpr bool fusable_at() {
    if constexpr (K + 2 < op_count) return residual_at<K>::type::applies;
    else return false;
  }
  template <std::size_t K>
  static constexpr Block block_at() {
    if constexpr (fusable_at<K>()) {
      using b = typename residual_at<K>::type;
      return {tensor_index<typename b::x>, tensor_index<typename b::y1>, tensor_index<typename b::y2>, tensor_index<typename b::sum>};
    } else {
      return {};
    }
  }
  static constexpr std::array<bool, op_count> fusable = []<std::size_t... K>(std::index_sequence<K...>) {
    return std::array<bool, op_count>{fusable_at<K>()...};
  }(std::make_index_sequence<op_count>{});
  static constexpr std::array<Block, op_count> blocks = []<std::size_t... K>(std::index_sequence<K...>) {
    return std::array<Block, op_count>{block_at<K>()...};
  }(std::make_index_sequence<op_count>{});
  static constexpr bool any_fusable = [] {
    for (bool f : fusable)
      if (f) return true;
    return false;
  }();

  // The lifetimes and sharing with the tried ops in `allow` over (or overlapping) their inputs and
  // the residual blocks in `fuse` fused (those fused are set in `fused`).
  static constexpr detail::TensorLifetimes<tensor_count> decide(const std::array<bool, op_count>& allow,
                                                                const std::array<bool, op_count>& fuse,
                                                                std::array<bool, op_count>& fused) {
    detail::TensorLifetimes<tensor_count> t{};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((t.bytes[I] = type_at<I, tensors>::bytes), ...);
    }(std::make_index_sequence<tensor_count>{});
    for (std::size_t i = 0; i < tensor_count; ++i) {
      t.first[i] = 0;
      t.last[i] = 0;
      t.shares_with[i] = -1;
    }
    constexpr int end = static_cast<int>(op_count) + 1;
    int step = 1;
    ((t.first[tensor_index<typename Ops::output>] = step, mark_reads(t, step, typename Ops::inputs{}), ++step), ...);
    ((t.last[tensor_index<Outs>] = end), ...);
    // State (and its marker) is alive from before the first op to after the last: no other tensor
    // of the network ever gets its bytes, so it survives from one invoke() to the next.
    [&]<class... T>(TypeList<T...>) {
      (
          [&] {
            if constexpr (detail::kept_across_invokes<T>) {
              t.first[tensor_index<T>] = 0;
              t.last[tensor_index<T>] = end;
            }
          }(),
          ...);
    }(tensors{});

    // Sharing, decided in op order (docs/design.md, "The arena plan"). Tensors sharing bytes form a
    // group; rel is each member's start relative to its group's root. A graph input or state
    // tensor, or an alias of one, is `fixed`: no view is made of it and it is placed in no output
    // (invoke_from reads graph inputs outside the arena, and a view would read the arena's bytes;
    // state is kept as it is).
    std::array<std::size_t, tensor_count> group_of{};
    std::array<long, tensor_count> rel{};
    std::array<bool, tensor_count> fixed{};
    for (std::size_t i = 0; i < tensor_count; ++i) {
      group_of[i] = i;
      rel[i] = 0;
      fixed[i] = t.first[i] == 0;
    }
    std::array<long, tensor_count> low{}, high{};  // per group root: the span of its members' bytes
    for (std::size_t i = 0; i < tensor_count; ++i) high[i] = static_cast<long>(t.bytes[i]);
    const auto join = [&](std::size_t member, std::size_t other, long offset_from_other) {
      const std::size_t g = group_of[other];
      t.shares_with[member] = static_cast<int>(other);
      t.share_offset[member] = offset_from_other;
      group_of[member] = g;
      rel[member] = rel[other] + offset_from_other;
      const long end = rel[member] + static_cast<long>(t.bytes[member]);
      low[g] = low[g] < rel[member] ? low[g] : rel[member];
      high[g] = high[g] > end ? high[g] : end;
    };
    // Whether bytes [lo, hi) of group g (relative to its root) may be written at `step`: no member
    // overlapping them is read after it. (An in-place op writing over a view is thus refused while
    // the sliced tensor or a sibling view under the same bytes is still to be read.)
    const auto writable = [&](std::size_t g, long lo, long hi, int at_step) {
      for (std::size_t m = 0; m < tensor_count; ++m)
        if (group_of[m] == g && rel[m] < hi && lo < rel[m] + static_cast<long>(t.bytes[m]) && t.last[m] > at_step)
          return false;
      return true;
    };
    const auto alone = [&](std::size_t i) {
      for (std::size_t m = 0; m < tensor_count; ++m)
        if (m != i && group_of[m] == group_of[i]) return false;
      return !fixed[i];
    };
    // A residual block fused: y1 and y2 never exist whole and the sum goes over x, so all three
    // join x's buffer. It needs y1 and y2 read by nothing else and x dying at the ADD, not a graph
    // input (nor state) and under no other tensor still to be read.
    const auto fuses = [&](std::size_t k) {
      const Block b = blocks[k];
      const int s = static_cast<int>(k) + 1;  // conv1's step
      return fuse[k] && fusable[k] && !fixed[b.x] && t.last[b.y1] == s + 1 && t.last[b.y2] == s + 2 &&
             t.last[b.x] == s + 2 && writable(group_of[b.x], rel[b.x], rel[b.x] + static_cast<long>(t.bytes[b.x]), s + 2);
    };
    int skip = 0;  // conv2 and the ADD of a fused block
    step = 1;
    (
        [&] {
          constexpr std::size_t out = tensor_index<typename Ops::output>;
          constexpr std::size_t in = first_input_index<Ops>();
          const std::size_t k = static_cast<std::size_t>(step - 1);
          if (skip > 0) {
            --skip;
          } else if (fusable[k] && fuses(k)) {
            const Block b = blocks[k];
            join(b.y1, b.x, 0);
            join(b.y2, b.x, 0);
            join(b.sum, b.x, 0);
            fused[k] = true;
            skip = 2;
          } else if constexpr (detail::AliasOp<Ops>) {
            join(out, in, 0);
            fixed[out] = fixed[in];
          } else if constexpr (detail::view_offset<Ops>() >= 0) {
            if (!fixed[in]) join(out, in, detail::view_offset<Ops>());
          } else if constexpr (detail::GatherOp<Ops>) {
            // Each input produced alone (no buffer shared yet) is placed in its slot of the output,
            // so its producer writes it there; the output is a new tensor, its own group.
            constexpr auto ins = input_indices<Ops>(typename Ops::inputs{});
            for (std::size_t k = 0; k < ins.size(); ++k)
              if (Ops::input_offsets[k] >= 0 && ins[k] != out && alone(ins[k])) join(ins[k], out, Ops::input_offsets[k]);
          } else if constexpr (Ops::in_place) {
            constexpr long below = detail::in_place_below<Ops>();
            constexpr long out_bytes = static_cast<long>(type_at<out, tensors>::bytes);
            if (below > 0 || out_bytes <= static_cast<long>(type_at<in, tensors>::bytes)) {
              const std::size_t g = group_of[in];
              const long lo = rel[in] - below, hi = lo + out_bytes;
              // Only the first input may lie under the output: the others are read at other indices.
              bool others_clear = true;
              constexpr auto ins = input_indices<Ops>(typename Ops::inputs{});
              for (std::size_t k = 1; k < ins.size(); ++k) {
                const std::size_t r = ins[k];
                if (r != in && group_of[r] == g && rel[r] < hi && lo < rel[r] + static_cast<long>(t.bytes[r]))
                  others_clear = false;
              }
              // A group is one buffer for as long as any member lives: an output that would keep more
              // than its own size of dead bytes reserved (a stride-2 depthwise over its input) is
              // better off in a buffer of its own.
              const long span = (hi > high[g] ? hi : high[g]) - (lo < low[g] ? lo : low[g]);
              if (others_clear && span <= 2 * out_bytes && (!tried[static_cast<std::size_t>(step - 1)] || allow[static_cast<std::size_t>(step - 1)]) &&
                  writable(g, lo, hi, step))
                join(out, in, -below);
            }
          }
          ++step;
        }(),
        ...);
    return t;
  }

  // A widening op's overlap saves bytes at its own step but fixes where its output goes relative to
  // its input, which can cost more elsewhere (vww: the second widening convolution, whose input a
  // stride-2 depthwise layer wrote beside a larger tensor). A Conv2D over its input copies each
  // row back from a ring: it costs instructions (about 1.7 per byte) and is worth it only where
  // the peak is (resnet: the first block's second convolution). So, in op order, each tried op is
  // kept when the arena it gives is smaller than without it.
  //
  // A fused residual block (layers/conv/residual_rows.hpp) is tried the same way, before its first
  // convolution is tried in place. Fusing resnet's first block alone leaves the arena where the
  // second block puts it (x with conv4's output and the shortcut's, 32,768 bytes); it shrinks only
  // with conv4 and the shortcut over their inputs too, and neither shrinks it alone. So a network
  // with a block that may fuse is also planned a second way: in op order each choice kept unless
  // the arena grows, then, last to first, each dropped unless the arena grows without it; that plan
  // is taken when its arena is smaller.
  struct Choice {
    std::array<bool, op_count> in_place{};  // tried ops over their inputs
    std::array<bool, op_count> fuse{};      // residual blocks fused, by their first op
  };
  struct Planned {
    detail::TensorLifetimes<tensor_count> lifetimes;
    detail::ArenaPlan<tensor_count> plan;
    std::array<bool, op_count> fused;
    bool changed;  // sharing other than the plan it was compared with
  };
  static constexpr Planned plan_of(const Choice& c, const Planned* than) {
    std::array<bool, op_count> fused{};
    const detail::TensorLifetimes<tensor_count> l = decide(c.in_place, c.fuse, fused);
    bool same = than != nullptr;  // the choice refused by the rules above: nothing to plan
    for (std::size_t i = 0; same && i < tensor_count; ++i)
      same = l.shares_with[i] == than->lifetimes.shares_with[i] && l.share_offset[i] == than->lifetimes.share_offset[i];
    return Planned{l, same ? than->plan : detail::plan_arena(l), fused, !same};
  }
  // Choice i: fusing the block that starts at op i / 2 (even i), op i / 2 in place (odd i).
  static constexpr bool candidate(std::size_t i) { return i % 2 == 0 ? fusable[i / 2] : tried[i / 2]; }
  static constexpr bool& chosen(Choice& c, std::size_t i) { return (i % 2 == 0 ? c.fuse : c.in_place)[i / 2]; }
  static constexpr Planned choose(bool keep_ties) {
    Choice c{};
    Planned best = plan_of(c, nullptr);
    for (std::size_t i = 0; i < 2 * op_count; ++i) {
      if (!candidate(i)) continue;
      chosen(c, i) = true;
      const Planned p = plan_of(c, &best);
      if (p.plan.total_bytes < best.plan.total_bytes || (keep_ties && p.changed && p.plan.total_bytes == best.plan.total_bytes)) best = p;
      else chosen(c, i) = false;
    }
    if (keep_ties) {
      for (std::size_t i = 2 * op_count; i-- > 0;) {
        if (!candidate(i) || !chosen(c, i)) continue;
        chosen(c, i) = false;
        const Planned p = plan_of(c, &best);
        if (p.plan.total_bytes <= best.plan.total_bytes) best = p;
        else chosen(c, i) = true;
      }
    }
    return best;
  }
  static constexpr Planned planned = [] {
    const Planned strict = choose(false);
    if constexpr (any_fusable) {
      const Planned ties = choose(true);
      if (ties.plan.total_bytes < strict.plan.total_bytes) return ties;
    }
    return strict;
  }();
  static constexpr const detail::TensorLifetimes<tensor_count>& lifetimes = planned.lifetimes;
  static constexpr const detail::ArenaPlan<tensor_count>& plan = planned.plan;


 public:
  // An op whose output the plan made a view of its input (a contiguous slice), or whose inputs it
  // all placed in their slots of the output (Pack, Concatenation): its bytes are already where they
  // belong, and invoke() does not run it.
  template <class Op>
  static constexpr bool elided = [] {
    constexpr int out = static_cast<int>(tensor_index<typename Op::output>);
    if constexpr (detail::view_offset<Op>() >= 0) {
      return lifetimes.shares_with[static_cast<std::size_t>(out)] == static_cast<int>(first_input_index<Op>());
    } else if constexpr (detail::GatherOp<Op>) {
      return []<class... In>(TypeList<In...>) {
        return ((lifetimes.shares_with[tensor_index<In>] == out) && ...);
      }(typename Op::inputs{});
    } else {
      return false;
    }
  }();

  // An op the plan put over its first input that pays for it (a Conv2D through a ring of rows,
  // in_place_tried): invoke() calls its run_in_place instead of run.
  template <class Op>
  static constexpr bool over_input = [] {
    if constexpr (detail::in_place_tried<Op>() && detail::in_place_below<Op>() == 0) {
      constexpr std::size_t out = tensor_index<typename Op::output>;
      return lifetimes.shares_with[out] == static_cast<int>(first_input_index<Op>()) && lifetimes.share_offset[out] == 0;
    } else {
      return false;
    }
  }();

  // A residual block the plan fused (layers/conv/residual_rows.hpp): invoke() runs it row by row
  // in its first convolution's place (fused_block) and skips its second convolution and its ADD
  // (fused_away).
  template <class Op>
  static constexpr std::size_t op_index = detail::index_of<Op, op_list>::value;
  template <class Op>
  static constexpr bool fused_block = planned.fused[op_index<Op>];
  template <class Op>
  static constexpr bool fused_away = (op_index<Op> >= 1 && planned.fused[op_index<Op> - 1]) ||
                                     (op_index<Op> >= 2 && planned.fused[op_index<Op> - 2]);
  static constexpr std::size_t fused_blocks = [] {
    std::size_t n = 0;
    for (bool f : planned.fused) n += f ? 1 : 0;
    return n;
  }();

  // Bytes of activation memory the network needs (all tensors, buffers reused by lifetime).
  static constexpr std::size_t arena_bytes = plan.total_bytes;
  static constexpr std::size_t arena_alignment = detail::arena_alignment;
  // Multiply-accumulates per inference and bytes of constant data the kernels read from flash:
  // each table once, however many ops read it (shared weights, the int16 sigmoid table).
  static constexpr std::uint64_t macs = (std::uint64_t{0} + ... + Ops::macs);
  static constexpr std::size_t weight_bytes =
      (std::size_t{0} + ... + Ops::weight_bytes) - detail::repeated_table_bytes<Network>();
  // CRC-32 of the constant tables the kernels read (core/checksum.hpp), computed by the compiler;
  // tinynet::verify_weights<Network>() recomputes it from flash at run time.
  static constexpr std::uint32_t weights_checksum = detail::network_crc32<Network>();

  template <class T>
  static constexpr std::size_t offset_of = plan.offset[tensor_index<T>];
  // The plan as the compiler computed it, for tools (targets/host/plan_main.cpp prints it for
  // `tinynet report`): per tensor, in tensor_index order, its bytes, the step that writes it and the
  // last that reads it (graph inputs: step 0, op k: step k + 1, graph outputs: op_count + 1), the
  // tensor whose buffer it shares, and its offset.
  static constexpr const detail::TensorLifetimes<tensor_count>& arena_lifetimes = lifetimes;
  static constexpr const detail::ArenaPlan<tensor_count>& arena_plan = plan;

  // Bytes each tensor is read or written per inference, estimated from the ops: an op writes its
  // output once and reads each input once, and an op with more MACs than its first input has
  // elements reads that input once per MAC (a convolution or dense layer re-reads its input for
  // every output channel). What graph/regions.hpp ranks tensors by.
  static constexpr std::array<std::uint64_t, tensor_count> tensor_access_bytes = [] {
    std::array<std::uint64_t, tensor_count> a{};
    (
        [&]<class... In>(TypeList<In...>) {
          using first = type_at<0, typename Ops::inputs>;
          ((a[tensor_index<In>] += static_cast<std::uint64_t>(In::bytes)), ...);
          const auto elements = static_cast<std::uint64_t>(first::size);
          if (Ops::macs > elements) a[tensor_index<first>] += (Ops::macs - elements) * sizeof(typename first::element);
          a[tensor_index<typename Ops::output>] += static_cast<std::uint64_t>(Ops::output::bytes);
        }(typename Ops::inputs{}),
        ...);
    return a;
  }();

  template <class T>
  static typename T::element* tensor_in(std::byte* arena) {
    return reinterpret_cast<typename T::element*>(arena + offset_of<T>);
  }

  // Typed views of the network's inputs and outputs inside an arena.
  template <std::size_t I = 0>
  static std::span<typename input_t<I>::element, static_cast<std::size_t>(input_t<I>::size)> input(std::byte* arena) {
    return std::span<typename input_t<I>::element, static_cast<std::size_t>(input_t<I>::size)>(
        tensor_in<input_t<I>>(arena), static_cast<std::size_t>(input_t<I>::size));
  }
  template <std::size_t I = 0>
  static std::span<typename output_t<I>::element, static_cast<std::size_t>(output_t<I>::size)> output(std::byte* arena) {
    return std::span<typename output_t<I>::element, static_cast<std::size_t>(output_t<I>::size)>(
        tensor_in<output_t<I>>(arena), static_cast<std::size_t>(output_t<I>::size));
  }

  // Runs every op in order inside `arena`, which must hold arena_bytes bytes aligned to
  // arena_alignment. Inputs must already be in place (see input<I>()); their bytes may be reused
  // by later layers, as in TFLM.
  // A stateful network first resets its state if the arena's marker says it was never set (a
  // zeroed arena) or was wiped.
  static void invoke(std::byte* arena) {
    prepare_state(ArenaAddress{arena});
    (run_op<Ops>(arena, typename Ops::inputs{}), ...);
  }

  // The same, reading the graph inputs where they already are instead of from the arena: one
  // pointer per input, in Inputs<> order (a window of a stream: graph/stream.hpp). Nothing is
  // copied into the arena and those bytes are never written; the arena still reserves them.
  static void invoke_from(std::byte* arena, const typename Ins::element*... inputs) {
    invoke_at(ExternalInputs{arena, {inputs...}});
  }

  // State: every state tensor back to its initial value (StateTensor::initial: the zero point for
  // int8, else 0), as after TFLM's AllocateTensors() or ResetVariableTensors(). Nothing to do for a
  // network without state. invoke() calls it by itself on an arena never reset or wiped.
  static void reset(std::byte* arena) { reset_at(ArenaAddress{arena}); }
  template <class Address>
  static void reset_at(const Address& at) {
    if constexpr (is_stateful) {
      [&]<class... S>(TypeList<S...>) {
        (
            [&] {
              typename S::element* p = at.template result<S>();
              for (int k = 0; k < S::size; ++k) p[k] = S::initial;
            }(),
            ...);
      }(state_list{});
      at.template result<detail::StateMarker>()[0] = detail::state_marker_value;
    }
  }
  // A typed view of state tensor I in an arena (to inspect or save it).
  template <std::size_t I = 0>
  static std::span<typename state_t<I>::element, static_cast<std::size_t>(state_t<I>::size)> state(std::byte* arena) {
    return std::span<typename state_t<I>::element, static_cast<std::size_t>(state_t<I>::size)>(
        tensor_in<state_t<I>>(arena), static_cast<std::size_t>(state_t<I>::size));
  }

  // The general form: every op's operands and result at the addresses `at` gives (an Address
  // has operand<T>() and result<T>(); op k is skipped when skip<Op>() says its output is already
  // where its input is). invoke_from and graph/regions.hpp use it.
  template <class Address>
  static void invoke_at(const Address& at) {
    prepare_state(at);
    (run_op_at<Ops>(at, typename Ops::inputs{}), ...);
  }

  // The same, calling after_op(k) as soon as op k (0-based, in the order listed) has run: a hook
  // for per-layer timing or tracing on the device (scripts/tinynet bench --per-layer uses it).
  template <class AfterOp>
  static void invoke(std::byte* arena, AfterOp&& after_op) {
    prepare_state(ArenaAddress{arena});
    std::size_t k = 0;
    ((run_op<Ops>(arena, typename Ops::inputs{}), after_op(k++)), ...);
  }

 private:
  template <class Address>
  static void prepare_state(const Address& at) {
    if constexpr (is_stateful) {
      if (at.template result<detail::StateMarker>()[0] != detail::state_marker_value) reset_at(at);
    }
  }
  // Addresses in one arena at the planned offsets (reset(), and invoke()'s state check).
  struct ArenaAddress {
    std::byte* arena;
    template <class T>
    typename T::element* operand() const {
      return tensor_in<T>(arena);
    }
    template <class T>
    typename T::element* result() const {
      return tensor_in<T>(arena);
    }
    template <class Op>
    static constexpr bool skip() {
      return false;
    }
  };

  // Each op runs in a function of its own: the stack then peaks at the largest op's frame, not at
  // the sum of the frames of the ops a compiler would inline into invoke() (ad01 on Cortex-M4:
  // 1,764 instead of 2,036 bytes of stack), for a call and return per op.
  // GCC must not draw conclusions across that call either (noipa, not only noinline):
  // arm-none-eabi-g++ 12.2 at -O1 and above judged a Pack op's function free of side effects, its
  // stores being addressed from the input pointer after loop optimisation, and deleted the call
  // (tests/conformance/test_tflm_ops_cortex_m.py caught it: the output stayed zero).
  template <class Op, class... In>
  TINYNET_OPAQUE_CALL static void run_op(std::byte* arena, TypeList<In...>) {
    if constexpr (fused_block<Op>) {
      using block = typename residual_at<op_index<Op>>::type;
      block::run(tensor_in<typename block::sum>(arena));
    } else if constexpr (fused_away<Op>) {
    } else if constexpr (over_input<Op>) Op::run_in_place(tensor_in<In>(arena)..., tensor_in<typename Op::output>(arena));
    else if constexpr (!elided<Op>) Op::run(tensor_in<In>(arena)..., tensor_in<typename Op::output>(arena));
  }

  // For invoke_from: which graph input each tensor is, directly or through aliasing ops (a Reshape
  // of an input is the input's bytes, wherever they are), or -1.
  static constexpr std::array<int, tensor_count> external_source = [] {
    std::array<int, tensor_count> source{};
    for (int& v : source) v = -1;
    int k = 0;
    ((source[tensor_index<Ins>] = k++), ...);
    (
        [&] {
          if constexpr (detail::AliasOp<Ops>) {
            source[tensor_index<typename Ops::output>] = source[first_input_index<Ops>()];
          }
        }(),
        ...);
    return source;
  }();

  // invoke_from's addresses: a graph input (or an alias of one) from the caller's pointers, any
  // other tensor from the arena.
  struct ExternalInputs {
    std::byte* arena;
    std::tuple<const typename Ins::element*...> inputs;
    template <class T>
    const typename T::element* operand() const {
      constexpr int source = external_source[tensor_index<T>];
      if constexpr (source >= 0) {
        return std::get<static_cast<std::size_t>(source)>(inputs);
      } else {
        return tensor_in<T>(arena);
      }
    }
    template <class T>
    typename T::element* result() const {
      return tensor_in<T>(arena);
    }
    template <class Op>
    static constexpr bool skip() {
      return external_source[tensor_index<typename Op::output>] >= 0;
    }
    template <class T>
    static constexpr bool outside_arena() {
      return external_source[tensor_index<T>] >= 0;
    }
  };
  template <class Op, class Address, class... In>
  TINYNET_OPAQUE_CALL static void run_op_at(const Address& at, TypeList<In...>) {
    if constexpr (fused_block<Op>) {
      using block = typename residual_at<op_index<Op>>::type;  // (x is never outside the arena: not a graph input)
      block::run(at.template result<typename block::sum>());
    } else if constexpr (fused_away<Op>) {
    } else if constexpr (!elided<Op> && !Address::template skip<Op>()) {
      // (An op over its input reads it from the arena, unless the Address reads it elsewhere.)
      constexpr bool elsewhere = [] {
        if constexpr (requires { Address::template outside_arena<type_at<0, typename Op::inputs>>(); })
          return Address::template outside_arena<type_at<0, typename Op::inputs>>();
        else return false;
      }();
      if constexpr (over_input<Op> && !elsewhere) Op::run_in_place(at.template operand<In>()..., at.template result<typename Op::output>());
      else Op::run(at.template operand<In>()..., at.template result<typename Op::output>());
    }
  }

  // Constant evaluation keeps every tensor in its own std::array (no byte reinterpretation).
  template <class List>
  struct storage_of;
  template <class... Ts>
  struct storage_of<TypeList<Ts...>> {
    using type = std::tuple<std::array<typename Ts::element, static_cast<std::size_t>(Ts::size)>...>;
  };
  using evaluation_storage = typename storage_of<tensors>::type;

  template <class Op, class... In>
  static constexpr void evaluate_op(evaluation_storage& s, TypeList<In...>) {
    Op::run(std::get<tensor_index<In>>(s).data()..., std::get<tensor_index<typename Op::output>>(s).data());
  }

 public:
  template <class T>
  using array_of = std::array<typename T::element, static_cast<std::size_t>(T::size)>;
  using evaluate_result = std::conditional_t<sizeof...(Outs) == 1, array_of<output_t<0>>, std::tuple<array_of<Outs>...>>;

  // Runs the network without an arena; usable in constant expressions:
  //   static_assert(net::evaluate(std::array<std::int8_t, 4>{1, 2, 3, 4})[0] == 17);
  // A stateful network starts from its reset state.
  static constexpr evaluate_result evaluate(const array_of<Ins>&... inputs) { return evaluate_repeated(1, inputs...); }

  // The same inputs `invokes` times in a row, state carried from one to the next (from the reset
  // state); the outputs of the last.
  static constexpr evaluate_result evaluate_repeated(int invokes, const array_of<Ins>&... inputs) {
    evaluation_storage s{};
    [&]<class... S>(TypeList<S...>) { (std::get<tensor_index<S>>(s).fill(S::initial), ...); }(state_list{});
    for (int k = 0; k < invokes; ++k) {
      ((std::get<tensor_index<Ins>>(s) = inputs), ...);
      (evaluate_op<Ops>(s, typename Ops::inputs{}), ...);
    }
    if constexpr (sizeof...(Outs) == 1) {
      return std::get<tensor_index<output_t<0>>>(s);
    } else {
      return evaluate_result{std::get<tensor_index<Outs>>(s)...};
    }
  }
};

}  // namespace tinynet
