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

// The number of tensors `bytes` long an input file holds, or 0 (with a message) if its size is not a
// positive multiple of that. Every input is checked before any output file is created.
static std::size_t steps_in(std::FILE* f, const char* path, std::size_t bytes) {
  long size = -1;
  if (std::fseek(f, 0, SEEK_END) == 0) size = std::ftell(f);
  std::rewind(f);
  if (size <= 0 || static_cast<std::size_t>(size) % bytes != 0) {
    std::fprintf(stderr, "%s: expected %zu bytes (or a multiple: one tensor per step)\n", path, bytes);
    return 0;
  }
  return static_cast<std::size_t>(size) / bytes;
}

template <std::size_t... I>
static bool read_inputs(std::FILE** files, std::index_sequence<I...>) {
  return ((std::fread(instance.input<I>().data(), 1, instance.input<I>().size_bytes(), files[I]) ==
           instance.input<I>().size_bytes()) &&
          ...);
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
  std::size_t steps = 0;
  const bool sized = [&]<std::size_t... I>(std::index_sequence<I...>) {
    const std::size_t tensor_bytes[] = {net::template input_t<I>::bytes...};
    for (std::size_t i = 0; i < ins; ++i) {
      if (!(inputs[i] = std::fopen(argv[1 + i], "rb"))) {
        std::fprintf(stderr, "cannot open %s\n", argv[1 + i]);
        return false;
      }
      const std::size_t n = steps_in(inputs[i], argv[1 + i], tensor_bytes[i]);
      if (n == 0) return false;
      if (i > 0 && n != steps) {
        std::fprintf(stderr, "the input files hold different numbers of tensors (%zu and %zu)\n", steps, n);
        return false;
      }
      steps = n;
    }
    return true;
  }(std::make_index_sequence<ins>{});
  if (!sized) return 3;
  for (std::size_t i = 0; i < outs; ++i)
    if (!(outputs[i] = std::fopen(argv[1 + ins + i], "wb"))) return 4;
  for (std::size_t step = 0; step < steps; ++step) {
    if (!read_inputs(inputs, std::make_index_sequence<ins>{})) return 3;
    instance.invoke();
    if (!write_outputs(outputs, std::make_index_sequence<outs>{})) return 4;
  }
  for (std::size_t i = 0; i < outs; ++i)
    if (std::fclose(outputs[i]) != 0) return 4;
  return 0;
}
