// expect: the output tensor's shape is not the shape this layer computes
// expect: Shape<1, 4, 4, 8>
// expect: Shape<1, 5, 5, 8>
// expect: Conv2D
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant q{1.0f, 0};
struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8, 8, 3>, q> {};
struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 5, 5, 8>, q> {};  // stride 2 SAME gives 4x4
inline constexpr std::int8_t w[8 * 3 * 3 * 3] = {};
inline constexpr std::int32_t b[8] = {};
inline constexpr float s[] = {1.0f};
using conv = tinynet::Conv2D<in, out, w, b, s,
    tinynet::Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, .padding = tinynet::Padding::same}>;
int main() { return conv::out_h; }
