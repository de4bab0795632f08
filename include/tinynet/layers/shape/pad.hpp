// Pad (and PadV2): surround a tensor of rank <= 4 with a constant. The constant is the output
// zero point for quantized tensors (real 0), 0 for float, unless a PadV2 value is given.
#pragma once

#include <array>
#include <cstdint>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

struct PadOptions {
  // Padding before and after each dimension, for the tensor's own rank (unused entries are 0).
  std::array<int, 4> before{};
  std::array<int, 4> after{};
  bool has_value = false;  // PadV2 with an explicit (integer-typed) constant
  int value = 0;
};

template <class In, class Out, PadOptions Options>
struct Pad {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static constexpr int rank = In::shape::rank;
  static_assert(rank <= 4, "tinynet::Pad supports tensors of rank <= 4");
  static_assert(Out::shape::rank == rank, "tinynet::Pad: input and output ranks differ");
  static_assert(element_type_mismatch<Pad, element, typename Out::element>::ok);
  static constexpr bool shapes_fit = [] {
    for (int i = 0; i < rank; ++i) {
      const auto d = static_cast<std::size_t>(i);
      if (Options.before[d] < 0 || Options.after[d] < 0) return false;
      if (In::shape::dims[d] + Options.before[d] + Options.after[d] != Out::shape::dims[d]) return false;
    }
    return true;
  }();
  static_assert(output_shape_mismatch<Pad, typename In::shape, typename Out::shape, shapes_fit>::ok);

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr element pad_value =
      Options.has_value ? static_cast<element>(Options.value)
                        : (In::is_float ? element{} : static_cast<element>(Out::zero_point));

  // Dimensions extended to 4 with leading ones, as TFLite's reference Pad does.
  static constexpr std::array<int, 4> in_dims = NHWC<typename In::shape>::extended;
  static constexpr std::array<int, 4> out_dims = NHWC<typename Out::shape>::extended;
  static constexpr std::array<int, 4> lead = [] {
    std::array<int, 4> out{};
    for (int i = 0; i < rank; ++i) out[static_cast<std::size_t>(4 - rank + i)] = Options.before[static_cast<std::size_t>(i)];
    return out;
  }();

  static constexpr void run(const element* in, element* out) {
    int o = 0;
    for (int a = 0; a < out_dims[0]; ++a)
      for (int b = 0; b < out_dims[1]; ++b)
        for (int c = 0; c < out_dims[2]; ++c)
          for (int d = 0; d < out_dims[3]; ++d, ++o) {
            const int ia = a - lead[0], ib = b - lead[1], ic = c - lead[2], id = d - lead[3];
            const bool inside = ia >= 0 && ia < in_dims[0] && ib >= 0 && ib < in_dims[1] && ic >= 0 &&
                                ic < in_dims[2] && id >= 0 && id < in_dims[3];
            out[o] = inside ? in[((ia * in_dims[1] + ib) * in_dims[2] + ic) * in_dims[3] + id] : pad_value;
          }
  }
};

}  // namespace tinynet
