// Sum and ReduceMax over any set of axes (TFLite SUM and REDUCE_MAX, keep_dims or not: the output
// holds one element per combination of the kept axes, in row-major order, whatever its rank).
// Mean (mean.hpp) is built on the same layout and requantization.
//
// The axes are a bit mask, written tinynet::axes(1, 2). Each output reduces its elements in input
// order, as TFLM's ReduceGeneric does (it matters for the float sum).
//
// Sum: float32 adds in float from 0. int8/int16 follow QuantizedMeanOrSum with compute_sum
// (internal/reference/reduce.h): the int32 sum minus input_zero_point * count, requantized by
// QuantizeMultiplier(double(input_scale) / double(output_scale)), plus the output zero point,
// clamped.
// ReduceMax: float32 and int8 (TFLM has no int16 kernel); starts at the type's lowest value and
// takes (x > current) ? x : current, so a NaN never wins. int8 needs the output quantization equal
// to the input's (the maximum is copied).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "../../core/diagnostics.hpp"
#include "../../core/fixed_point.hpp"
#include "../../core/quantize_multiplier.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"

namespace tinynet {

namespace reduce_detail {
// Not constexpr on purpose: reached only for an axis outside 0..7, it makes axes() fail to compile
// with this name in the error.
inline unsigned reduction_axes_are_0_to_7_counted_from_the_front(int axis) { return static_cast<unsigned>(axis); }
}  // namespace reduce_detail

// The axes of a reduction as a bit mask: axes(1, 2) == 0b110. Axes count from the front (the
// generator turns TFLite's negative axes into these); anything outside 0..7 does not compile.
template <class... Axis>
constexpr unsigned axes(Axis... axis) {
  unsigned mask = 0u;
  (
      [&] {
        const int a = static_cast<int>(axis);
        mask |= a < 0 || a > 7 ? reduce_detail::reduction_axes_are_0_to_7_counted_from_the_front(a)
                               : 1u << static_cast<unsigned>(a);
      }(),
      ...);
  return mask;
}

namespace reduce_detail {

// Row-major strides of the input split into the kept axes and the reduced ones.
template <class InShape, unsigned Axes>
struct Layout {
  static constexpr int rank = InShape::rank;
  static_assert(rank <= 8 && (Axes >> rank) == 0u, "tinynet: a reduction axis is outside the input's rank");
  struct Axis {
    int dim = 1, stride = 0;
  };
  struct Split {
    std::array<Axis, 8> kept{}, reduced{};
    int kept_count = 0, reduced_count = 0, outputs = 1, count = 1;
  };
  static constexpr Split split = [] {
    Split s;
    int stride = 1;
    std::array<int, 8> strides{};
    for (int a = rank - 1; a >= 0; --a) {
      strides[static_cast<std::size_t>(a)] = stride;
      stride *= InShape::dim(a);
    }
    for (int a = 0; a < rank; ++a) {
      const Axis axis{InShape::dim(a), strides[static_cast<std::size_t>(a)]};
      if ((Axes >> a) & 1u) {
        s.reduced[static_cast<std::size_t>(s.reduced_count++)] = axis;
        s.count *= axis.dim;
      } else {
        s.kept[static_cast<std::size_t>(s.kept_count++)] = axis;
        s.outputs *= axis.dim;
      }
    }
    return s;
  }();
  static constexpr int outputs = split.outputs, count = split.count;

  // The input offset of row-major index `index` over the given axes.
  static constexpr int offset(const std::array<Axis, 8>& over, int axis_count, int index) {
    int result = 0;
    for (int a = axis_count - 1; a >= 0; --a) {
      const Axis& axis = over[static_cast<std::size_t>(a)];
      result += (index % axis.dim) * axis.stride;
      index /= axis.dim;
    }
    return result;
  }
  static constexpr int kept_offset(int o) { return offset(split.kept, split.kept_count, o); }
  static constexpr int reduced_offset(int r) { return offset(split.reduced, split.reduced_count, r); }
};

template <class Kernel, class In, class Out, unsigned Axes>
struct Reduction {
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  using layout = Layout<typename In::shape, Axes>;
  static_assert(output_shape_mismatch<Kernel, typename In::shape, typename Out::shape, Out::size == layout::outputs>::ok);
  static_assert(element_type_mismatch<Kernel, element, typename Out::element>::ok);

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
};

// QuantizedMeanOrSum's last step (internal/reference/reduce.h): the int32 sum (wrapping, as
// TFLM's temp_sum) minus input_zero_point * count, requantized, plus the output zero point,
// clamped. Mean's multiplier has 1 / count folded in; Sum's has not.
template <class Element>
constexpr Element requantize_sum(std::uint32_t total, std::int32_t input_zero_point, int count,
                                 QuantizedMultiplier m, std::int32_t output_zero_point) {
  total -= static_cast<std::uint32_t>(input_zero_point) * static_cast<std::uint32_t>(count);
  std::int32_t value = fixed::multiply_by_quantized_multiplier(static_cast<std::int32_t>(total), m.multiplier, m.shift);
  value += output_zero_point;
  constexpr std::int32_t lo = std::numeric_limits<Element>::min(), hi = std::numeric_limits<Element>::max();
  return static_cast<Element>(value < lo ? lo : (value > hi ? hi : value));
}

// The raw sum of one output's elements, in input order (int32 wrapping for integers).
template <class Layout, class Element>
constexpr auto raw_sum(const Element* first) {
  if constexpr (std::is_floating_point_v<Element>) {
    float total = 0.0f;
    for (int r = 0; r < Layout::count; ++r) total = first[Layout::reduced_offset(r)] + total;
    return total;
  } else {
    std::uint32_t total = 0;
    for (int r = 0; r < Layout::count; ++r)
      total += static_cast<std::uint32_t>(std::int32_t{first[Layout::reduced_offset(r)]});
    return total;
  }
}

}  // namespace reduce_detail

template <class In, class Out, unsigned Axes>
struct Sum : reduce_detail::Reduction<Sum<In, Out, Axes>, In, Out, Axes> {
  using base = reduce_detail::Reduction<Sum<In, Out, Axes>, In, Out, Axes>;
  using element = typename In::element;
  using layout = typename base::layout;
  static_assert(In::is_float || std::is_same_v<element, std::int8_t> || std::is_same_v<element, std::int16_t>,
                "tinynet: Sum supports float, int8 and int16");
  static constexpr QuantizedMultiplier multiplier =
      In::is_float ? QuantizedMultiplier{}
                   : quantize_multiplier(static_cast<double>(In::scale) / static_cast<double>(Out::scale));

  static constexpr void run(const element* in, element* out) {
    for (int o = 0; o < layout::outputs; ++o) {
      const auto total = reduce_detail::raw_sum<layout>(in + layout::kept_offset(o));
      if constexpr (In::is_float)
        out[o] = total;
      else
        out[o] = reduce_detail::requantize_sum<element>(total, In::zero_point, layout::count, multiplier, Out::zero_point);
    }
  }
};

template <class In, class Out, unsigned Axes>
struct ReduceMax : reduce_detail::Reduction<ReduceMax<In, Out, Axes>, In, Out, Axes> {
  using base = reduce_detail::Reduction<ReduceMax<In, Out, Axes>, In, Out, Axes>;
  using element = typename In::element;
  using layout = typename base::layout;
  static_assert(In::is_float || std::is_same_v<element, std::int8_t>,
                "tinynet: ReduceMax supports float and int8 (TFLM has no int16 kernel)");
  static_assert(In::is_float || (In::scale == Out::scale && In::zero_point == Out::zero_point),
                "tinynet: int8 ReduceMax needs the output quantization equal to the input's (as TFLM)");

  static constexpr void run(const element* in, element* out) {
    for (int o = 0; o < layout::outputs; ++o) {
      const element* first = in + layout::kept_offset(o);
      element best = std::numeric_limits<element>::lowest();
      for (int r = 0; r < layout::count; ++r) {
        const element x = first[layout::reduced_offset(r)];
        best = x > best ? x : best;
      }
      out[o] = best;
    }
  }
};

}  // namespace tinynet
