// Concatenation along one axis.
//
// Elements are copied as they are, whatever each input's scale and zero point: TFLM's micro kernel
// (micro/kernels/concatenation.cc, Eval -> reference_ops::Concatenation) does the same for int8 and
// int16. A converter only emits CONCATENATION with inputs quantized like the output; when they are
// not, TFLM's raw copy is still the result we must reproduce.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../../core/activation_range.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

struct ConcatenationOptions {
  int axis = -1;
  Activation activation = Activation::none;
};

template <class Out, ConcatenationOptions Options, class... Ins>
struct Concatenation {
  using inputs = TypeList<Ins...>;
  using output = Out;
  using element = typename Out::element;
  static constexpr int rank = Out::shape::rank;
  static constexpr int axis = Options.axis < 0 ? rank + Options.axis : Options.axis;

  static_assert(sizeof...(Ins) >= 1, "tinynet::Concatenation needs at least one input");
  static_assert(axis >= 0 && axis < rank, "tinynet::Concatenation: axis out of range");
  static_assert((element_type_mismatch<Concatenation, element, typename Ins::element>::ok && ...));
  static_assert(((Ins::shape::rank == rank) && ...), "tinynet::Concatenation: inputs must have the output's rank");

  // The product of dimensions before / after the axis, and each input's extent along it.
  static constexpr int outer = [] {
    int n = 1;
    for (int i = 0; i < axis; ++i) n *= Out::shape::dims[static_cast<std::size_t>(i)];
    return n;
  }();
  static constexpr int inner = Out::size / outer / Out::shape::dims[static_cast<std::size_t>(axis)];
  static constexpr bool shapes_fit = ((Ins::size == outer * inner * Ins::shape::dims[static_cast<std::size_t>(axis)]) && ...) &&
                                     (0 + ... + Ins::shape::dims[static_cast<std::size_t>(axis)]) ==
                                         Out::shape::dims[static_cast<std::size_t>(axis)];
  static_assert(output_shape_mismatch<Concatenation, typename Out::shape, typename Out::shape, shapes_fit>::ok);

  // With one block per input (outer == 1), each input is a contiguous run of the output's bytes:
  // the arena planner may let its producer write it there (graph/network.hpp), and the op then does
  // nothing. (Elements are copied as they are and no activation is applied, so that is exact.)
  static constexpr std::array<long, sizeof...(Ins)> input_offsets = [] {
    std::array<long, sizeof...(Ins)> at{};
    const int widths[] = {Ins::shape::dims[static_cast<std::size_t>(axis)]...};
    long column = 0;
    for (std::size_t k = 0; k < at.size(); ++k) {
      at[k] = outer == 1 ? column * static_cast<long>(sizeof(element)) : -1L;
      column += static_cast<long>(widths[k]) * inner;
    }
    return at;
  }();
  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  template <class In>
  static constexpr void copy_one(const element* in, element* out, int& column) {
    constexpr int width = In::shape::dims[static_cast<std::size_t>(axis)] * inner;
    constexpr int out_width = Out::shape::dims[static_cast<std::size_t>(axis)] * inner;
    for (int o = 0; o < outer; ++o) {
      for (int i = 0; i < width; ++i) {
        out[o * out_width + column + i] = in[o * width + i];
      }
    }
    column += width;
  }

  static constexpr void run(const typename Ins::element*... ins, element* out) {
    int column = 0;
    (copy_one<Ins>(ins, out, column), ...);
  }
};

}  // namespace tinynet
