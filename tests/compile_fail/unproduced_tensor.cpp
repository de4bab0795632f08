// expect: reads a tensor that is neither a network input nor the output of an earlier op
// expect: op_reads_unproduced_tensor
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant q{1.0f, 0};
struct a : tinynet::Tensor<std::int8_t, tinynet::Shape<4>, q> {};
struct b : tinynet::Tensor<std::int8_t, tinynet::Shape<4>, q> {};
struct c : tinynet::Tensor<std::int8_t, tinynet::Shape<4>, q> {};
struct d : tinynet::Tensor<std::int8_t, tinynet::Shape<4>, q> {};
// Ops listed out of order: the Add reads c before the Quantize that writes it.
using net = tinynet::Network<tinynet::Inputs<a, b>, tinynet::Outputs<d>,
                             tinynet::Add<a, c, d>, tinynet::Quantize<b, c>>;
int main() { return static_cast<int>(net::arena_bytes); }
