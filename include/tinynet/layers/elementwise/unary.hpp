// The frame of a one-input element-wise op: the op protocol (one input, the output, in place, no
// MACs), the shape and element-type checks, and the loop. Kernel::apply(element) -> element is the
// op's arithmetic for one element. With Tabulated (int8 ops whose arithmetic is costly: Elu,
// HardSwish, Rsqrt), the compiler runs apply() on all 256 int8 values once and run() reads that
// table from flash (256 bytes, counted in weight_bytes and listed in constant_tables()).
//
//   template <class In, class Out>
//   struct Neg : detail::Unary<Neg<In, Out>, In, Out> {
//     static constexpr float apply(float x) { return -x; }
//   };
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../../core/constant_tables.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet::detail {

template <class Kernel, class In, class Out, bool Tabulated = false>
struct Unary {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(output_shape_mismatch<Kernel, typename In::shape, typename Out::shape, In::size == Out::size>::ok);
  static_assert(element_type_mismatch<Kernel, element, typename Out::element>::ok);
  static_assert(!Tabulated || sizeof(element) == 1, "tinynet: only 8-bit element-wise ops are tabulated");

  static constexpr bool in_place = true;
  static constexpr std::uint64_t macs = 0;
  static constexpr bool tabulated = Tabulated;
  static constexpr std::size_t weight_bytes = Tabulated ? 256 : 0;

  // lookup_table[q + 128] = Kernel::apply(q), for the 256 int8 values.
  static constexpr std::array<element, 256> lookup_table = [] {
    std::array<element, 256> t{};
    if constexpr (Tabulated)
      for (int q = -128; q <= 127; ++q) t[static_cast<std::size_t>(q + 128)] = Kernel::apply(static_cast<element>(q));
    return t;
  }();
  static constexpr auto constant_tables() {
    if constexpr (Tabulated) return ConstantTables<lookup_table>{};
    else return ConstantTables<>{};
  }

  static constexpr void run(const element* in, element* out) {
    for (int i = 0; i < In::size; ++i) {
      if constexpr (Tabulated) {
        out[i] = lookup_table[static_cast<std::size_t>(in[i] + 128)];
      } else {
        out[i] = Kernel::apply(in[i]);
      }
    }
  }
};

}  // namespace tinynet::detail
