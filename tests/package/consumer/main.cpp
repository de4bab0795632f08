#include <tinynet/tinynet.hpp>

inline constexpr float w[] = {2.0f, -1.0f};
inline constexpr float b[] = {0.5f};
using Net = tinynet::Sequential<tinynet::seq::Input<float, tinynet::Shape<1, 2>>, tinynet::seq::Dense<w, b>>;

int main() {
  static tinynet::Instance<Net> net;
  net.input()[0] = 3.0f;
  net.input()[1] = 1.0f;
  net.invoke();
  return net.output()[0] == 5.5f ? 0 : 1;  // 6 - 1 + 0.5
}
