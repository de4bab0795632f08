// expect: tinynet: SharedArena: two networks declared Together<...> overlap
// expect: networks_declared_together_overlap<0, 16, 0, 16>
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant q{1.0f, 0};
struct x : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
struct y : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
struct u : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
struct v : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
using first = tinynet::Network<tinynet::Inputs<x>, tinynet::Outputs<y>, tinynet::Relu<x, y>>;
using second = tinynet::Network<tinynet::Inputs<u>, tinynet::Outputs<v>, tinynet::Relu<u, v>>;
static_assert(first::arena_bytes == 16 && second::arena_bytes == 16);
// Both must stay alive, and both were placed at byte 0.
static tinynet::SharedArena<tinynet::Together<tinynet::At<first, 0>, tinynet::At<second, 0>>> memory;
int main() { return static_cast<int>(sizeof(memory)); }
