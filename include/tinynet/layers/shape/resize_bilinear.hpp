// ResizeBilinear of an NHWC tensor (TFLM's resize_bilinear.cc): int8 through
// reference_ops::ResizeBilinearInteger, float through reference_ops::ResizeBilinear.
//
// The generator resolves align_corners and half_pixel_centers per output row and column (TFLM's
// ComputeInterpolationValues[Integer]): Rows holds {lower, upper} input rows per output row,
// RowFractions how far past the lower row the sample lies (int8: in 1/1024, as an int32; float:
// TFLM's float input_y - y0); Cols and ColFractions the same for columns. The output's
// quantization is never read: int8 values are interpolated as raw integers, as TFLM does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <type_traits>

#include "../../core/constant_tables.hpp"
#include "../../core/type_list.hpp"
#include "resize_geometry.hpp"

namespace tinynet {

template <class In, class Out, const auto& Rows, const auto& RowFractions, const auto& Cols,
          const auto& ColFractions>
struct ResizeBilinear
    : detail::ResizeGeometry<ResizeBilinear<In, Out, Rows, RowFractions, Cols, ColFractions>, In, Out> {
  using geometry = detail::ResizeGeometry<ResizeBilinear, In, Out>;
  using inputs = TypeList<In>;
  using output = Out;
  using element = typename In::element;
  using geometry::batches, geometry::in_h, geometry::in_w, geometry::channels, geometry::out_h, geometry::out_w;
  static constexpr bool integer = std::is_same_v<element, std::int8_t>;
  static_assert(integer || std::is_same_v<element, float>,
                "tinynet::ResizeBilinear: int8 or float tensors (TFLM has no other type)");
  using fraction = std::conditional_t<integer, std::int32_t, float>;
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(RowFractions[0])>, fraction> &&
                    std::is_same_v<std::remove_cvref_t<decltype(ColFractions[0])>, fraction>,
                "tinynet::ResizeBilinear: fractions are int32 (in 1/1024) for int8, float for float");

  // TFLM's integer fractions lie in [-512, 1024) (negative only with half_pixel_centers, where the
  // lower and upper index are both 0); that bounds the sum of the four products by
  // 128 * (1536 + 512)^2 = 2^29, so int32 holds exactly what TFLM's int64 does.
  template <const auto& Fractions>
  static constexpr bool fractions_fit(int outputs) {
    if (static_cast<int>(std::size(Fractions)) != outputs) return false;
    if constexpr (integer)
      for (int i = 0; i < outputs; ++i)
        if (Fractions[i] < -512 || Fractions[i] >= 1024) return false;
    return true;
  }
  static_assert(geometry::template indices_fit<Rows>(out_h, 2, in_h) &&
                    geometry::template indices_fit<Cols>(out_w, 2, in_w) && fractions_fit<RowFractions>(out_h) &&
                    fractions_fit<ColFractions>(out_w),
                "tinynet::ResizeBilinear: Rows/Cols must hold {lower, upper} input indices per output row/column, "
                "RowFractions/ColFractions one fraction each");

  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes =
      sizeof(Rows) + sizeof(RowFractions) + sizeof(Cols) + sizeof(ColFractions);  // in flash, read by run()
  static constexpr auto constant_tables() { return ConstantTables<Rows, RowFractions, Cols, ColFractions>{}; }

  static constexpr void run(const element* in, element* out) {
    for (int b = 0; b < batches; ++b)
      for (int y = 0; y < out_h; ++y) {
        const element* row0 = in + (b * in_h + Rows[2 * y]) * in_w * channels;
        const element* row1 = in + (b * in_h + Rows[2 * y + 1]) * in_w * channels;
        const fraction dy = RowFractions[y];
        for (int x = 0; x < out_w; ++x) {
          const element* p00 = row0 + Cols[2 * x] * channels;
          const element* p01 = row0 + Cols[2 * x + 1] * channels;
          const element* p10 = row1 + Cols[2 * x] * channels;
          const element* p11 = row1 + Cols[2 * x + 1] * channels;
          const fraction dx = ColFractions[x];
          if constexpr (integer) {
            const std::int32_t w00 = (1024 - dy) * (1024 - dx), w10 = dy * (1024 - dx);
            const std::int32_t w01 = (1024 - dy) * dx, w11 = dy * dx;
            for (int c = 0; c < channels; ++c) {
              const std::int32_t sum = p00[c] * w00 + p10[c] * w10 + p01[c] * w01 + p11[c] * w11;
              // Rounded half away from zero (TFLM's default, not TFLITE_SINGLE_ROUNDING).
              *out++ = static_cast<element>((sum + (sum > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));
            }
          } else {
            // TFLM's float expression, term by term in its order, plus its rounding_offset 0.0f
            // (which turns -0.0f into +0.0f).
            const float ry = 1.0f - dy, rx = 1.0f - dx;
            for (int c = 0; c < channels; ++c)
              *out++ = p00[c] * ry * rx + p10[c] * dy * rx + p01[c] * ry * dx + p11[c] * dy * dx + 0.0f;
          }
        }
      }
  }
};

}  // namespace tinynet
