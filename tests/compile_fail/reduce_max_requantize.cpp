// expect: int8 ReduceMax needs the output quantization equal to the input's
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant qin{0.1f, 0};
inline constexpr tinynet::Quant qout{0.2f, 0};
struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 3>, qin> {};
struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<2>, qout> {};
using reduce = tinynet::ReduceMax<in, out, tinynet::axes(1)>;
int main() { return reduce::in_place ? 1 : 0; }
