// expect: tinynet::ResizeBilinear: Rows/Cols must hold {lower, upper} input indices per output row/column
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant q{0.1f, 0};
struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 1, 2, 1>, q> {};
struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 1, 3, 1>, q> {};
inline constexpr std::int32_t rows[] = {0, 0};
inline constexpr std::int32_t row_fractions[] = {0};
inline constexpr std::int32_t cols[] = {0, 0, 0, 1, 1, 2};  // column 2 is outside the input
inline constexpr std::int32_t col_fractions[] = {0, 512, 512};
using resize = tinynet::ResizeBilinear<in, out, rows, row_fractions, cols, col_fractions>;
int main() { return resize::in_place ? 1 : 0; }
