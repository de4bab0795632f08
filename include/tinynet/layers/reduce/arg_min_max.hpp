// ArgMax and ArgMin along one axis (TFLM's arg_min_max.cc -> reference_ops::ArgMinMax): for each
// of `outer` x `inner` positions, the index along the axis of the largest (smallest) value; the
// first one on ties, since only a strictly greater (smaller) value replaces the current one. Raw
// values are compared (quantization ignored, as TFLM). The output holds int32 or int64 indices.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

struct ArgMinMaxOptions {
  int outer = 1;      // product of the dimensions before the axis
  int axis_size = 1;  // the reduced axis
  int inner = 1;      // product of the dimensions after the axis
  bool is_max = true;
};

template <class In, class Out, ArgMinMaxOptions Options>
struct ArgMinMax {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  using index = typename Out::element;
  static_assert(std::is_same_v<index, std::int32_t> || std::is_same_v<index, std::int64_t>,
                "tinynet::ArgMinMax: the output holds int32 or int64 indices");
  static constexpr int outer = Options.outer, axis_size = Options.axis_size, inner = Options.inner;
  static_assert(axis_size >= 1, "tinynet::ArgMinMax: the axis must not be empty");
  static_assert(size_mismatch<ArgMinMax, outer * axis_size * inner, In::size>::ok);
  static_assert(size_mismatch<ArgMinMax, outer * inner, Out::size>::ok);

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  // Axis-major: each output starts at index 0, then every later slice along the axis replaces
  // the indices it strictly beats (the same order of comparisons as TFLM's loop per position).
  static constexpr void run(const element* in, index* out) {
    for (int o = 0; o < outer; ++o) {
      index* best = out + o * inner;
      const element* slices = in + o * axis_size * inner;
      for (int i = 0; i < inner; ++i) best[i] = 0;
      for (int k = 1; k < axis_size; ++k)
        for (int i = 0; i < inner; ++i) {
          const element value = slices[k * inner + i];
          const element current = slices[static_cast<int>(best[i]) * inner + i];
          if (Options.is_max ? value > current : value < current) best[i] = static_cast<index>(k);
        }
    }
  }
};

}  // namespace tinynet
