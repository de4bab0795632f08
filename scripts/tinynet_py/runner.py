"""Builds and runs a generated network: on the host (the C++ compiler) or on Cortex-M under QEMU.

The runners are C++ sources in targets/ (targets/host/run_main.cpp, targets/host/bench_main.cpp,
targets/cortex-m/run_main.cpp and run_baseline.cpp) that read and write every input and output of
the network by iterating its input_t<I>/output_t<I> at compile time; Python only names the model
header and its namespace (model_defines()) and passes the I/O paths.

Builds are cached: the cache key covers the header, the runner sources, the compiler and flags,
and the library headers, so a second `tinynet run` of the same model only runs the program.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
import threading

from .errors import TinynetError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INCLUDE = os.path.join(REPO, "include")
TARGETS = os.path.join(REPO, "targets")
RUNNER_MODEL = os.path.join(TARGETS, "runner_model.hpp")    # included by every runner below
HOST_RUNNER = os.path.join(TARGETS, "host", "run_main.cpp")
HOST_BENCH = os.path.join(TARGETS, "host", "bench_main.cpp")
HOST_PLAN = os.path.join(TARGETS, "host", "plan_main.cpp")
CORTEX_M_RUNNER = os.path.join(TARGETS, "cortex-m", "run_main.cpp")
CORTEX_M_BASELINE = os.path.join(TARGETS, "cortex-m", "run_baseline.cpp")
MODEL_HEADER = "model.hpp"   # the header's file name in its build folder
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


def files_digest(paths):
    """sha256 of the files' names and bytes, in the order given."""
    h = hashlib.sha256()
    for path in paths:
        h.update(os.path.relpath(path, REPO).encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def model_defines(namespace, header=MODEL_HEADER):
    """The two macros a runner in targets/ needs (targets/runner_model.hpp): the header to include
    (found on the -I path) and the namespace that holds its `network`."""
    return [f'-DTINYNET_MODEL_HEADER="{header}"', f"-DTINYNET_MODEL_NAMESPACE={namespace}"]


# Two processes may build the same cache entry at once (ctest runs test suites in parallel, and
# users run several `tinynet` commands): every file is written under a name of this process and
# renamed into place, so that a compiler never reads a header another process is rewriting and no
# two compilers write one output. (The name holds the thread too: tests build from worker threads.)
def _unique(path):
    return f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"


def _write_file(path, text):
    tmp = _unique(path)
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _write_header(folder, header_text):
    os.makedirs(folder, exist_ok=True)
    _write_file(os.path.join(folder, MODEL_HEADER), header_text)


def build_host(header_text, namespace, input_count=None, output_count=None, cxx=None, extra_flags=(), progress=None,
               source=HOST_RUNNER, extra_files=None):
    """Compiles targets/host/run_main.cpp (or `source`, another program of targets/host) for the
    header (cached); returns the program's path. The runner takes the paths of the input files,
    then of the output files (run_host). input_count and output_count are not needed (the runner
    iterates the network's own inputs and outputs); they stay for existing callers. extra_files:
    {file name: text} written next to the header (e.g. plan_main.cpp's plan_names.hpp)."""
    extra_files = dict(extra_files or {})
    cxx = cxx or os.environ.get("TINYNET_CXX") or os.environ.get("CXX") or "g++"
    if shutil.which(cxx) is None:
        raise TinynetError(None, f"C++ compiler '{cxx}' not found (set CXX or TINYNET_CXX)")
    # TINYNET_CXXFLAGS adds flags to host builds, e.g. "-fsanitize=address,undefined".
    flags = HOST_FLAGS + list(extra_flags) + os.environ.get("TINYNET_CXXFLAGS", "").split() + model_defines(namespace)
    key = hashlib.sha256("\0".join([header_text, files_digest([source, RUNNER_MODEL]), cxx, " ".join(flags),
                                    library_digest()] + [f"{k}\0{v}" for k, v in sorted(extra_files.items())]
                                   ).encode()).hexdigest()[:24]
    folder = os.path.join(cache_root(), "host-" + key)
    binary = os.path.join(folder, "runner")
    if os.path.exists(binary):
        return binary
    _write_header(folder, header_text)
    for name, text in extra_files.items():
        _write_file(os.path.join(folder, name), text)
    if progress:
        progress(f"compiling with {cxx} (cached afterwards)")
    tmp = _unique(binary)
    cmd = [cxx] + flags + ["-I", INCLUDE, "-I", folder, source, "-o", tmp]
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

def build_cortex_m(header_text, namespace, model=None, cpu="cortex-m4", progress=None, extra_flags=()):
    """Builds targets/cortex-m/run_main.cpp for the header and `cpu` (cached); returns the ELF.
    `model` is not needed (the runner iterates the network's own inputs and outputs); it stays
    for existing callers. extra_flags, e.g. -DTINYNET_PER_LAYER, go to the compiler."""
    from . import cortex_m
    flags = model_defines(namespace) + list(extra_flags)
    key = hashlib.sha256("\0".join([header_text, cpu, " ".join(cortex_m.COMMON_FLAGS), " ".join(flags),
                                    library_digest(), cortex_m.harness_digest(),
                                    files_digest([RUNNER_MODEL])]).encode()).hexdigest()[:24]
    folder = os.path.join(cache_root(), f"{cpu}-{key}")
    elf = os.path.join(folder, "runner.elf")
    if os.path.exists(elf):
        return elf
    _write_header(folder, header_text)
    if progress:
        progress(f"compiling for {cpu} with arm-none-eabi-g++ (cached afterwards)")
    tmp = _unique(elf)
    cortex_m.build([CORTEX_M_RUNNER], tmp, cpu, include_dirs=[INCLUDE, folder], extra_flags=flags)
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


def estimate_cycles_cortex_m4(elf, input_paths):
    """The Cortex-M4 cycle estimate of the runner's counted invoke() (cortex_m.estimate_m4_cycles:
    the same run under QEMU with a counting plugin, weighted by the M4 TRM's timings)."""
    from . import cortex_m
    with tempfile.TemporaryDirectory(prefix="tinynet-qemu-") as work:
        for k, path in enumerate(input_paths):
            shutil.copyfile(path, os.path.join(work, f"in{k}.bin"))
        result = cortex_m.estimate_m4_cycles(elf, cwd=work, cache_dir=cache_root())
    if result["exit_status"] != 0:
        raise TinynetError(None, f"the Cortex-M runner failed under QEMU (exit {result['exit_status']}): "
                                 f"{result['output'].strip()[-500:]}")
    return result


def build_cortex_m_baseline(cpu="cortex-m4", extra_flags=()):
    """targets/cortex-m/run_baseline.cpp, the runner without a network (cached), built with the
    runner's extra_flags (-Os): its flash and static RAM are subtracted from the runner's."""
    from . import cortex_m
    key = hashlib.sha256("\0".join([cpu, " ".join(cortex_m.COMMON_FLAGS), " ".join(extra_flags),
                                    cortex_m.harness_digest()]).encode()).hexdigest()[:24]
    folder = os.path.join(cache_root(), f"{cpu}-baseline-{key}")
    elf = os.path.join(folder, "baseline.elf")
    if not os.path.exists(elf):
        os.makedirs(folder, exist_ok=True)
        cortex_m.build([CORTEX_M_BASELINE], _unique(elf), cpu, include_dirs=[INCLUDE], extra_flags=extra_flags)
        os.replace(_unique(elf), elf)
    return elf


def host_bench_command(cxx, namespace, folder, binary, extra_flags=()):
    """The command that builds targets/host/bench_main.cpp (Google Benchmark) for the header
    written as MODEL_HEADER in `folder` (`tinynet bench --target host` times it); extra_flags
    (-Os) after -O2."""
    return ([cxx, "-std=c++20", "-O2", "-DNDEBUG"] + list(extra_flags) + model_defines(namespace) +
            [f"-I{INCLUDE}", f"-I{folder}", HOST_BENCH, "-o", binary, "-lbenchmark", "-lpthread"])
