// Transpose: output axis k is input axis perm[k] (TFLM's transpose.cc -> reference_ops::Transpose,
// ranks 1 to 6). Values are copied as they are, as TFLM does (no requantization).
//
// When the axes that are not 1 keep their order (e.g. [1, H, W, 1] -> [1, 1, H, W]) the bytes do
// not move: the op is an alias, like Reshape, and the arena gives output and input one buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

struct TransposeOptions {
  std::array<int, 6> perm{0, 1, 2, 3, 4, 5};  // the first rank entries are used
};

template <class In, class Out, TransposeOptions Options>
struct Transpose {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  static constexpr int rank = In::shape::rank;
  static_assert(rank <= 6, "tinynet::Transpose supports tensors of rank <= 6");
  static_assert(Out::shape::rank == rank, "tinynet::Transpose: input and output must have the same rank");
  static_assert(element_type_mismatch<Transpose, element, typename Out::element>::ok);

  static constexpr std::size_t at(int i) { return static_cast<std::size_t>(i); }
  static constexpr bool is_permutation = [] {
    std::array<bool, 6> seen{};
    for (int k = 0; k < rank; ++k) {
      const int p = Options.perm[at(k)];
      if (p < 0 || p >= rank || seen[at(p)]) return false;
      seen[at(p)] = true;
    }
    return true;
  }();
  static_assert(is_permutation, "tinynet::Transpose: perm must list every axis of the input once");
  static constexpr bool shape_matches = [] {
    for (int k = 0; k < rank; ++k)
      if (Out::shape::dims[at(k)] != In::shape::dims[at(Options.perm[at(k)])]) return false;
    return true;
  }();
  static_assert(output_shape_mismatch<Transpose, typename In::shape, typename Out::shape, shape_matches>::ok);

  // The axes longer than 1 keep their order: same bytes, no copy.
  static constexpr bool alias = [] {
    int last = -1;
    for (int k = 0; k < rank; ++k) {
      const int p = Options.perm[at(k)];
      if (In::shape::dims[at(p)] == 1) continue;
      if (p < last) return false;
      last = p;
    }
    return true;
  }();
  static constexpr bool in_place = alias;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;

  // Output dimensions and, for each output axis, the input stride it walks; padded to 6-D in front.
  static constexpr std::array<int, 6> dims = [] {
    std::array<int, 6> d{1, 1, 1, 1, 1, 1};
    for (int k = 0; k < rank; ++k) d[at(6 - rank + k)] = Out::shape::dims[at(k)];
    return d;
  }();
  static constexpr std::array<int, 6> strides = [] {
    std::array<int, 6> in_stride{};
    int s = 1;
    for (int a = rank - 1; a >= 0; --a) {
      in_stride[at(a)] = s;
      s *= In::shape::dims[at(a)];
    }
    std::array<int, 6> out{};
    for (int k = 0; k < rank; ++k) out[at(6 - rank + k)] = in_stride[at(Options.perm[at(k)])];
    return out;
  }();

  static constexpr void run(const element* in, element* out) {
    if constexpr (alias) {
      if (in == out) return;  // the arena case: nothing to do
      for (int i = 0; i < Out::size; ++i) out[i] = in[i];
    } else {
      int o = 0;
      for (int a = 0; a < dims[0]; ++a)
        for (int b = 0; b < dims[1]; ++b)
          for (int c = 0; c < dims[2]; ++c)
            for (int d = 0; d < dims[3]; ++d)
              for (int e = 0; e < dims[4]; ++e) {
                const int base = a * strides[0] + b * strides[1] + c * strides[2] + d * strides[3] + e * strides[4];
                for (int f = 0; f < dims[5]; ++f) out[o++] = in[base + f * strides[5]];
              }
    }
  }
};

}  // namespace tinynet
