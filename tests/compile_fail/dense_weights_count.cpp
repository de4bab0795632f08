// expect: this Dense layer's weights do not hold units x inputs values
// expect: expected_values<8>
// expect: units<4>
// expect: inputs<2>
// expect: got_values<7>
// forbid: size_mismatch<tinynet::FullyConnected
// forbid: Shape<2, 4>
// forbid: input_shape_mismatch
// The README's 2-4-1 network with one value of w1 deleted (7 values for 4 units x 2 inputs): one
// error with the three counts, no follow-on errors from the layers or the network, no invented batch.
#include <tinynet/tinynet.hpp>
inline constexpr float w1[] = {0.5f, -1.0f, 1.0f, 1.0f, -0.5f, 0.25f, 2.0f};
inline constexpr float b1[] = {0.0f, 0.5f, 1.0f, -1.0f};
inline constexpr float w2[] = {1.0f, -1.0f, 0.5f, 0.25f};
inline constexpr float b2[] = {0.5f};
using Net = tinynet::Sequential<tinynet::seq::Input<float, tinynet::Shape<1, 2>>,
                                tinynet::seq::Dense<w1, b1, tinynet::Activation::relu>,
                                tinynet::seq::Dense<w2, b2>>;
static_assert(Net::arena_bytes <= 64, "fits the RAM budget");
float first_output() { return Net::evaluate({2.0f, 1.0f})[0]; }
