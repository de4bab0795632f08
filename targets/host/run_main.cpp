// tinynet host runner: reads each input of a generated network from a file named on the command
// line, invokes the network once in its static arena and writes each output to a file. The files
// hold the tensors' raw bytes (input_t<I>::size elements of input_t<I>::element each).
//
//   g++ -std=c++20 -O2 -I include -I <folder of the header>
//       -DTINYNET_MODEL_HEADER='"model.hpp"' -DTINYNET_MODEL_NAMESPACE=kws
//       targets/host/run_main.cpp -o runner
//   ./runner IN0 ... OUT0 ...
//
// Exit status: 0, 2 for a wrong argument count, 3 if an input file cannot be read or has the wrong
// size, 4 if an output file cannot be written. `tinynet run --target host` builds and runs this
// (scripts/tinynet_py/runner.py).
#include <cstddef>
#include <cstdio>
#include <utility>

#include "../runner_model.hpp"

static tinynet::Instance<net> instance;

// The file must hold exactly the tensor's bytes.
template <class Span>
static bool read_tensor(const char* path, Span span) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) {
    std::fprintf(stderr, "cannot open %s\n", path);
    return false;
  }
  const std::size_t want = span.size_bytes();
  const std::size_t got = std::fread(span.data(), 1, want, f);
  const bool extra = std::fgetc(f) != EOF;
  std::fclose(f);
  if (got != want || extra) {
    std::fprintf(stderr, "%s: expected %zu bytes\n", path, want);
    return false;
  }
  return true;
}

template <class Span>
static bool write_tensor(const char* path, Span span) {
  std::FILE* f = std::fopen(path, "wb");
  if (!f) return false;
  const bool ok = std::fwrite(span.data(), 1, span.size_bytes(), f) == span.size_bytes();
  return std::fclose(f) == 0 && ok;
}

// Every input (then every output) in order, stopping at the first failure.
template <std::size_t... I>
static bool read_inputs(char** paths, std::index_sequence<I...>) {
  return (read_tensor(paths[I], instance.input<I>()) && ...);
}
template <std::size_t... I>
static bool write_outputs(char** paths, std::index_sequence<I...>) {
  return (write_tensor(paths[I], instance.output<I>()) && ...);
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
  if (!read_inputs(argv + 1, std::make_index_sequence<ins>{})) return 3;
  instance.invoke();
  if (!write_outputs(argv + 1 + ins, std::make_index_sequence<outs>{})) return 4;
  return 0;
}
