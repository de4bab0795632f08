// expect: tinynet: SharedArena: a network is listed twice
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant q{1.0f, 0};
struct x : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
struct y : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
using first = tinynet::Network<tinynet::Inputs<x>, tinynet::Outputs<y>, tinynet::Relu<x, y>>;
static tinynet::SharedArena<tinynet::Together<first>, first> memory;
int main() {
  auto view = memory.instance<first>();
  view.invoke();
}
