// Gather with constant indices (TFLM's gather.cc): for each of `batch` batches and `outer`
// positions before the axis, the `inner`-element blocks at the batch's `coords` indices along an
// axis of `axis_size`. The generator resolves axis and batch_dims into these sizes. Values are
// copied as they are, as TFLM does (no requantization).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "../../core/constant_tables.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

struct GatherOptions {
  int batch = 1;      // product of the first batch_dims dimensions
  int outer = 1;      // product of the dimensions between batch_dims and the axis
  int axis_size = 1;  // the gathered axis of the input
  int coords = 1;     // indices per batch
  int inner = 1;      // product of the dimensions after the axis
};

template <class In, class Out, const auto& Indices, GatherOptions Options>
struct Gather {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static_assert(element_type_mismatch<Gather, element, typename Out::element>::ok);
  static constexpr int batch = Options.batch, outer = Options.outer, axis_size = Options.axis_size;
  static constexpr int coords = Options.coords, inner = Options.inner;
  static_assert(size_mismatch<Gather, batch * outer * axis_size * inner, In::size>::ok);
  static_assert(size_mismatch<Gather, batch * outer * coords * inner, Out::size>::ok);
  static constexpr bool indices_fit = [] {
    if (static_cast<int>(std::size(Indices)) != batch * coords) return false;
    for (int i = 0; i < batch * coords; ++i)
      if (Indices[i] < 0 || Indices[i] >= axis_size) return false;
    return true;
  }();
  static_assert(indices_fit, "tinynet::Gather: Indices must hold batch * coords indices inside the axis");

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = sizeof(Indices);
  static constexpr auto constant_tables() { return ConstantTables<Indices>{}; }

  static constexpr void run(const element* in, element* out) {
    for (int b = 0; b < batch; ++b)
      for (int o = 0; o < outer; ++o)
        for (int c = 0; c < coords; ++c) {
          const element* from = in + ((b * outer + o) * axis_size + Indices[b * coords + c]) * inner;
          for (int i = 0; i < inner; ++i) *out++ = from[i];
        }
  }
};

}  // namespace tinynet
