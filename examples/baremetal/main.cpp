// The sine network on a bare-metal Cortex-M: predictions over semihosting, instructions per
// inference from the QEMU icount timer, exit status 0 when every prediction is close to sin(x).
#include <cmath>
#include <cstdint>

#include <tinynet/tinynet.hpp>

#include "cycles.hpp"
#include "semihost.hpp"
#include "sine_model.hpp"

using net = sine::network;
static_assert(net::arena_bytes <= 256, "RAM budget: the arena is planned at compile time");
static tinynet::Instance<net> instance;

extern "C" int app_main() {
  using in = net::input_t<0>;
  using out = net::output_t<0>;
  int bad = 0;
  std::uint64_t instructions = 0;
  char text[24];
  for (int i = 0; i < 16; ++i) {
    const float x = 6.2831853f * static_cast<float>(i) / 16.0f;
    const long q = std::lround(x / in::scale) + in::zero_point;
    instance.input()[0] = static_cast<std::int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
    cycles::start();
    const std::uint32_t before = cycles::now();
    instance.invoke();
    instructions = cycles::instructions(before, cycles::now());
    const float y = static_cast<float>(instance.output()[0] - out::zero_point) * out::scale;
    const float expected = std::sin(x);
    bad += std::fabs(y - expected) > 0.25f;
    semihost::write(y >= 0 ? " +" : " -");
    semihost::write(semihost::decimal(static_cast<std::uint64_t>(std::fabs(y) * 1000.0f + 0.5f), text));
    semihost::write(i % 8 == 7 ? "\n" : "");
  }
  semihost::write("sine on Cortex-M, milli-units above; instructions per inference: ");
  semihost::write(semihost::decimal(instructions, text));
  semihost::write(bad == 0 ? "\nall predictions within 0.25 of sin(x)\n" : "\nsome predictions are off\n");
  return bad == 0 ? 0 : 1;
}
