// The wiring shared by every element-wise op of two operands (Add, Sub, Mul, Maximum, Minimum,
// SquaredDifference, Prelu, Div): broadcasting of both operands to the output shape, the shape
// checks, and constant operands.
//
// Either operand may be a ConstantTensor (a MUL factor, a PRELU alpha, a DIV divisor): it is left
// out of `inputs` and read from flash, so run() takes only the other operand. The op supplies
//   static constexpr element apply(element1 x1, element2 x2)   (one output element), or its own
//   static constexpr void run_elements(const element1*, const element2*, element*)  (all of them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../../core/constant_tables.hpp"
#include "../../core/diagnostics.hpp"
#include "../../core/tensor.hpp"
#include "../../core/type_list.hpp"
#include "broadcast.hpp"

namespace tinynet::detail {

template <class Layer, class In1, class In2>
struct both_operands_constant {
  static constexpr bool ok = !(ConstantTensorType<In1> && ConstantTensorType<In2>);
  static_assert(ok,
                "tinynet: both operands of this element-wise op are constants; fold the op into a "
                "constant (the generator does) (see both_operands_constant<Layer, In1, In2> below)");
};

template <class Layer, class Impl, class In1, class In2, class Out>
struct Binary {
  using output = Out;
  using operand1 = In1;  // either may be a ConstantTensor (listed in constant_tables())
  using operand2 = In2;
  using element = typename Out::element;
  using element1 = typename In1::element;
  using element2 = typename In2::element;
  using index1 = BroadcastIndex<typename In1::shape, typename Out::shape>;
  using index2 = BroadcastIndex<typename In2::shape, typename Out::shape>;
  static constexpr bool constant1 = ConstantTensorType<In1>;
  static constexpr bool constant2 = ConstantTensorType<In2>;

  static_assert(input_shape_mismatch<Layer, typename Out::shape, typename In1::shape, index1::compatible>::ok);
  static_assert(input_shape_mismatch<Layer, typename Out::shape, typename In2::shape, index2::compatible>::ok);
  static_assert(both_operands_constant<Layer, In1, In2>::ok);

  using inputs = std::conditional_t<constant1, TypeList<In2>, std::conditional_t<constant2, TypeList<In1>, TypeList<In1, In2>>>;

  // The output may overwrite the first runtime operand when that one is not broadcast: element i
  // of the output is written after element i of that operand is read, and never read again.
  static constexpr bool in_place =
      constant1 ? index2::identity && sizeof(element2) == sizeof(element)
                : index1::identity && sizeof(element1) == sizeof(element);
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = (constant1 ? In1::bytes : 0) + (constant2 ? In2::bytes : 0);

  // The constant operands' arrays in flash (core/checksum.hpp walks them).
  static constexpr auto operand_tables() {
    if constexpr (constant1) return ConstantTables<In1::values>{};
    else if constexpr (constant2) return ConstantTables<In2::values>{};
    else return ConstantTables<>{};
  }
  static constexpr auto constant_tables() { return operand_tables(); }

  static constexpr void run(const element1* a, const element2* b, element* out)
    requires(!constant1 && !constant2)
  {
    Impl::run_elements(a, b, out);
  }
  static constexpr void run(const element1* a, element* out)
    requires(constant2)
  {
    Impl::run_elements(a, In2::data, out);
  }
  static constexpr void run(const element2* b, element* out)
    requires(constant1)
  {
    Impl::run_elements(In1::data, b, out);
  }

  // Output elements First .. size - 1, one at a time.
  template <int First = 0>
  static constexpr void run_elements(const element1* a, const element2* b, element* out) {
    for (int i = First; i < Out::size; ++i) out[i] = Impl::apply(a[index1::map(i)], b[index2::map(i)]);
  }
};

}  // namespace tinynet::detail
