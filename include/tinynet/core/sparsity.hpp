// Sparse weights: which kernel form a weighted layer uses, and the compile-time figures behind
// the automatic choice.
//
// A pruned layer's zero weights are known to the compiler (the weights are template arguments),
// so the mask needs no storage of its own: it is read from the weights in constant evaluation.
// Three forms compute the same bytes:
//   dense       the ordinary kernel over every weight;
//   unrolled    only the multiply-accumulates of non-zero weights, written out by the compiler
//               (positions and values live in the instructions, no table);
//   compressed  non-zero values, each with a byte for its column, in flash, walked by a bounded
//               loop;
//   nm          weights in an N:M pattern along the input channels (2:4, 1:4): the kept weights
//               two per SMLAD, with a 4-bit slot per kept pair (layers/dense/nm_rows.hpp).
// See docs/sparsity.md for the measurements behind the thresholds below.
#pragma once

#include <cstdint>

namespace tinynet {

enum class SparseForm {
  automatic,   // chosen by the rule below from the layer's size and density
  dense,
  unrolled,
  compressed,
  nm,          // Conv2D and FullyConnected whose weights follow an N:M pattern; others run dense
};

namespace sparsity {

// The automatic rule's thresholds (measured on Cortex-M4: docs/sparsity.md).
// - `unrolled` costs about 2 instructions per non-zero weight plus 2 per distinct magnitude in a
//   row (the dense SMLAD kernel: about 1.7 per weight) and about 7 bytes of code per non-zero,
//   and its compile time and compiler memory grow with the non-zeros: it is used for at most
//   `unrolled_max_nonzeros` non-zeros, at a density of at most `unrolled_max_density` (there it
//   takes about 0.35x the dense instructions, in code about 1.75x the dense weight bytes).
// - `compressed` costs about 6 instructions and 2 bytes of flash per non-zero: up to
//   `compressed_max_density` (25 %) it needs fewer instructions than dense (0.92x) and half the
//   flash, so it is used there for layers too big to unroll.
inline constexpr int unrolled_max_nonzeros = 4096;
// Densities as fractions Num/Den (no floating point in the rule).
struct Fraction {
  int num;
  int den;
};
inline constexpr Fraction unrolled_max_density{1, 4};
inline constexpr Fraction compressed_max_density{1, 4};
// A Conv2D or DepthwiseConv2D runs its unrolled rows four (Conv2D) or one (DepthwiseConv2D)
// pixels per pass, each weight a constant shared by the pass (layers/dense/unrolled_rows.hpp).
// Measured on kws (Cortex-M4, `--sparse unrolled` against dense, session 13): at 40 % density a
// 1x1 Conv2D takes 0.74x the dense instructions, a 3x3 DepthwiseConv2D 0.87x, the first Conv2D
// 0.76x; at 50 % 0.9-0.95x and 1.07x. So convolutions unroll up to 40 %.
inline constexpr Fraction convolution_unrolled_max_density{2, 5};

// The automatic rule unrolls only in a build optimized for speed (`speed_build`: __OPTIMIZE__
// defined, __OPTIMIZE_SIZE__ not; -O1 to -O3). Without the optimizer (-O0) an unrolled row keeps
// every term as a call with its own loads and stores: vww_96_int8's 1x1 convolutions after the
// fifth (1 to 10 % of their weights non-zero as trained) took up to 0.6 MB of Cortex-M4 code
// each, about 370 bytes per non-zero weight. A build optimized for size (-Os, -Oz: Arduino cores
// and most vendor IDEs) asks for the smallest program, and `unrolled` is the largest sparse form
// (its weights are instructions, 7-24 bytes each against `compressed`'s 2): kws pruned 80 % took
// 2.7x the dense model's flash there. Such builds (`for_speed` false) take the form the rule
// would take past unrolled's limits (`compressed`, `nm` or dense; but a small DepthwiseConv2D
// unrolls in a build for size where that is smaller: below); a requested `unrolled` is
// kept. Every form gives the same bytes, so only speed and size change.
#if defined(__OPTIMIZE__) && !defined(__OPTIMIZE_SIZE__)
inline constexpr bool speed_build = true;
#else
inline constexpr bool speed_build = false;
#endif
// A build optimized for size (-Os, -Oz): there the automatic rule unrolls a DepthwiseConv2D only
// where its code is smaller than its dense form (`depthwise_unrolls_smaller`).
#if defined(__OPTIMIZE_SIZE__)
inline constexpr bool size_build = true;
#else
inline constexpr bool size_build = false;
#endif

constexpr bool at_most(long long nonzeros, long long total, Fraction limit) {
  return nonzeros * limit.den <= total * limit.num;
}

// The form a layer with `nonzeros` non-zero weights out of `total` runs in. Only int8 layers have
// sparse kernels (`has_sparse_kernels`); int16 (16x8) and float layers always run dense.
constexpr SparseForm choose(SparseForm requested, bool has_sparse_kernels, long long nonzeros, long long total,
                            Fraction unrolled_density = unrolled_max_density, bool for_speed = true) {
  if (!has_sparse_kernels) return SparseForm::dense;
  if (requested != SparseForm::automatic) return requested;
  if (total <= 0) return SparseForm::dense;
  if (for_speed && nonzeros <= unrolled_max_nonzeros && at_most(nonzeros, total, unrolled_density)) return SparseForm::unrolled;
  if (at_most(nonzeros, total, compressed_max_density)) return SparseForm::compressed;
  return SparseForm::dense;
}

// Conv2D and DepthwiseConv2D (layers/conv/) run their rows once per output pixel (a Conv2D up to
// four pixels per pass). Measured on Cortex-M4 (kws pruned 80 %, docs/sparsity.md): a 1x1 Conv2D
// in `compressed` takes 0.85x the dense instructions in under half its weight bytes, so a Conv2D
// follows the rule above (unrolled up to convolution_unrolled_max_density); a DepthwiseConv2D
// row is one channel's taps (9 for 3x3), too short for the compressed walk (1.6x the dense
// instructions), so the automatic rule never picks `compressed` for it.
enum class LayerKind { fully_connected, conv, depthwise };

// In a build for size, where the rule above takes no `unrolled`, a DepthwiseConv2D still unrolls
// when the estimate of its unrolled code is no larger than that of its dense form (and it is
// within unrolled's limits). A depthwise row is one channel's few taps, so its unrolled code is
// mostly the channel's output stage (about 40 bytes of Cortex-M4 code at -Os: bias, multiplier
// and shift as constants) plus about 8 bytes per non-zero weight; the dense form stores its
// weights as int16 pairs (2 bytes each) and an output-stage record of 16 bytes per channel, and
// each layer instantiates its own record kernel, border loops and row ring (about 1.5 KB). On kws
// pruned 80 % (43-56 channels of 9 taps, 116 non-zero weights each, Cortex-M4 -Os) the unrolled
// layers took 2.4-2.8 KB of code and the dense ones 1.4-1.9 KB of tables plus their code: the
// model 2.4 KB less flash unrolled, in 10 % fewer instructions (docs/sparsity.md, "Session 24").
// Wide layers (vww's 128-256 channels) stay dense: their output stages as code outweigh the
// kernel they save.
inline constexpr long long depthwise_unrolled_row_bytes = 40;
inline constexpr long long depthwise_unrolled_nonzero_bytes = 8;
inline constexpr long long depthwise_dense_weight_bytes = 2;
inline constexpr long long depthwise_dense_row_bytes = 16;
inline constexpr long long depthwise_dense_layer_bytes = 1536;
constexpr bool depthwise_unrolls_smaller(long long nonzeros, long long total, long long rows) {
  return depthwise_unrolled_row_bytes * rows + depthwise_unrolled_nonzero_bytes * nonzeros <=
         depthwise_dense_weight_bytes * total + depthwise_dense_row_bytes * rows + depthwise_dense_layer_bytes;
}

//
// `nm` (layers/dense/nm_rows.hpp) fits a layer whose weights follow an N:M pattern along the
// input channels, in no more flash than the dense weights, and pays where it keeps at most one
// pair of weights in four (2:4, 1:4). Measured on Cortex-M4 (kws, docs/sparsity.md): a 1x1 Conv2D
// 2:4 takes 0.66x the dense instructions (`unrolled` 0.85x, for 4.7x the flash), 1:4 0.46x
// (`unrolled` 0.5x). Its cost follows the kept pairs, `unrolled`'s the non-zero weights, so the
// automatic rule takes `nm` where it pays unless the rule above picks `unrolled` and that wins:
// for a Conv2D (four output pixels per pass) when the pairs hold fewer than 7/4 non-zero weights on
// average (sparser than 1:4), for a FullyConnected (one input per pass: 1.7x `unrolled`'s
// instructions at 1:4) always. Asked for on a layer it does not fit (or a DepthwiseConv2D, whose
// rows have no input channels to pair), the layer runs dense.
struct NmFit {
  bool fits = false;
  bool pays = false;
  long long pairs = 0;  // kept pairs over all rows
};

// `for_size` and `rows` (output channels) matter only for a DepthwiseConv2D (above).
constexpr SparseForm choose(LayerKind kind, SparseForm requested, bool has_sparse_kernels, long long nonzeros,
                            long long total, NmFit nm = {}, bool for_speed = true, bool for_size = false,
                            long long rows = 0) {
  const bool nm_kernel = has_sparse_kernels && kind != LayerKind::depthwise;
  const Fraction unrolled_density =
      kind == LayerKind::fully_connected ? unrolled_max_density : convolution_unrolled_max_density;
  if (requested == SparseForm::nm) return nm_kernel && nm.fits ? SparseForm::nm : SparseForm::dense;
  if (requested == SparseForm::automatic && nm_kernel && nm.pays) {
    const SparseForm generic = choose(requested, has_sparse_kernels, nonzeros, total, unrolled_density, for_speed);
    if (generic != SparseForm::unrolled) return SparseForm::nm;
    if (kind == LayerKind::conv && 4 * nonzeros >= 7 * nm.pairs) return SparseForm::nm;
    return SparseForm::unrolled;
  }
  const SparseForm form = choose(requested, has_sparse_kernels, nonzeros, total, unrolled_density, for_speed);
  if (requested == SparseForm::automatic && kind == LayerKind::depthwise && form != SparseForm::unrolled) {
    const bool unroll_for_size = has_sparse_kernels && for_size &&
                                 choose(requested, true, nonzeros, total, unrolled_density) == SparseForm::unrolled &&
                                 depthwise_unrolls_smaller(nonzeros, total, rows);
    return unroll_for_size ? SparseForm::unrolled : SparseForm::dense;
  }
  return form;
}

// Non-zero entries of weights[begin, end) (any element type).
template <class Array>
constexpr int count_nonzeros(const Array& weights, int begin, int end) {
  int count = 0;
  for (int i = begin; i < end; ++i) count += weights[i] != 0 ? 1 : 0;
  return count;
}

// Where the sparse kernels (layers/dense/unrolled_rows.hpp, compressed_rows.hpp) find element i of
// row o: its index in the weight array and the input column it multiplies. A FullyConnected
// layer, and a Conv2D over its receptive field, are row-major ([rows][depth], column i). Any
// layout works whose columns do not decrease along a row (DepthwiseConv2D: layers/conv/sparse_conv.hpp).
template <int Depth>
struct RowMajor {
  static constexpr int weight(int o, int i) { return o * Depth + i; }
  static constexpr int column(int, int i) { return i; }
};

// Non-zero entries of row o, elements [0, depth), in a layout.
template <class Layout, class Array>
constexpr int count_row_nonzeros(const Array& weights, int o, int depth) {
  int count = 0;
  for (int i = 0; i < depth; ++i) count += weights[Layout::weight(o, i)] != 0 ? 1 : 0;
  return count;
}

}  // namespace sparsity
}  // namespace tinynet
