"""Builds and runs a generated network: on the host (the C++ compiler) or on Cortex-M under QEMU.

Builds are cached: the cache key covers the header, the runner source, the compiler and flags,
and the library headers, so a second `tinynet run` of the same model only runs the program.
"""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

from .errors import TinynetError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INCLUDE = os.path.join(REPO, "include")
HOST_FLAGS = ["-std=c++20", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]


def cache_root():
    base = os.environ.get("TINYNET_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tinynet")
    os.makedirs(base, exist_ok=True)
    return base


def library_digest():
    h = hashlib.sha256()
    for folder, _, files in sorted(os.walk(INCLUDE)):
        for name in sorted(files):
            path = os.path.join(folder, name)
            h.update(path[len(INCLUDE):].encode())
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def host_runner_source(namespace, input_count, output_count):
    """A main() that reads each input from a file named on the command line, invokes the network
    in its static arena and writes each output to a file."""
    reads = "\n".join(
        f"  if (!read_tensor(argv[{1 + i}], instance.input<{i}>())) return 3;" for i in range(input_count))
    writes = "\n".join(
        f"  if (!write_tensor(argv[{1 + input_count + i}], instance.output<{i}>())) return 4;"
        for i in range(output_count))
    return f"""// tinynet host runner (generated)
#include <cstdio>

#include "model.hpp"

using net = {namespace}::network;
static tinynet::Instance<net> instance;

template <class Span>
static bool read_tensor(const char* path, Span span) {{
  std::FILE* f = std::fopen(path, "rb");
  if (!f) {{ std::fprintf(stderr, "cannot open %s\\n", path); return false; }}
  const std::size_t want = span.size_bytes();
  const std::size_t got = std::fread(span.data(), 1, want, f);
  const bool extra = std::fgetc(f) != EOF;
  std::fclose(f);
  if (got != want || extra) {{
    std::fprintf(stderr, "%s: expected %zu bytes\\n", path, want);
    return false;
  }}
  return true;
}}

template <class Span>
static bool write_tensor(const char* path, Span span) {{
  std::FILE* f = std::fopen(path, "wb");
  if (!f) return false;
  const bool ok = std::fwrite(span.data(), 1, span.size_bytes(), f) == span.size_bytes();
  return std::fclose(f) == 0 && ok;
}}

int main(int argc, char** argv) {{
  if (argc != 1 + {input_count} + {output_count}) {{
    std::fprintf(stderr, "usage: %s {' '.join(f'IN{i}' for i in range(input_count))} {' '.join(f'OUT{i}' for i in range(output_count))}\\n", argv[0]);
    return 2;
  }}
{reads}
  instance.invoke();
{writes}
  return 0;
}}
"""


def build_host(header_text, namespace, input_count, output_count, cxx=None, extra_flags=(), progress=None):
    cxx = cxx or os.environ.get("TINYNET_CXX") or os.environ.get("CXX") or "g++"
    if shutil.which(cxx) is None:
        raise TinynetError(None, f"C++ compiler '{cxx}' not found (set CXX or TINYNET_CXX)")
    source = host_runner_source(namespace, input_count, output_count)
    # TINYNET_CXXFLAGS adds flags to host builds, e.g. "-fsanitize=address,undefined".
    flags = HOST_FLAGS + list(extra_flags) + os.environ.get("TINYNET_CXXFLAGS", "").split()
    key = hashlib.sha256("\0".join([header_text, source, cxx, " ".join(flags), library_digest()]).encode()).hexdigest()[:24]
    folder = os.path.join(cache_root(), "host-" + key)
    binary = os.path.join(folder, "runner")
    if os.path.exists(binary):
        return binary
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.hpp"), "w") as f:
        f.write(header_text)
    with open(os.path.join(folder, "main.cpp"), "w") as f:
        f.write(source)
    if progress:
        progress(f"compiling with {cxx} (cached afterwards)")
    tmp = binary + ".tmp"
    cmd = [cxx] + flags + ["-I", INCLUDE, "-I", folder, os.path.join(folder, "main.cpp"), "-o", tmp]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinynetError(None, "compiling the generated network failed:\n" + proc.stderr[-4000:])
    os.replace(tmp, binary)
    return binary


def run_host(binary, input_paths, output_paths):
    proc = subprocess.run([binary] + list(input_paths) + list(output_paths), capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinynetError(None, f"the runner failed (exit {proc.returncode}): {proc.stderr.strip()}")


# ---- Cortex-M under QEMU --------------------------------------------------------------------

def cortex_m_runner_source(namespace, input_count, output_count):
    """main() for the bare-metal runner: inputs come from in<K>.bin and outputs go to
    out<K>.bin in QEMU's working directory (semihosting file calls). The network runs twice; the
    second invocation, with the input copied in again, is the one whose instructions are counted
    (as anchors.md measured TFLM's second Invoke())."""
    reads = "\n".join(f'  if (!read_tensor("in{i}.bin", instance.input<{i}>())) return 3;' for i in range(input_count))
    writes = "\n".join(f'  if (!write_tensor("out{i}.bin", instance.output<{i}>())) return 4;'
                       for i in range(output_count))
    return f"""// tinynet Cortex-M runner (generated)
#include <cstdint>

#include "cycles.hpp"
#include "model.hpp"
#include "semihost.hpp"

extern "C" std::uint32_t tinynet_stack_peak();

using net = {namespace}::network;
static tinynet::Instance<net> instance;

template <class Span>
static bool read_tensor(const char* path, Span span) {{
  const int handle = semihost::open(path, 1);
  if (handle < 0) {{
    semihost::write("cannot open an input file\\n");
    return false;
  }}
  const bool ok = semihost::read(handle, span.data(), span.size_bytes()) == span.size_bytes();
  semihost::close(handle);
  return ok;
}}

template <class Span>
static bool write_tensor(const char* path, Span span) {{
  const int handle = semihost::open(path, 5);
  if (handle < 0) return false;
  const bool ok = semihost::write(handle, span.data(), span.size_bytes()) == span.size_bytes();
  semihost::close(handle);
  return ok;
}}

extern "C" int app_main() {{
{reads}
  instance.invoke();
{reads}
  cycles::start();
#ifdef TINYNET_PER_LAYER
  // Instructions of each op: the timer is read after every op (a few instructions of the hook
  // are counted with the next op).
  static std::uint32_t layer_instructions[net::op_count];
  std::uint32_t layer_start = cycles::now();
  const std::uint32_t before = layer_start;
  instance.invoke([&](std::size_t k) {{
    const std::uint32_t now = cycles::now();
    layer_instructions[k] = cycles::instructions(layer_start, now);
    layer_start = now;
  }});
  const std::uint32_t after = cycles::now();
#else
  const std::uint32_t before = cycles::now();
  instance.invoke();
  const std::uint32_t after = cycles::now();
#endif
{writes}
  char text[24];
  semihost::write("instructions: ");
  semihost::write(semihost::decimal(cycles::instructions(before, after), text));
  semihost::write("\\nstack_bytes: ");
  semihost::write(semihost::decimal(tinynet_stack_peak(), text));
  semihost::write("\\narena_bytes: ");
  semihost::write(semihost::decimal(net::arena_bytes, text));
  semihost::write("\\n");
#ifdef TINYNET_PER_LAYER
  for (std::size_t k = 0; k < net::op_count; ++k) {{
    semihost::write("layer ");
    semihost::write(semihost::decimal(static_cast<std::uint32_t>(k), text));
    semihost::write(": ");
    semihost::write(semihost::decimal(layer_instructions[k], text));
    semihost::write("\\n");
  }}
#endif
  return 0;
}}
"""


def build_cortex_m(header_text, namespace, model, cpu="cortex-m4", progress=None, extra_flags=()):
    from . import cortex_m
    source = cortex_m_runner_source(namespace, len(model.inputs), len(model.outputs))
    harness = hashlib.sha256()
    for name in sorted(os.listdir(cortex_m.HARNESS)):
        path = os.path.join(cortex_m.HARNESS, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                harness.update(name.encode() + f.read())
    key = hashlib.sha256("\0".join([header_text, source, cpu, " ".join(cortex_m.COMMON_FLAGS),
                                    " ".join(extra_flags), library_digest(), harness.hexdigest()]).encode()).hexdigest()[:24]
    folder = os.path.join(cache_root(), f"{cpu}-{key}")
    elf = os.path.join(folder, "runner.elf")
    if os.path.exists(elf):
        return elf
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.hpp"), "w") as f:
        f.write(header_text)
    with open(os.path.join(folder, "main.cpp"), "w") as f:
        f.write(source)
    if progress:
        progress(f"compiling for {cpu} with arm-none-eabi-g++ (cached afterwards)")
    tmp = elf + ".tmp"
    cortex_m.build([os.path.join(folder, "main.cpp")], tmp, cpu, include_dirs=[INCLUDE, folder],
                   extra_flags=extra_flags)
    os.replace(tmp, elf)
    return elf


def run_cortex_m(elf, cpu, input_paths, output_paths, model=None):
    """Runs the runner ELF on the inputs; copies out<K>.bin to output_paths. Returns the figures
    the runner printed (instructions, stack_bytes, arena_bytes) as a dict."""
    from . import cortex_m
    with tempfile.TemporaryDirectory(prefix="tinynet-qemu-") as work:
        for k, path in enumerate(input_paths):
            shutil.copyfile(path, os.path.join(work, f"in{k}.bin"))
        status, output = cortex_m.run(elf, cpu, cwd=work)
        if status != 0:
            raise TinynetError(None, f"the Cortex-M runner failed under QEMU (exit {status}): {output.strip()[-500:]}")
        for k, path in enumerate(output_paths):
            shutil.copyfile(os.path.join(work, f"out{k}.bin"), path)
    figures = {}
    for line in output.splitlines():
        key, _, value = line.partition(":")
        if value.strip().isdigit():
            figures[key.strip()] = int(value)
    return figures


def cortex_m_baseline_source():
    """The runner's harness alone (the same file I/O, timer and printing, no network): building it
    gives the flash and static RAM that are not the network's, to subtract like anchors.md did."""
    return """// tinynet Cortex-M baseline (generated): the runner without a network
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
  semihost::write("\\nstack_bytes: ");
  semihost::write(semihost::decimal(tinynet_stack_peak(), text));
  semihost::write("\\n");
  return 0;
}
"""


def build_cortex_m_baseline(cpu="cortex-m4"):
    from . import cortex_m
    source = cortex_m_baseline_source()
    key = hashlib.sha256("\0".join([source, cpu, " ".join(cortex_m.COMMON_FLAGS)]).encode()).hexdigest()[:24]
    folder = os.path.join(cache_root(), f"{cpu}-baseline-{key}")
    elf = os.path.join(folder, "baseline.elf")
    if not os.path.exists(elf):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "main.cpp"), "w") as f:
            f.write(source)
        cortex_m.build([os.path.join(folder, "main.cpp")], elf + ".tmp", cpu, include_dirs=[INCLUDE])
        os.replace(elf + ".tmp", elf)
    return elf


def host_bench_source(namespace, input_count):
    """A Google Benchmark program timing invoke() with the inputs copied in again before each run
    (anchors.md: TFLM's input was copied in before each Invoke()). The copy is inside the timed
    region: pausing the timer costs more than copying a small input."""
    reads = "\n".join(f"  if (!read_tensor(argv[{1 + i}], instance.input<{i}>(), saved[{i}])) return 3;"
                      for i in range(input_count))
    restores = "\n".join(f"    std::memcpy(instance.input<{i}>().data(), saved[{i}], instance.input<{i}>().size_bytes());"
                         for i in range(input_count))
    return f"""// tinynet host benchmark (generated)
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>

#include "model.hpp"

using net = {namespace}::network;
static tinynet::Instance<net> instance;
static unsigned char saved[{input_count}][1 << 20];

template <class Span>
static bool read_tensor(const char* path, Span span, unsigned char* copy) {{
  std::FILE* f = std::fopen(path, "rb");
  if (!f || span.size_bytes() > sizeof saved[0]) return false;
  const bool ok = std::fread(copy, 1, span.size_bytes(), f) == span.size_bytes();
  std::fclose(f);
  return ok;
}}

static void invoke(benchmark::State& state) {{
  for (auto _ : state) {{
{restores}
    instance.invoke();
    benchmark::ClobberMemory();
  }}
}}
BENCHMARK(invoke)->Repetitions(5)->ReportAggregatesOnly(true);

int main(int argc, char** argv) {{
{reads}
  // Drop the input paths; pass the remaining (--benchmark_*) flags to Google Benchmark.
  for (int i = 1 + {input_count}; i < argc; ++i) argv[i - {input_count}] = argv[i];
  argc -= {input_count};
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}}
"""
