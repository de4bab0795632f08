// tinynet host runner: reads each input of a generated network from a file named on the command
// line, invokes the network in its static arena and writes each output to a file. The files hold
// the tensors' raw bytes (input_t<I>::size elements of input_t<I>::element each).
//
// Steps: an input file may hold several tensors back to back (every input file the same number):
// the network is invoked once per step, a stateful network carrying its state from one step to the
// next (from its reset state), and each output file receives the outputs of every step, back to
// back. `tinynet run --invokes N` repeats one input N times; `--sequence` feeds stacked inputs.
//
//   g++ -std=c++20 -O2 -I include -I <folder of the header>
//       -DTINYNET_MODEL_HEADER='"model.hpp"' -DTINYNET_MODEL_NAMESPACE=kws
//       targets/host/run_main.cpp -o runner
//   ./runner IN0 ... OUT0 ...
//
// Exit status: 0, 2 for a wrong argument count, 3 if an input file cannot be read or its size is
// not a whole number of steps (or differs between inputs), 4 if an output file cannot be written.
// `tinynet run --target host` builds and runs this (scripts/tinynet_py/runner.py).
#include <cstddef>
#include <cstdio>
#include <utility>

#include "../runner_model.hpp"

static tinynet::Instance<net> instance;

// One step of one input: 1 (read), 0 (the file ended before it), -1 (a partial tensor).
template <class Span>
static int read_step(std::FILE* f, const char* path, Span span) {
  const std::size_t want = span.size_bytes();
  const std::size_t got = std::fread(span.data(), 1, want, f);
  if (got == want) return 1;
  if (got == 0) return 0;
  std::fprintf(stderr, "%s: expected a multiple of %zu bytes\n", path, want);
  return -1;
}

// Every input's next step: 1 (all read), 0 (all ended together), -1 (an error).
template <std::size_t... I>
static int read_inputs(std::FILE** files, char** paths, std::index_sequence<I...>) {
  const int got[] = {read_step(files[I], paths[I], instance.input<I>())...};
  for (const int g : got)
    if (g != got[0] || g < 0) {
      if (g >= 0) std::fprintf(stderr, "the input files hold different numbers of tensors\n");
      return -1;
    }
  return got[0];
}
template <std::size_t... I>
static bool write_outputs(std::FILE** files, std::index_sequence<I...>) {
  return ((std::fwrite(instance.output<I>().data(), 1, instance.output<I>().size_bytes(), files[I]) ==
           instance.output<I>().size_bytes()) &&
          ...);
}

int main(int argc, char** argv) {
  constexpr std::size_t ins = net::input_count, outs = net::output_count;
  if (argc != static_cast<int>(1 + ins + outs)) {
    std::fprintf(stderr, "usage: %s", argv[0]);
    for (std::size_t i = 0; i < ins; ++i) std::fprintf(stderr, " IN%zu", i);
    for (std::size_t i = 0; i < outs; ++i) std::fprintf(stderr, " OUT%zu", i);
    std::fprintf(stderr, "\n");
    return 2;
  }
  std::FILE* inputs[ins];
  std::FILE* outputs[outs];
  for (std::size_t i = 0; i < ins; ++i)
    if (!(inputs[i] = std::fopen(argv[1 + i], "rb"))) {
      std::fprintf(stderr, "cannot open %s\n", argv[1 + i]);
      return 3;
    }
  for (std::size_t i = 0; i < outs; ++i)
    if (!(outputs[i] = std::fopen(argv[1 + ins + i], "wb"))) return 4;
  std::size_t steps = 0;
  for (;; ++steps) {
    const int got = read_inputs(inputs, argv + 1, std::make_index_sequence<ins>{});
    if (got < 0) return 3;
    if (got == 0) break;
    instance.invoke();
    if (!write_outputs(outputs, std::make_index_sequence<outs>{})) return 4;
  }
  if (steps == 0) {
    std::fprintf(stderr, "%s: empty input file\n", argv[1]);
    return 3;
  }
  for (std::size_t i = 0; i < outs; ++i)
    if (std::fclose(outputs[i]) != 0) return 4;
  return 0;
}
