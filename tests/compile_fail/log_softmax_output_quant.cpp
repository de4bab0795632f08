// expect: an int8 output has scale 16/256 and zero point 127 (TFLM requires it)
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant qin{0.1f, 0};
inline constexpr tinynet::Quant qout{1.0f / 256, -128};
struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 3>, qin> {};
struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 3>, qout> {};
using log_softmax = tinynet::LogSoftmax<in, out>;
int main() { return log_softmax::in_place ? 1 : 0; }
