// BatchMatMul (TFLite BATCH_MATMUL): out[b][i][j] = sum_k lhs[b][i][k] * rhs[b][k][j] over ranks 2
// to 5, batch dimensions broadcast numpy's way (a batch dimension of 1 repeats), adj_x / adj_y
// reading an operand transposed in its last two dimensions. int8, int16 (zero points 0) and
// float32, as TFLM's micro/kernels/batch_matmul.cc and reference_ops::BatchMatMul:
//
//   int8:    acc (int32) = sum_k (lhs - lhs_zero_point) * (rhs - rhs_zero_point);
//            out = clamp(MultiplyByQuantizedMultiplier(acc) + output_zero_point, -128, 127)
//   int16:   the same with a 64-bit accumulator and the 64-bit MultiplyByQuantizedMultiplier
//   float32: total = 0.f; total += lhs * rhs in k order (TFLM's order: the same bits)
//
// One multiplier for the op: GetQuantizedConvolutionMultipler, the lhs x rhs scale product in
// float, widened to double, divided by the output scale. There is no fused activation.
//
// Either operand may be a ConstantTensor (a projection matrix of an attention block): it is left
// out of `inputs`, read from flash and counted in weight_bytes. TFLM copies a non-adj_y RHS (and an
// adj_x LHS) transposed into persistent arena buffers; tinynet reads both in place with
// compile-time strides, so those buffers do not exist.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../../core/constant_tables.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/requantize.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

struct BatchMatMulOptions {
  bool adj_x = false;
  bool adj_y = false;
};

namespace detail {
// A shape's dimensions aligned at the back to rank 5 (leading ones), as TFLM's
// RuntimeShape::ExtendedShape(5, ...).
template <class ShapeT>
constexpr std::array<int, 5> extended5() {
  std::array<int, 5> d{1, 1, 1, 1, 1};
  if constexpr (ShapeT::rank <= 5)
    for (int i = 0; i < ShapeT::rank; ++i) d[static_cast<std::size_t>(5 - ShapeT::rank + i)] = ShapeT::dims[static_cast<std::size_t>(i)];
  return d;
}
}  // namespace detail

template <class Lhs, class Rhs, class Out, BatchMatMulOptions Options = BatchMatMulOptions{}>
struct BatchMatMul {
  using output = Out;
  using element = typename Out::element;
  static constexpr bool lhs_constant = ConstantTensorType<Lhs>;
  static constexpr bool rhs_constant = ConstantTensorType<Rhs>;
  using inputs = std::conditional_t<lhs_constant, TypeList<Rhs>, std::conditional_t<rhs_constant, TypeList<Lhs>, TypeList<Lhs, Rhs>>>;

  static_assert(!(lhs_constant && rhs_constant),
                "tinynet::BatchMatMul: both operands are constants; fold the op into a constant (the generator does)");
  static_assert(element_type_mismatch<BatchMatMul, element, typename Lhs::element>::ok);
  static_assert(element_type_mismatch<BatchMatMul, element, typename Rhs::element>::ok);
  static_assert(std::is_same_v<element, std::int8_t> || std::is_same_v<element, std::int16_t> || std::is_same_v<element, float>,
                "tinynet::BatchMatMul: int8, int16 or float32 (as TFLM)");
  static_assert(Lhs::shape::rank >= 2 && Lhs::shape::rank <= 5 && Rhs::shape::rank >= 2 && Rhs::shape::rank <= 5,
                "tinynet::BatchMatMul: operands of rank 2 to 5 (as TFLM)");

  static constexpr std::array<int, 5> lhs_dims = detail::extended5<typename Lhs::shape>();
  static constexpr std::array<int, 5> rhs_dims = detail::extended5<typename Rhs::shape>();
  // lhs is [.., rows, depth] ([.., depth, rows] with adj_x); rhs [.., depth, cols] ([.., cols, depth] with adj_y).
  static constexpr int rows = Options.adj_x ? lhs_dims[4] : lhs_dims[3];
  static constexpr int depth = Options.adj_x ? lhs_dims[3] : lhs_dims[4];
  static constexpr int rhs_depth = Options.adj_y ? rhs_dims[4] : rhs_dims[3];
  static constexpr int cols = Options.adj_y ? rhs_dims[3] : rhs_dims[4];
  static_assert(size_mismatch<BatchMatMul, depth, rhs_depth>::ok, "tinynet::BatchMatMul: the operands' inner dimensions differ");

  // Element (row, k) of a batch's lhs matrix and (k, col) of its rhs matrix, as flat offsets.
  static constexpr int lhs_row_stride = Options.adj_x ? 1 : depth, lhs_k_stride = Options.adj_x ? rows : 1;
  static constexpr int rhs_k_stride = Options.adj_y ? 1 : cols, rhs_col_stride = Options.adj_y ? depth : 1;

  static constexpr std::array<int, 3> batch_dims = [] {
    std::array<int, 3> d{};
    for (std::size_t i = 0; i < 3; ++i) d[i] = lhs_dims[i] == 1 ? rhs_dims[i] : lhs_dims[i];
    return d;
  }();
  static constexpr bool batches_broadcast = [] {
    for (std::size_t i = 0; i < 3; ++i)
      if (lhs_dims[i] != rhs_dims[i] && lhs_dims[i] != 1 && rhs_dims[i] != 1) return false;
    return true;
  }();
  static_assert(batches_broadcast, "tinynet::BatchMatMul: batch dimensions must be equal or 1 (broadcast)");
  static constexpr int out_rank = Lhs::shape::rank > Rhs::shape::rank ? Lhs::shape::rank : Rhs::shape::rank;
  static constexpr bool output_shape_ok = [] {
    if (Out::shape::rank != out_rank) return false;
    const std::array<int, 5> want{batch_dims[0], batch_dims[1], batch_dims[2], rows, cols};
    for (int i = 0; i < out_rank; ++i)
      if (Out::shape::dims[static_cast<std::size_t>(i)] != want[static_cast<std::size_t>(5 - out_rank + i)]) return false;
    return true;
  }();
  static_assert(output_shape_ok, "tinynet::BatchMatMul: the output shape is not the broadcast batch dimensions x rows x cols");

  static constexpr bool is_quantized = !std::is_same_v<element, float>;
  using accumulator = std::conditional_t<std::is_same_v<element, std::int16_t>, std::int64_t, std::int32_t>;
  static_assert(!std::is_same_v<element, std::int16_t> || (Lhs::zero_point == 0 && Rhs::zero_point == 0 && Out::zero_point == 0),
                "tinynet::BatchMatMul: int16 operands and output need zero point 0 (TFLM checks it)");
  static constexpr ChannelMultipliers<1> multiplier = [] {
    if constexpr (is_quantized) {
      const std::array<float, 1> rhs_scale{Rhs::scale};
      return channel_multipliers<1, 1>(Lhs::scale, rhs_scale, Out::scale, ScaleProduct::in_float);
    } else {
      return ChannelMultipliers<1>{};
    }
  }();

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs =
      std::uint64_t{1} * batch_dims[0] * batch_dims[1] * batch_dims[2] * rows * cols * depth;
  static constexpr std::size_t weight_bytes = (lhs_constant ? Lhs::bytes : 0) + (rhs_constant ? Rhs::bytes : 0);
  static constexpr auto constant_tables() {
    if constexpr (lhs_constant) return ConstantTables<Lhs::values>{};
    else if constexpr (rhs_constant) return ConstantTables<Rhs::values>{};
    else return ConstantTables<>{};
  }

  // Offset of batch (b0, b1, b2) in an operand whose extended dimensions are dims (1: repeated).
  static constexpr int batch_offset(const std::array<int, 5>& dims, int b0, int b1, int b2) {
    const int i0 = dims[0] == 1 ? 0 : b0, i1 = dims[1] == 1 ? 0 : b1, i2 = dims[2] == 1 ? 0 : b2;
    return ((i0 * dims[1] + i1) * dims[2] + i2) * dims[3] * dims[4];
  }

  static constexpr element finish(accumulator acc) {
    constexpr std::int32_t low = std::is_same_v<element, std::int8_t> ? -128 : -32768;
    constexpr std::int32_t high = std::is_same_v<element, std::int8_t> ? 127 : 32767;
    std::int32_t scaled = fixed::multiply_by_quantized_multiplier(acc, multiplier.multiplier[0], multiplier.shift[0]);
    scaled += Out::zero_point;
    return static_cast<element>(scaled < low ? low : (scaled > high ? high : scaled));
  }

  static constexpr void compute(const element* lhs, const element* rhs, element* out) {
    for (int b0 = 0; b0 < batch_dims[0]; ++b0) {
      for (int b1 = 0; b1 < batch_dims[1]; ++b1) {
        for (int b2 = 0; b2 < batch_dims[2]; ++b2) {
          const element* l = lhs + batch_offset(lhs_dims, b0, b1, b2);
          const element* r = rhs + batch_offset(rhs_dims, b0, b1, b2);
          element* o = out + ((b0 * batch_dims[1] + b1) * batch_dims[2] + b2) * rows * cols;
          for (int i = 0; i < rows; ++i) {
            for (int j = 0; j < cols; ++j) {
              const element* lr = l + i * lhs_row_stride;
              const element* rc = r + j * rhs_col_stride;
              if constexpr (is_quantized) {
                accumulator acc = 0;
                for (int k = 0; k < depth; ++k)
                  acc += static_cast<accumulator>(static_cast<accumulator>(lr[k * lhs_k_stride]) - Lhs::zero_point) *
                         static_cast<accumulator>(static_cast<accumulator>(rc[k * rhs_k_stride]) - Rhs::zero_point);
                o[i * cols + j] = finish(acc);
              } else {
                float total = 0.0f;
                for (int k = 0; k < depth; ++k) total += lr[k * lhs_k_stride] * rc[k * rhs_k_stride];
                o[i * cols + j] = total;
              }
            }
          }
        }
      }
    }
  }

  static constexpr void run(const element* lhs, const element* rhs, element* out)
    requires(!lhs_constant && !rhs_constant)
  {
    compute(lhs, rhs, out);
  }
  static constexpr void run(const element* lhs, element* out)
    requires(rhs_constant)
  {
    compute(lhs, Rhs::data, out);
  }
  static constexpr void run(const element* rhs, element* out)
    requires(lhs_constant)
  {
    compute(Lhs::data, rhs, out);
  }
};

}  // namespace tinynet
