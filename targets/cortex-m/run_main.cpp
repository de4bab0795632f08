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
// Steps: an input file may hold several tensors back to back (as targets/host/run_main.cpp reads
// them: `tinynet run --invokes`, `--sequence`). The uncounted first run uses the first step's inputs;
// then the network is reset (a stateful network starts again from its reset state) and invoked once
// per step, the first of them counted, and each output file receives every step's outputs.
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

// One step of one input: 1 (read), 0 (the file ended before it), -1 (a partial tensor).
template <class Span>
static int read_step(int handle, Span span) {
  const std::size_t got = semihost::read(handle, span.data(), span.size_bytes());
  return got == span.size_bytes() ? 1 : got == 0 ? 0 : -1;
}

// Every input file opened (or closed), every input's next step read, every output's step appended.
template <std::size_t... K>
static bool open_inputs(int* handles, std::index_sequence<K...>) {
  return (((handles[K] = semihost::open(input_file<K>.text, 1)) >= 0) && ...);
}
template <std::size_t... K>
static bool open_outputs(int* handles, std::index_sequence<K...>) {
  return (((handles[K] = semihost::open(output_file<K>.text, 5)) >= 0) && ...);
}
static void close_all(const int* handles, std::size_t count) {
  for (std::size_t k = 0; k < count; ++k) semihost::close(handles[k]);
}
// 1 (all read), 0 (all ended together), -1 (an error).
template <std::size_t... K>
static int read_inputs(const int* handles, std::index_sequence<K...>) {
  const int got[] = {read_step(handles[K], instance.input<K>())...};
  for (const int g : got)
    if (g != got[0] || g < 0) return -1;
  return got[0];
}
template <std::size_t... K>
static bool write_outputs(const int* handles, std::index_sequence<K...>) {
  return ((semihost::write(handles[K], instance.output<K>().data(), instance.output<K>().size_bytes()) ==
           instance.output<K>().size_bytes()) &&
          ...);
}

extern "C" int app_main() {
  constexpr auto inputs = std::make_index_sequence<net::input_count>{};
  constexpr auto outputs = std::make_index_sequence<net::output_count>{};
  int in[net::input_count];
  int out[net::output_count];
  if (!open_inputs(in, inputs)) {
    semihost::write("cannot open an input file\n");
    return 3;
  }
  if (read_inputs(in, inputs) != 1) return 3;
  instance.invoke();
  instance.reset();
  close_all(in, net::input_count);
  if (!open_inputs(in, inputs)) return 3;
  if (!open_outputs(out, outputs)) return 4;
  std::uint32_t before = 0, after = 0;
#ifdef TINYNET_PER_LAYER
  static std::uint32_t layer_instructions[net::op_count];
#endif
  for (std::size_t step = 0;; ++step) {
    const int got = read_inputs(in, inputs);
    if (got < 0 || (got == 0 && step == 0)) return 3;
    if (got == 0) break;
    if (step == 0) {
      cycles::start();
#ifdef TINYNET_PER_LAYER
      std::uint32_t layer_start = cycles::now();
      before = layer_start;
      instance.invoke([&](std::size_t k) {
        const std::uint32_t now = cycles::now();
        layer_instructions[k] = cycles::instructions(layer_start, now);
        layer_start = now;
      });
      after = cycles::now();
#else
      before = cycles::now();
      instance.invoke();
      after = cycles::now();
#endif
    } else {
      instance.invoke();
    }
    if (!write_outputs(out, outputs)) return 4;
  }
  close_all(in, net::input_count);
  close_all(out, net::output_count);
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
