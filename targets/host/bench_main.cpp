// tinynet host benchmark: times invoke() of a generated network with Google Benchmark. Each input
// is read once from a file named on the command line and copied in again before every run
// (../shared/anchors.md: TFLM's input was copied in before each Invoke()); the copy is inside the
// timed region, since pausing the timer costs more than copying a small input.
//
//   g++ -std=c++20 -O2 -DNDEBUG -I include -I <folder of the header>
//       -DTINYNET_MODEL_HEADER='"model.hpp"' -DTINYNET_MODEL_NAMESPACE=kws
//       targets/host/bench_main.cpp -o bench -lbenchmark -lpthread
//   ./bench IN0 ... [--benchmark_format=json ...]
//
// The JSON report's context holds "arena_bytes" (net::arena_bytes). `tinynet bench --target host`
// builds and runs this (scripts/tinynet_py/cli/bench_cmd.py).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "../runner_model.hpp"

static tinynet::Instance<net> instance;

// The bytes of input K, as read from its file.
template <std::size_t K>
static typename net::template input_t<K>::element saved[net::template input_t<K>::size];

template <std::size_t K>
static bool read_input(const char* path) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  const bool ok = std::fread(saved<K>, 1, sizeof saved<K>, f) == sizeof saved<K>;
  std::fclose(f);
  return ok;
}

template <std::size_t... K>
static bool read_inputs(char** paths, std::index_sequence<K...>) {
  return (read_input<K>(paths[K]) && ...);
}

template <std::size_t... K>
static void restore_inputs(std::index_sequence<K...>) {
  (std::memcpy(instance.input<K>().data(), saved<K>, sizeof saved<K>), ...);
}

static void invoke(benchmark::State& state) {
  for (auto _ : state) {
    restore_inputs(std::make_index_sequence<net::input_count>{});
    instance.invoke();
    benchmark::ClobberMemory();
  }
}
BENCHMARK(invoke)->Repetitions(5)->ReportAggregatesOnly(true);

int main(int argc, char** argv) {
  constexpr int ins = static_cast<int>(net::input_count);
  if (argc < 1 + ins || !read_inputs(argv + 1, std::make_index_sequence<net::input_count>{})) return 3;
  // Drop the input paths; pass the remaining (--benchmark_*) flags to Google Benchmark.
  for (int i = 1 + ins; i < argc; ++i) argv[i - ins] = argv[i];
  argc -= ins;
  // In the report's "context" (--benchmark_format=json), beside the timings.
  benchmark::AddCustomContext("arena_bytes", std::to_string(net::arena_bytes));
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
