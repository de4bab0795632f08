// gru: a gesture classifier with a GRU (examples/gru/train.py), quantized to int8 by
// `scripts/tinynet convert --quantize`, run on every held-out gesture. The same source runs on the
// host (printf) and on a Cortex-M4 under QEMU (semihosting); examples/gru/evaluate.py compares the
// printed outputs with the float model and with the numpy reference interpreter.
//
// A gesture arrives as 16 steps of 3 signed bytes (an accelerometer's x, y, z in 1/32 g); the
// network reads code / 32 (exact in float) and writes the int8 probabilities of the 4 gestures.
// The GRU is unrolled over the 16 steps as TFLite writes it (FULLY_CONNECTED, SPLIT, ADD, MUL,
// SUB, LOGISTIC, TANH per step): no state outlives an invoke(), each gesture starts from h = 0.
//
// Build inputs (generated): gru_model.hpp (the network) and gru_test_set.hpp (the gestures).
#include <cstdint>

#include <tinynet/tinynet.hpp>

#include "gru_model.hpp"
#include "gru_test_set.hpp"

#include "../console.hpp"  // print(): stdio on the host, semihosting on the device
#if defined(__arm__)
#include "cycles.hpp"
#endif

namespace data = gru_data;
using in_t = gru::network::input_t<0>;
using out_t = gru::network::output_t<0>;
static_assert(in_t::size == data::steps * data::axes && out_t::size == data::gesture_count);

static tinynet::Instance<gru::network> net;   // the arena in .bss: no heap

// The most probable gesture (the first of equals), after the network has run on one gesture.
static int classify(const std::int8_t (&codes)[data::steps][data::axes]) {
  for (int t = 0; t < data::steps; ++t)
    for (int a = 0; a < data::axes; ++a)
      net.input()[t * data::axes + a] =
          tinynet::quantize_value<in_t>(static_cast<float>(codes[t][a]) / data::code_scale);  // exact
  net.invoke();
  int best = 0;
  for (int k = 1; k < data::gesture_count; ++k)
    if (net.output()[k] > net.output()[best]) best = k;
  return best;
}

int main() {
  print("network: ", static_cast<unsigned long>(gru::network::arena_bytes), " bytes of arena, ",
        static_cast<unsigned long>(gru::network::weight_bytes), " bytes of weight tables read (a table the steps share counted once), ",
        static_cast<unsigned long long>(gru::network::macs), " MACs per gesture\n");
  int correct = 0;
  print("outputs:");
  for (int n = 0; n < data::test_count; ++n) {
    correct += classify(data::test_codes[n]) == data::test_labels[n];
    print(n % 8 ? " " : "\n ");
    for (int k = 0; k < data::gesture_count; ++k) print(k ? "," : "", net.output()[k]);
  }
  print("\nint8 correct: ", correct, " of ", data::test_count, " held-out gestures\n");
#if defined(__arm__)
  const auto t0 = cycles::start();
  (void)classify(data::test_codes[0]);
  const auto t1 = cycles::stop();
  print("instructions per gesture (QEMU icount): ",
        static_cast<unsigned long long>(cycles::to_instructions(cycles::elapsed(t0, t1))), "\n");
#endif
  return 0;
}
