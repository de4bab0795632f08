// The Cortex-M runner's harness without a network (the same file I/O, timer and printing as
// run_main.cpp): `tinynet bench` builds it to subtract the flash and static RAM that are not the
// network's, as ../shared/anchors.md did for TFLM.
#include <cstddef>
#include <cstdint>
#include <span>

#include "cycles.hpp"
#include "semihost.hpp"

extern "C" std::uint32_t tinynet_stack_peak();
static std::int8_t buffer[1];

extern "C" int app_main() {
  const int in = semihost::open("in0.bin", 1);
  if (in < 0) return 3;
  semihost::read(in, buffer, sizeof buffer);
  semihost::close(in);
  cycles::start();
  const std::uint32_t before = cycles::now();
  const std::uint32_t after = cycles::now();
  const int out = semihost::open("out0.bin", 5);
  semihost::write(out, buffer, sizeof buffer);
  semihost::close(out);
  char text[24];
  semihost::write("instructions: ");
  semihost::write(semihost::decimal(cycles::instructions(before, after), text));
  semihost::write("\nstack_bytes: ");
  semihost::write(semihost::decimal(tinynet_stack_peak(), text));
  // (The runner's weight_bytes line, so that its text and call are not counted as the network's
  // flash.)
  semihost::write("\nweight_bytes: ");
  semihost::write(semihost::decimal(100000, text));  // (a constant as wide as a network's)
  semihost::write("\n");
  return 0;
}
