// hello_world: the sine model trained by train_sine.py, converted at build time by
// `scripts/tinynet convert` into sine_model.hpp, run on the host.
#include <cmath>
#include <cstdio>

#include <tinynet/tinynet.hpp>

#include "sine_model.hpp"

using net = sine::network;
static_assert(net::arena_bytes <= 1024, "a RAM budget check: the arena is a compile-time constant");

static tinynet::Instance<net> instance;  // the arena, in .bss: no constructor runs

// real -> int8 with the input tensor's quantization, and back with the output's.
static float predict(float x) {
  using in = net::input_t<0>;
  using out = net::output_t<0>;
  const long q = std::lround(x / in::scale) + in::zero_point;
  instance.input()[0] = static_cast<std::int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
  instance.invoke();
  return static_cast<float>(instance.output()[0] - out::zero_point) * out::scale;
}

int main() {
  std::printf("    x     sin(x)   tinynet int8\n");
  float max_error = 0.0f;
  for (int i = 0; i <= 64; ++i) {
    const float x = 6.2831853f * static_cast<float>(i) / 64.0f;
    const float y = predict(x);
    max_error = std::fmax(max_error, std::fabs(y - std::sin(x)));
    if (i % 8 == 0) std::printf("%6.3f  %7.4f  %7.4f\n", static_cast<double>(x), static_cast<double>(std::sin(x)), static_cast<double>(y));
  }
  std::printf("max |error| over 65 points: %.4f\n", static_cast<double>(max_error));
  std::printf("arena %zu bytes, constants %zu bytes, %llu MACs per inference\n", net::arena_bytes, net::weight_bytes,
              static_cast<unsigned long long>(net::macs));
  // The float model is within 0.03 of sin(x); 8-bit activations add about 0.2 at worst here.
  return max_error < 0.25f ? 0 : 1;
}
