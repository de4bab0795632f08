// expect: op_has_macs
// expect: T::macs
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant q{1.0f, 0};
struct a : tinynet::Tensor<std::int8_t, tinynet::Shape<4>, q> {};
struct b : tinynet::Tensor<std::int8_t, tinynet::Shape<4>, q> {};
// A hand-written op that follows the op protocol (core/op.hpp) except for `macs`.
struct Negate {
  using inputs = tinynet::TypeList<a>;
  using output = b;
  static constexpr bool in_place = true;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr void run(const std::int8_t* in, std::int8_t* out) {
    for (int i = 0; i < 4; ++i) out[i] = static_cast<std::int8_t>(-in[i]);
  }
};
using net = tinynet::Network<tinynet::Inputs<a>, tinynet::Outputs<b>, Negate>;
int main() { return static_cast<int>(net::arena_bytes); }
