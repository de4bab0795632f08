// Running a network in memory: Instance<Net> owns an arena; InstanceIn<Net> uses one it is given
// (a SharedArena's, graph/shared_arena.hpp). Both have the same interface, written once here.
//
//   static tinynet::Instance<net> instance;            // .bss, zero-initialised: no constructor runs
//   instance.set_input_float(features);                 // or write instance.input() directly
//   instance.invoke();
//   float p = instance.output_float(0);
//   instance.wipe();                                    // nothing derived from the input stays in RAM
//
// Privacy: with AfterInvoke::wipe_all_but_outputs, every invoke() ends by clearing every byte of
// the arena except the output tensors (the inputs and every intermediate activation included), so
// that what remains in RAM between inferences is the result alone. wipe() clears everything. The
// writes cannot be removed by the optimiser (detail::secure_zero). A stateful network's state (and its
// marker) is kept too, since the next invoke() reads it; wipe() clears it with the rest, and the
// next invoke() starts again from the reset state (docs/design.md, "State").
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <utility>

#include "../core/quantize_value.hpp"
#include "network.hpp"

namespace tinynet {

// What invoke() leaves in the arena: everything, as TFLM does (keep), or the outputs alone.
enum class AfterInvoke { keep, wipe_all_but_outputs };

namespace detail {

// Zeroes [p, p + n) with stores the compiler must keep: the empty asm statement takes the pointer
// and clobbers memory, so as far as the optimiser knows the zeros are read afterwards.
inline void secure_zero(std::byte* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) p[i] = std::byte{0};
#if defined(__GNUC__) || defined(__clang__)
  __asm__ __volatile__("" : : "r"(p) : "memory");
#endif
}

// Byte ranges of tensors in a network's arena, sorted by offset: state_ranges (the state tensors and
// their marker, which SharedArena keeps clear of other networks) and kept_ranges (those and the
// outputs: what wipe_all_but_outputs keeps).
struct ByteRange {
  std::size_t begin = 0;
  std::size_t end = 0;
};
template <class Net, class List>
struct ranges_of;
template <class Net, class... Ts>
struct ranges_of<Net, TypeList<Ts...>> {
  static constexpr auto value = [] {
    std::array<ByteRange, sizeof...(Ts)> r{ByteRange{Net::template offset_of<Ts>, Net::template offset_of<Ts> + Ts::bytes}...};
    std::sort(r.begin(), r.end(), [](ByteRange a, ByteRange b) { return a.begin < b.begin; });
    return r;
  }();
};
// A stateful network's state tensors and its marker (none for a network without state).
template <class Net>
using state_and_marker =
    std::conditional_t<Net::is_stateful, typename append_unique<typename Net::state_list, StateMarker>::type, TypeList<>>;
template <class Net>
using state_ranges = ranges_of<Net, state_and_marker<Net>>;
template <class Net>
using kept_ranges = ranges_of<Net, typename concat_unique<typename Net::output_list, state_and_marker<Net>>::type>;

template <class Net>
void wipe_all_but_outputs(std::byte* arena) {
  std::size_t cursor = 0;
  for (const ByteRange keep : kept_ranges<Net>::value) {
    if (keep.begin > cursor) secure_zero(arena + cursor, keep.begin - cursor);
    cursor = std::max(cursor, keep.end);
  }
  if (Net::arena_bytes > cursor) secure_zero(arena + cursor, Net::arena_bytes - cursor);
}

}  // namespace detail

// The interface of an instance; Self provides arena_data(), the start of Net::arena_bytes bytes
// aligned to Net::arena_alignment.
template <class Net, class Self, AfterInvoke Policy>
struct InstanceInterface {
  using network = Net;

  template <std::size_t I = 0>
  auto input() {
    return Net::template input<I>(arena());
  }
  template <std::size_t I = 0>
  auto output() {
    return Net::template output<I>(arena());
  }
  void invoke() {
    Net::invoke(arena());
    after_invoke();
  }
  template <class AfterOp>
  void invoke(AfterOp&& after_op) {
    Net::invoke(arena(), after_op);
    after_invoke();
  }

  // Runs on inputs that stay where they are (one pointer per graph input, in Inputs<> order), e.g.
  // a StreamWindow's current window (graph/stream.hpp): nothing is copied into the arena.
  template <class... Elements>
  void invoke_from(const Elements*... inputs) {
    Net::invoke_from(arena(), inputs...);
    after_invoke();
  }
  template <class Window>
    requires requires(const Window& w) { w.window(); }
  void invoke_from(const Window& stream) {
    invoke_from(stream.window().data());
  }

  // Clears every byte of the arena, inputs, outputs and state included, with writes the optimiser
  // keeps. A stateful network's next invoke() starts from the reset state.
  void wipe() { detail::secure_zero(arena(), Net::arena_bytes); }

  // State (a stateful network: Net::is_stateful): back to the initial values (Network::reset), and
  // a typed view of state tensor I.
  void reset() { Net::reset(arena()); }
  template <std::size_t I = 0>
  auto state() {
    return Net::template state<I>(arena());
  }

  // Real numbers in and out through each tensor's compile-time quantization (no scale or zero
  // point copied by hand): set_input_float quantizes as TFLM's AffineQuantize does
  // (core/quantize_value.hpp), output_float dequantizes as TFLM's Dequantize. On float tensors
  // they copy. The spans have the tensor's size as their extent: a float[N] of the wrong N does
  // not compile.
  template <std::size_t I = 0>
  using input_values = std::span<const float, static_cast<std::size_t>(Net::template input_t<I>::size)>;
  template <std::size_t I = 0>
  using output_values = std::span<float, static_cast<std::size_t>(Net::template output_t<I>::size)>;

  template <std::size_t I = 0>
  void set_input_float(input_values<I> values) {
    auto in = input<I>();
    for (std::size_t k = 0; k < in.size(); ++k) in[k] = quantize_value<typename Net::template input_t<I>>(values[k]);
  }
  template <std::size_t I = 0>
  float output_float(std::size_t k) {
    return dequantize_value<typename Net::template output_t<I>>(output<I>()[k]);
  }
  template <std::size_t I = 0>
  void output_float(output_values<I> values) {
    auto out = output<I>();
    for (std::size_t k = 0; k < out.size(); ++k) values[k] = dequantize_value<typename Net::template output_t<I>>(out[k]);
  }

 private:
  std::byte* arena() { return static_cast<Self*>(this)->arena_data(); }
  void after_invoke() {
    if constexpr (Policy == AfterInvoke::wipe_all_but_outputs) detail::wipe_all_but_outputs<Net>(arena());
  }
};

// A network with its own arena, for code that does not manage memory itself. Declare it static or
// global: it is zero-initialised data (.bss), and constructing it runs no code.
template <class Net, AfterInvoke Policy = AfterInvoke::keep>
struct Instance : InstanceInterface<Net, Instance<Net, Policy>, Policy> {
  alignas(Net::arena_alignment) std::byte arena[Net::arena_bytes > 0 ? Net::arena_bytes : 1];
  std::byte* arena_data() { return arena; }
};

// A network running in memory it does not own: `arena` must hold Net::arena_bytes bytes aligned to
// Net::arena_alignment (SharedArena::instance<Net>() hands out such views).
template <class Net, AfterInvoke Policy = AfterInvoke::keep>
struct InstanceIn : InstanceInterface<Net, InstanceIn<Net, Policy>, Policy> {
  std::byte* arena;
  std::byte* arena_data() { return arena; }
};

}  // namespace tinynet
