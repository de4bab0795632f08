// Pack: N inputs of one shape stacked along a new axis of the output (TFLM's pack.cc, PackImpl).
// Values are copied as they are, as TFLM does (no requantization).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

struct PackOptions {
  int axis = 0;  // an axis of the output; negative counts from the back
};

template <class Out, PackOptions Options, class... Ins>
struct Pack {
  using inputs = TypeList<Ins...>;
  using output = Out;
  using element = typename Out::element;
  static constexpr int rank = Out::shape::rank;
  static constexpr int axis = Options.axis < 0 ? rank + Options.axis : Options.axis;
  static constexpr int count = static_cast<int>(sizeof...(Ins));

  static_assert(count >= 1, "tinynet::Pack needs at least one input");
  static_assert(axis >= 0 && axis < rank, "tinynet::Pack: axis out of range");
  static_assert((element_type_mismatch<Pack, element, typename Ins::element>::ok && ...));
  static_assert(((Ins::shape::rank + 1 == rank) && ...), "tinynet::Pack: each input has one axis less than the output");

  // Elements before the new axis (outer) and after it (inner).
  static constexpr int outer = [] {
    int n = 1;
    for (int i = 0; i < axis; ++i) n *= Out::shape::dims[static_cast<std::size_t>(i)];
    return n;
  }();
  static constexpr int inner = Out::size / outer / count;
  static constexpr bool shapes_fit = Out::shape::dims[static_cast<std::size_t>(axis)] == count && [] {
    bool ok = true;
    ([&] {
      for (int i = 0; i < rank - 1; ++i)
        ok = ok && Ins::shape::dims[static_cast<std::size_t>(i)] ==
                       Out::shape::dims[static_cast<std::size_t>(i < axis ? i : i + 1)];
    }(), ...);
    return ok;
  }();
  static_assert(output_shape_mismatch<Pack, typename Out::shape, typename Out::shape, shapes_fit>::ok);

  // With one block per input (nothing before the new axis but unit dimensions), input k is the
  // output's bytes from k * inner elements on: the arena planner may let its producer write it
  // there (graph/network.hpp), and the op then does nothing.
  static constexpr std::array<long, sizeof...(Ins)> input_offsets = [] {
    std::array<long, sizeof...(Ins)> at{};
    for (std::size_t k = 0; k < at.size(); ++k)
      at[k] = outer == 1 ? static_cast<long>(k) * inner * static_cast<long>(sizeof(element)) : -1L;
    return at;
  }();
  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  static constexpr void copy_one(const element* in, element* out, int k) {
    for (int o = 0; o < outer; ++o)
      for (int i = 0; i < inner; ++i) out[(o * count + k) * inner + i] = in[o * inner + i];
  }

  static constexpr void run(const typename Ins::element*... ins, element* out) {
    int k = 0;
    (copy_one(ins, out, k++), ...);
  }
};

}  // namespace tinynet
