// expect: Net is not one of the networks this SharedArena was declared with
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant q{1.0f, 0};
struct x : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
struct y : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
struct u : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
struct v : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
using first = tinynet::Network<tinynet::Inputs<x>, tinynet::Outputs<y>, tinynet::Relu<x, y>>;
using second = tinynet::Network<tinynet::Inputs<u>, tinynet::Outputs<v>, tinynet::Relu<u, v>>;
static tinynet::SharedArena<first> memory;
int main() {
  auto view = memory.instance<second>();  // second was never declared
  view.invoke();
}
