// expect: the input tensor's shape does not fit this layer
// expect: Shape<1, 3>
// expect: Shape<1, 2>
// expect: FullyConnected
#include <tinynet/tinynet.hpp>
inline constexpr float w1[] = {1, 2, 3, 4, 5, 6};  // 2 units x 3 inputs
inline constexpr float b1[] = {0, 0};
using net = tinynet::Sequential<tinynet::seq::Input<float, tinynet::Shape<1, 2>>, tinynet::seq::Dense<w1, b1>>;
int main() { return static_cast<int>(net::arena_bytes); }
