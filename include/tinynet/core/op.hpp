// The op protocol: what Network needs from every op, as a C++20 concept.
//
//   using inputs = TypeList<In...>;          the tensors the op reads, in run()'s order
//   using output = Out;                      the tensor it writes
//   static constexpr bool in_place;          whether the output may share the first input's buffer
//   static constexpr std::uint64_t macs;     multiply-accumulates per run
//   static constexpr std::size_t weight_bytes;  flash its constant tables take
//   static void run(In::element*..., Out::element*);   (constexpr for constant evaluation)
//
// Optional: `alias` (the output is the input's bytes: Reshape) and constant_tables() (the tables
// its kernels read, for core/checksum.hpp; see core/constant_tables.hpp). Layout members, which let
// the arena planner (graph/network.hpp) place tensors inside other tensors' bytes:
//   static constexpr long view_offset;       the output is the first input's bytes from this byte
//                                            offset on (a contiguous slice), -1 if not; the op is
//                                            then not run when the plan makes it a view
//   static constexpr std::array<long, n> input_offsets;   input k may be written straight into the
//                                            output at this byte offset (Pack), -1 if not; the op
//                                            is not run when every input was placed so
//   static constexpr long in_place_below;    an in_place op's output may start this many bytes
//                                            below its input (and end past it); 0 if absent
//   static constexpr bool in_place_tried;    an in_place op that costs something in place (a
//                                            Conv2D's ring of rows): the planner keeps it over its
//                                            input only where the arena shrinks, and then calls
//   static void run_in_place(In::element*..., Out::element*);   instead of run (in == out)
//
// Each member is its own concept, so a compiler's error names the one an op lacks
// ("... required for the satisfaction of 'op_has_macs<T>' ... the required expression 'T::macs'
// is invalid"). Network checks its ops with it (graph/network.hpp).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "type_list.hpp"

namespace tinynet {

namespace detail {
template <class T>
inline constexpr bool is_type_list = false;
template <class... Ts>
inline constexpr bool is_type_list<TypeList<Ts...>> = true;

template <class Op, class Inputs>
inline constexpr bool runs_on = false;
template <class Op, class... In>
inline constexpr bool runs_on<Op, TypeList<In...>> =
    requires(typename In::element*... in, typename Op::output::element* out) { Op::run(in..., out); };
}  // namespace detail

template <class T>
concept op_has_inputs = requires { typename T::inputs; } && detail::is_type_list<typename T::inputs>;

template <class T>
concept op_has_output = requires { typename T::output::element; };

template <class T>
concept op_has_in_place = requires {
  { T::in_place } -> std::convertible_to<bool>;
};

template <class T>
concept op_has_macs = requires {
  { T::macs } -> std::convertible_to<std::uint64_t>;
};

template <class T>
concept op_has_weight_bytes = requires {
  { T::weight_bytes } -> std::convertible_to<std::size_t>;
};

// run(input element pointers..., output element pointer), callable as Network calls it.
template <class T>
concept op_has_run = op_has_inputs<T> && op_has_output<T> && detail::runs_on<T, typename T::inputs>;

template <class T>
concept NetworkOp = op_has_inputs<T> && op_has_output<T> && op_has_in_place<T> && op_has_macs<T> &&
                    op_has_weight_bytes<T> && op_has_run<T>;

// Instantiated by Network for each of its ops: a constraint failure here names the op and the
// member (one op at a time: for a pack, GCC would only say that the whole fold is false).
template <NetworkOp Op>
struct checked_op {
  static constexpr bool ok = true;
};

}  // namespace tinynet
