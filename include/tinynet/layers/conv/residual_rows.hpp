// A residual block run row by row: conv1 -> conv2 -> ADD(x, y2), fused (issue 14, RAM).
//
// Layer by layer, a residual block holds its input x (read again by the ADD) and conv1's whole
// output y1 at once: resnet's first block, 2 x 16,384 bytes, the floor of its arena under
// layer-by-layer execution (docs/performance.md). Run fused, conv1's output rows go into a ring of
// rows on the stack, conv2 computes its output row r once the y1 rows its window reads are there
// (Conv2D::run_row_from reads them through RowRing), and the ADD writes row r of the sum over row
// r of x at once: by then every y1 row that reads x row r has been computed. The block then needs
// x's bytes and, on the stack, the ring and one row of y2.
//
// The arena planner (graph/network.hpp) recognises the pattern (ResidualRows::applies: the types;
// its own checks: y1 and y2 read by nothing else, x dying at the ADD) and keeps the fusion only
// where the arena shrinks; invoke() then runs ResidualRows::run in conv1's place and skips conv2
// and the ADD. scripts/tinynet_py/analysis.py mirrors the rule (_residual_fusable).
#pragma once

#include <cstddef>
#include <type_traits>

#include "../../core/type_list.hpp"

namespace tinynet::detail {

// Rows y of an image held in a ring of RingRows rows of RowElements elements each.
template <class E, int RowElements, int RingRows>
struct RowRing {
  E* rows;
  constexpr E* row(int y) const { return rows + (y % RingRows) * RowElements; }
};

template <class Op>
concept RowConv = requires { requires Op::streams_rows; };  // layers/conv/conv2d.hpp
template <class Op>
concept RowAdd = requires { requires Op::adds_rows; };  // layers/elementwise/arithmetic.hpp

// Any three ops: not a residual block.
template <class Conv1, class Conv2, class Add>
struct ResidualRows {
  static constexpr bool applies = false;
};

template <RowConv Conv1, RowConv Conv2, RowAdd Add>
struct ResidualRows<Conv1, Conv2, Add> {
  using x = typename Conv1::input;
  using y1 = typename Conv1::output;
  using y2 = typename Conv2::output;
  using sum = typename Add::output;
  using element = typename x::element;
  using add_inputs = typename Add::inputs;  // two runtime operands (adds_rows)
  static constexpr bool x_first = std::is_same_v<type_at<0, add_inputs>, x>;
  static constexpr bool wired =
      std::is_same_v<typename Conv2::input, y1> && !std::is_same_v<x, y1> && !std::is_same_v<x, y2> &&
      ((x_first && std::is_same_v<type_at<1, add_inputs>, y2>) ||
       (std::is_same_v<type_at<0, add_inputs>, y2> && std::is_same_v<type_at<1, add_inputs>, x>));
  // The sum goes over x row for row: the same shape (the ADD broadcasts nothing) and element.
  static constexpr bool shaped = std::is_same_v<typename x::shape, typename y2::shape> &&
                                 std::is_same_v<typename x::shape, typename sum::shape> &&
                                 std::is_same_v<element, typename sum::element> && y1::bytes <= x::bytes;

  static constexpr int rows = Conv2::out_h;  // of y2, x and the sum
  static constexpr int h1 = Conv1::out_h;
  static constexpr int row1 = Conv1::out_w * Conv1::out_c, row2 = Conv2::out_w * Conv2::out_c;
  // The y1 rows conv2's output row r reads (its window clipped to the image).
  static constexpr int first_y1(int r) {
    const int f = r * Conv2::s_h - Conv2::pad_h;
    return f > 0 ? f : 0;
  }
  static constexpr int last_y1(int r) {
    const int l = r * Conv2::s_h - Conv2::pad_h + (Conv2::k_h - 1) * Conv2::d_h;
    return l < h1 - 1 ? l : h1 - 1;
  }
  // The last y1 row whose window reads x row i.
  static constexpr int last_reader(int i) {
    const int j = (i + Conv1::pad_h) / Conv1::s_h;
    return j < h1 - 1 ? j : h1 - 1;
  }
  static constexpr int ring_rows = (Conv2::k_h - 1) * Conv2::d_h + 1;
  // Row r of the sum may go over x row r once y2 row r is computed: y1 rows up to last_y1(r) are
  // then computed, and no later one may read x row r. (3x3 stride 1 both: y1 row r + 1 reads x
  // rows r .. r + 2, and y2 row r needs y1 rows up to r + 1.)
  static constexpr bool ordered = [] {
    if constexpr (!shaped) {
      return false;
    } else {
      for (int r = 0; r < rows; ++r) {
        if (last_reader(r) > last_y1(r) || last_y1(r) - first_y1(r) + 1 > ring_rows) return false;
        if (r > 0 && (last_y1(r) < last_y1(r - 1) || first_y1(r) < first_y1(r - 1))) return false;
      }
      return true;
    }
  }();
  // The stack it takes: the ring of y1 rows and one row of y2.
  static constexpr std::size_t stack_bytes = (static_cast<std::size_t>(ring_rows) * row1 + row2) * sizeof(element);
  static constexpr bool applies = wired && shaped && ordered && stack_bytes <= 4096;

  // x in, the sum out, over the same bytes.
  static void run(element* xs)
    requires applies
  {
    alignas(4) element ring[ring_rows * row1];
    alignas(4) element y2_row[row2];
    int done = 0;  // y1 rows computed
    for (int r = 0; r < rows; ++r) {
      for (const int last = last_y1(r); done <= last; ++done)
        Conv1::template run_int8<Conv1::out_w>(xs, ring + (done % ring_rows) * row1, done * Conv1::out_w);
      Conv2::run_row_from(RowRing<const element, row1, ring_rows>{ring}, y2_row, r);
      element* s = xs + r * row2;
      if constexpr (x_first) Add::run_span(s, y2_row, s, row2);
      else Add::run_span(y2_row, s, s, row2);
    }
  }
};

}  // namespace tinynet::detail
