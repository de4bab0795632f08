// MirrorPad (TFLM's mirror_pad.cc): pad a tensor of rank <= 6 with its own values mirrored at each
// edge, REFLECT (the edge value is not repeated) or SYMMETRIC (it is). Values are copied as they are.
// The input index each output index reads along an axis is TFLM's GetInputDimension(); the
// compiler tabulates it per axis (already multiplied by the axis stride), so run() only adds.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../../core/constant_tables.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

struct MirrorPadOptions {
  // Padding before and after each dimension, for the tensor's own rank (unused entries are 0).
  std::array<int, 6> before{};
  std::array<int, 6> after{};
  bool symmetric = false;  // SYMMETRIC repeats the edge value, REFLECT does not
};

template <class In, class Out, MirrorPadOptions Options>
struct MirrorPad {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static constexpr int rank = In::shape::rank;
  static_assert(rank >= 1 && rank <= 6, "tinynet::MirrorPad supports tensors of rank 1 to 6");
  static_assert(Out::shape::rank == rank, "tinynet::MirrorPad: input and output ranks differ");
  static_assert(element_type_mismatch<MirrorPad, element, typename Out::element>::ok);
  static constexpr int offset = Options.symmetric ? 0 : 1;

  static constexpr std::size_t at(int i) { return static_cast<std::size_t>(i); }
  // Dimensions and leading paddings extended to 6 with leading ones / zeros.
  static constexpr auto extend = [](auto value_of, int fill) {
    std::array<int, 6> d{};
    for (int k = 0; k < 6; ++k) d[at(k)] = k < 6 - rank ? fill : value_of(k - (6 - rank));
    return d;
  };
  static constexpr std::array<int, 6> in_dims = extend([](int k) { return In::shape::dims[at(k)]; }, 1);
  static constexpr std::array<int, 6> out_dims = extend([](int k) { return Out::shape::dims[at(k)]; }, 1);
  static constexpr std::array<int, 6> lead = extend([](int k) { return Options.before[at(k)]; }, 0);

  // TFLM reads outside the input when a leading padding exceeds size - offset; refused here.
  static constexpr bool shapes_fit = [] {
    for (int k = 0; k < rank; ++k) {
      const int before = Options.before[at(k)], after = Options.after[at(k)], size = In::shape::dims[at(k)];
      if (before < 0 || after < 0 || before > size - offset) return false;
      if (size + before + after != Out::shape::dims[at(k)]) return false;
    }
    return true;
  }();
  static_assert(output_shape_mismatch<MirrorPad, typename In::shape, typename Out::shape, shapes_fit>::ok,
                "tinynet::MirrorPad: output = input + paddings, and each leading padding <= size - offset");

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  // GetInputDimension (mirror_pad.cc).
  static constexpr int source(int padded, int left, int size) {
    if (padded < left) {
      const int original = left + offset - 1;
      return original - (padded < original - offset ? padded : original - offset);
    }
    padded -= left;
    if (padded >= size) {
      padded -= size;
      const int original = size - (1 + offset);
      return original - (padded < original ? padded : original);
    }
    return padded;
  }

  static constexpr std::array<int, 6> starts = [] {
    std::array<int, 6> s{};
    for (int k = 1; k < 6; ++k) s[at(k)] = s[at(k - 1)] + out_dims[at(k - 1)];
    return s;
  }();
  static constexpr int table_size = starts[5] + out_dims[5];
  // For each axis, the input offset (index * stride) each output index along it reads.
  static constexpr std::array<int, table_size> sources = [] {
    std::array<int, table_size> t{};
    int stride = 1;
    for (int k = 5; k >= 0; --k) {
      for (int p = 0; p < out_dims[at(k)]; ++p)
        t[at(starts[at(k)] + p)] = source(p, lead[at(k)], in_dims[at(k)]) * stride;
      stride *= in_dims[at(k)];
    }
    return t;
  }();
  static constexpr std::size_t weight_bytes = sizeof(sources);  // the table run() reads, in flash
  static constexpr auto constant_tables() { return ConstantTables<sources>{}; }

  static constexpr void run(const element* in, element* out) {
    const int* s = sources.data();
    for (int a = 0; a < out_dims[0]; ++a)
      for (int b = 0; b < out_dims[1]; ++b)
        for (int c = 0; c < out_dims[2]; ++c)
          for (int d = 0; d < out_dims[3]; ++d)
            for (int e = 0; e < out_dims[4]; ++e) {
              const element* base = in + s[starts[0] + a] + s[starts[1] + b] + s[starts[2] + c] +
                                    s[starts[3] + d] + s[starts[4] + e];
              for (int f = 0; f < out_dims[5]; ++f) *out++ = base[s[starts[5] + f]];
            }
  }
};

}  // namespace tinynet
