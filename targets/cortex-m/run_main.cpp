// tinynet Cortex-M runner: reads each input of a generated network from in<K>.bin and writes each
// output to out<K>.bin in QEMU's working directory (semihosting file calls), then prints
//   instructions: N      the instructions of the second invoke() (../shared/anchors.md measured
//                        TFLM's second Invoke())
//   stack_bytes: N       the peak stack of the whole program (painted at reset: startup.cpp)
//   arena_bytes: N       net::arena_bytes
// and, built with -DTINYNET_PER_LAYER, "layer K: N" for every op (the timer is read after each op;
// a few instructions of that hook are counted with the next op). The input is copied in again
// before the counted run, as it was before each TFLM Invoke().
//
//   targets/cortex-m/build.py --cpu cortex-m4 -I include -I <folder of the header>
//       -DTINYNET_MODEL_HEADER='"model.hpp"' -DTINYNET_MODEL_NAMESPACE=kws
//       -o runner.elf targets/cortex-m/run_main.cpp
//   (cd <folder with in0.bin ...> && targets/cortex-m/run.py runner.elf)
//
// Exit status: 0, 3 if an input file cannot be read, 4 if an output file cannot be written.
// `tinynet run` and `tinynet bench` build and run this (scripts/tinynet_py/runner.py).
#include <cstddef>
#include <cstdint>
#include <utility>

#include "../runner_model.hpp"
#include "cycles.hpp"
#include "semihost.hpp"

extern "C" std::uint32_t tinynet_stack_peak();

static tinynet::Instance<net> instance;

// "in0.bin", "out12.bin": the prefix, K, ".bin", NUL (an array of exactly that size).
constexpr std::size_t decimal_digits(std::size_t k) { return k < 10 ? 1 : 1 + decimal_digits(k / 10); }
template <std::size_t K, std::size_t P>
struct FileName {
  char text[P - 1 + decimal_digits(K) + 5] = {};
  constexpr explicit FileName(const char (&prefix)[P]) {
    std::size_t n = 0;
    for (std::size_t i = 0; i + 1 < P; ++i) text[n++] = prefix[i];
    for (std::size_t value = K, d = decimal_digits(K); d > 0; --d, value /= 10) text[n + d - 1] = static_cast<char>('0' + value % 10);
    n += decimal_digits(K);
    for (const char c : {'.', 'b', 'i', 'n'}) text[n++] = c;
  }
};
template <std::size_t K>
inline constexpr FileName<K, sizeof "in"> input_file{"in"};
template <std::size_t K>
inline constexpr FileName<K, sizeof "out"> output_file{"out"};
static_assert(sizeof input_file<0>.text == sizeof "in0.bin" && output_file<12>.text[4] == '2' &&
              output_file<12>.text[9] == '\0');

template <class Span>
static bool read_tensor(const char* path, Span span) {
  const semihost::FileStatus status = semihost::read_file(path, span);
  if (status == semihost::FileStatus::cannot_open) semihost::write("cannot open an input file\n");
  if (status == semihost::FileStatus::wrong_size) semihost::write("an input file is not the input's size\n");
  return status == semihost::FileStatus::ok;
}

// Every input (every output) in order, stopping at the first failure.
template <std::size_t... K>
static bool read_inputs(std::index_sequence<K...>) {
  return (read_tensor(input_file<K>.text, instance.input<K>()) && ...);
}
template <std::size_t... K>
static bool write_outputs(std::index_sequence<K...>) {
  return ((semihost::write_file(output_file<K>.text, instance.output<K>()) == semihost::FileStatus::ok) && ...);
}

extern "C" int app_main() {
  constexpr auto inputs = std::make_index_sequence<net::input_count>{};
  if (!read_inputs(inputs)) return 3;
  instance.invoke();
  if (!read_inputs(inputs)) return 3;
  cycles::start();
#ifdef TINYNET_PER_LAYER
  static std::uint32_t layer_instructions[net::op_count];
  std::uint32_t layer_start = cycles::now();
  const std::uint32_t before = layer_start;
  instance.invoke([&](std::size_t k) {
    const std::uint32_t now = cycles::now();
    layer_instructions[k] = cycles::instructions(layer_start, now);
    layer_start = now;
  });
  const std::uint32_t after = cycles::now();
#else
  const std::uint32_t before = cycles::now();
  instance.invoke();
  const std::uint32_t after = cycles::now();
#endif
  if (!write_outputs(std::make_index_sequence<net::output_count>{})) return 4;
  char text[24];
  semihost::write("instructions: ");
  semihost::write(semihost::decimal(cycles::instructions(before, after), text));
  semihost::write("\nstack_bytes: ");
  semihost::write(semihost::decimal(tinynet_stack_peak(), text));
  semihost::write("\narena_bytes: ");
  semihost::write(semihost::decimal(net::arena_bytes, text));
  semihost::write("\n");
#ifdef TINYNET_PER_LAYER
  for (std::size_t k = 0; k < net::op_count; ++k) {
    semihost::write("layer ");
    semihost::write(semihost::decimal(static_cast<std::uint32_t>(k), text));
    semihost::write(": ");
    semihost::write(semihost::decimal(layer_instructions[k], text));
    semihost::write("\n");
  }
#endif
  return 0;
}
