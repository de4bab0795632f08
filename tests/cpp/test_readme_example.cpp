// The hand-written network shown in README.md, kept here so that it always compiles and runs.
#include <doctest/doctest.h>

// ---- README example begins ----
#include <tinynet/tinynet.hpp>

// A 2-4-1 MLP. Weights are [units][inputs]; everything lives in flash as constexpr data.
inline constexpr float w1[] = {0.5f, -1.0f, 1.0f, 1.0f, -0.5f, 0.25f, 2.0f, 0.0f};
inline constexpr float b1[] = {0.0f, 0.5f, 1.0f, -1.0f};
inline constexpr float w2[] = {1.0f, -1.0f, 0.5f, 0.25f};
inline constexpr float b2[] = {0.5f};

using Net = tinynet::Sequential<tinynet::seq::Input<float, tinynet::Shape<1, 2>>,
                                tinynet::seq::Dense<w1, b1, tinynet::Activation::relu>,
                                tinynet::seq::Dense<w2, b2>>;

static_assert(Net::arena_bytes <= 64, "fits the RAM budget");          // planned at compile time
static_assert(Net::evaluate({2.0f, 1.0f})[0] == -2.125f);  // inference run by the compiler

float predict(float a, float b) {
  static tinynet::Instance<Net> net;  // its arena is zero-initialised .bss: no constructor runs
  net.input()[0] = a;
  net.input()[1] = b;
  net.invoke();
  return net.output()[0];
}
// ---- README example ends ----

TEST_CASE("the README's hand-written network runs") {
  // hidden = relu({1 - 1, 2 + 1 + 0.5, -1 + 0.25 + 1, 4 - 1}) = {0, 3.5, 0.25, 3}; out = -3.5 + 0.125 + 0.75 + 0.5
  CHECK(predict(2.0f, 1.0f) == -2.125f);
  // hidden = relu({-0.5, -0.5, 1.5, -3}) = {0, 0, 1.5, 0}; out = 0.5 * 1.5 + 0.5
  CHECK(predict(-1.0f, 0.0f) == 1.25f);
}
