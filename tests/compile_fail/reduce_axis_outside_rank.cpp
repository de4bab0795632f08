// expect: a reduction axis is outside the input's rank
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant q{0.1f, 0};
struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 3>, q> {};
struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 3>, q> {};
using reduce = tinynet::Sum<in, out, tinynet::axes(2)>;
int main() { return reduce::in_place ? 1 : 0; }
