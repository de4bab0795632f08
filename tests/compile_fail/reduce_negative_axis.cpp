// expect: reduction_axes_are_0_to_7_counted_from_the_front
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant q{0.1f, 0};
struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 3>, q> {};
struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<2, 1>, q> {};
// TFLite's axis -1; the C++ op wants 1.
using sum = tinynet::Sum<in, out, tinynet::axes(-1)>;
using net = tinynet::Network<tinynet::Inputs<in>, tinynet::Outputs<out>, sum>;
int main() { return static_cast<int>(net::arena_bytes); }
