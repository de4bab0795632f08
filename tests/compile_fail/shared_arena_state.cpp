// expect: tinynet: SharedArena: the arena of another network
// expect: state_overwritten_by_another_network<
#include <tinynet/tinynet.hpp>
inline constexpr tinynet::Quant q{1.0f, 0};
struct x : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
struct s : tinynet::StateTensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
struct y : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 8>, q> {};
struct u : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 64>, q> {};
struct v : tinynet::Tensor<std::int8_t, tinynet::Shape<1, 64>, q> {};
// An op keeping state: y = s; s = x.
struct Delay {
  using inputs = tinynet::TypeList<x, s>;
  using output = y;
  static constexpr bool in_place = false;
  static constexpr std::uint64_t macs = 0;
  static constexpr std::size_t weight_bytes = 0;
  static constexpr void run(const std::int8_t* in, std::int8_t* state, std::int8_t* out) {
    for (int i = 0; i < 8; ++i) {
      out[i] = state[i];
      state[i] = in[i];
    }
  }
};
using stateful = tinynet::Network<tinynet::Inputs<x>, tinynet::Outputs<y>, Delay>;
using other = tinynet::Network<tinynet::Inputs<u>, tinynet::Outputs<v>, tinynet::Relu<u, v>>;
// Listed apart, both start at byte 0: other's arena covers the delay line.
static tinynet::SharedArena<stateful, other> memory;
int main() { return static_cast<int>(sizeof(memory)); }
