// expect: the input tensor's shape does not fit this layer
// expect: Shape<1, 3>
// expect: Shape<1, 2>
// expect: FullyConnected
// A FullyConnected op written by hand whose weights (2 units x 3 inputs) do not fit its input.
#include <tinynet/tinynet.hpp>
inline constexpr float w1[] = {1, 2, 3, 4, 5, 6};  // 2 units x 3 inputs
inline constexpr float b1[] = {0, 0};
struct x : tinynet::Tensor<float, tinynet::Shape<1, 2>> {};
struct y : tinynet::Tensor<float, tinynet::Shape<1, 2>> {};
using net = tinynet::Network<tinynet::Inputs<x>, tinynet::Outputs<y>, tinynet::FullyConnected<x, y, w1, b1, tinynet::no_scales>>;
int main() { return static_cast<int>(net::arena_bytes); }
