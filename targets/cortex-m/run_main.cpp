// tinynet Cortex-M runner: reads each input of a generated network from in<K>.bin and writes each
// output to out<K>.bin in QEMU's working directory (semihosting file calls), then prints
//   instructions: N      the instructions of the second invoke() (../shared/anchors.md measured
//                        TFLM's second Invoke())
//   stack_bytes: N       the peak stack of the whole program (painted at reset: startup.cpp)
//   arena_bytes: N       net::arena_bytes
//   weight_bytes: N      net::weight_bytes (as compiled for this target)
// and, built with -DTINYNET_PER_LAYER, "layer K: N" for every op (the timer is read after each op;
// a few instructions of that hook are counted with the next op). The input is copied in again
// before the counted run, as it was before each TFLM Invoke(). A stateful network is reset after the
// uncounted run, so the counted one starts from its initial state as TFLM's first Invoke() does.
//
// Steps (built with -DTINYNET_RUNNER_STEPS=1, as `tinynet run --invokes N` / `--sequence` build it):
// an input file may hold several tensors back to back; after the first step the network is invoked
// once per further tensor, state carried, and each output file receives every step's outputs. The
// default build (what `tinynet bench` measures) has none of that code.
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

// The first tensor of an input file: the whole file in the default build; built for steps the file
// may hold more tensors back to back (further_steps reads them).
template <class Span>
static semihost::FileStatus read_first(const char* path, Span span) {
#if TINYNET_RUNNER_STEPS
  return semihost::read_prefix(path, span);
#else
  return semihost::read_file(path, span);
#endif
}

template <class Span>
static bool read_tensor(const char* path, Span span) {
  const semihost::FileStatus status = read_first(path, span);
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

#if TINYNET_RUNNER_STEPS
// Steps 2, 3, ...: the output files written again from the first step's outputs (still in the
// arena) and kept open; every input file read past its first tensor, then one tensor of each per
// invoke, every step's outputs appended. 3 if the files end inside a tensor or unevenly.
template <std::size_t... K, std::size_t... J>
static int further_steps(std::index_sequence<K...>, std::index_sequence<J...>) {
  int outs[] = {semihost::open(output_file<J>.text, 5)...};
  for (const int h : outs)
    if (h < 0) return 4;
  const auto write_all = [&] {
    return ((semihost::write(outs[J], instance.output<J>().data(), instance.output<J>().size_bytes()) ==
             instance.output<J>().size_bytes()) &&
            ...);
  };
  int status = write_all() ? 0 : 4;
  int ins[] = {semihost::open(input_file<K>.text, 1)...};
  for (const int h : ins)
    if (h < 0) status = 3;
  for (bool first = true; status == 0; first = false) {
    const std::size_t got[] = {semihost::read(ins[K], instance.input<K>().data(), instance.input<K>().size_bytes())...};
    const std::size_t want[] = {instance.input<K>().size_bytes()...};
    bool all = true, none = true;
    for (std::size_t k = 0; k < sizeof...(K); ++k) {
      all = all && got[k] == want[k];
      none = none && got[k] == 0;
    }
    if (!all) {
      status = none && !first ? -1 : 3;
      break;
    }
    if (first) continue;
    instance.invoke();
    if (!write_all()) status = 4;
  }
  for (const int h : ins) semihost::close(h);
  for (const int h : outs) semihost::close(h);
  return status < 0 ? 0 : status;
}
#endif

extern "C" int app_main() {
  constexpr auto inputs = std::make_index_sequence<net::input_count>{};
  if (!read_inputs(inputs)) return 3;
  instance.invoke();
  instance.reset();  // no code for a network without state
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
#if TINYNET_RUNNER_STEPS
  if (const int status = further_steps(inputs, std::make_index_sequence<net::output_count>{}); status != 0)
    return status;
#endif
  char text[24];
  semihost::write("instructions: ");
  semihost::write(semihost::decimal(cycles::instructions(before, after), text));
  semihost::write("\nstack_bytes: ");
  semihost::write(semihost::decimal(tinynet_stack_peak(), text));
  semihost::write("\narena_bytes: ");
  semihost::write(semihost::decimal(net::arena_bytes, text));
  semihost::write("\nweight_bytes: ");
  semihost::write(semihost::decimal(net::weight_bytes, text));
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
