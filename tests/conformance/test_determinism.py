"""The same model and input give the same output bytes whatever the compiler and optimisation
level: g++ at -O0, -O2 and -Os and clang++ at -O2 on the host, and arm-none-eabi-g++ at -O0, -O2
and -Os on a Cortex-M4 under QEMU, and at -O2 on a Cortex-M55 (mps3-an547: the Helium kernels of
kernels/arm_mve) -- for every model of the conformance set: every TFLM golden model (int8 and
float), every int16 conformance case of ../shared/conformance, and the hybrid kws (float
activations, int8 weights: core/hybrid.hpp), which has no TFLM output.

One program per (compiler or CPU, level) holds all the networks (one generated header each, in
its own namespace) and their inputs -- at host -O2 only those with float outputs (FLOAT_ONLY,
below); it runs each network in one shared arena and prints the CRC-32 of each output. Integer
outputs must equal TFLM's bytes (the golden file's CRC-32); every output, float ones included,
must be the same in all eight builds."""

import concurrent.futures
import functools
import re
import shutil
import subprocess
import zlib

import numpy as np
import pytest

from conftest import SHARED, dequantized_golden_inputs, model_for_golden, shared_listing, supported_goldens
from elf_symbols import assert_no_heap_or_exceptions
from tinynet_py import cortex_m, emit, runner
from tinynet_py.tflite import load_model

# clang++ at -O2 only: g++ covers the three levels, and the clang++ phase of scripts/run-tests
# builds every golden model again (sanitized, tests/CMakeLists.txt conformance_sanitized).
HOST = [("g++", level) for level in ("-O0", "-O2", "-Os")] + [("clang++", "-O2")]
DEVICE = [("cortex-m4", level) for level in ("-O0", "-O2", "-Os")] + [("cortex-m55", "-O2")]
BUILDS = HOST + DEVICE
# The host -O2 builds hold only the networks with float outputs. Their integer outputs are checked
# against TFLM's bytes elsewhere, at the same level, on every golden input: g++ -O2 by
# test_cpp_conformance.py (`tinynet run` builds with -O2), clang++ -O2 by the same suite in the
# clang++ phase (conformance_sanitized: -O2 under ASan and UBSan). With every network these two
# builds took about a quarter of this test's compile time; the float outputs, which no golden
# checks to the bit, are what only this test compares.
FLOAT_ONLY = {("g++", "-O2"), ("clang++", "-O2")}
RESULTS = {}          # build id -> {case name: crc}
C_TYPES = {"int8": "std::int8_t", "int16": "std::int16_t", "int32": "std::int32_t", "float32": "float"}


def _golden_cases():
    cases = []
    for name in supported_goldens():
        directory = SHARED / "golden" / name
        pairs = sorted(directory.glob("in_*.bin"), key=lambda p: int(p.stem.split("_")[1]))
        if not pairs:
            continue
        inp = pairs[min(4, len(pairs) - 1)]
        want = directory / f"out_{inp.stem.split('_')[1]}.bin"
        cases.append(dict(name=name, model=model_for_golden(name), inputs=[inp.read_bytes()], golden=want.read_bytes()))
    return cases


def _hybrid_cases():
    """kws_ref_model_float32 (test_hybrid.py) on the int8 kws model's fifth golden input, dequantized:
    TFLM runs no hybrid model, so only the agreement of all builds checks its float output."""
    path = SHARED / "models" / "mlperf-tiny" / "kws_ref_model_float32.tflite"
    if not path.exists() or not (SHARED / "golden" / "kws_ref_model").is_dir():
        return []
    _, x = dequantized_golden_inputs("kws_ref_model")[4]
    return [dict(name="kws_ref_model_float32 (hybrid)", model=path, inputs=[x.astype(np.float32).tobytes()],
                 golden=None)]


def _csv(path):
    return np.loadtxt(path, delimiter=",", dtype=np.int64).reshape(-1)


def _int16_cases():
    cases = []
    dtypes = {"int16": np.int16, "int32": np.int32, "int8": np.int8}
    for model in shared_listing("conformance", "tflm-seanet-int16", pattern="*/*.tflite"):
        inputs = [_csv(p).astype(dtypes[p.stem.rsplit("_", 1)[1]]).tobytes()
                  for p in sorted(model.parent.glob(f"{model.stem}_input*_*.csv"))]
        golden = next(model.parent.glob(f"{model.stem}_golden_*.csv"))
        want = _csv(golden).astype(dtypes[golden.stem.rsplit("_", 1)[1]]).tobytes()
        cases.append(dict(name=f"{model.parent.name}/{model.stem}", model=model, inputs=inputs, golden=want))
    return cases


def _array(ctype, name, data, dtype):
    values = np.frombuffer(data, dtype)
    body = ", ".join(repr(float(v)) + "f" if dtype == np.float32 else str(int(v)) for v in values)
    return f"alignas(16) static const {ctype} {name}[{len(values)}] = {{{body}}};\n"


@functools.lru_cache(maxsize=None)
def suite(folder):
    """Writes the headers and the programs into `folder`: main.cpp with every network,
    float_outputs.cpp with those whose output is float (the cases keep their numbers); returns the
    case list (name, golden CRC or None for float outputs)."""
    import pathlib
    folder = pathlib.Path(folder)
    cases = _golden_cases() + _hybrid_cases() + _int16_cases()
    includes, inputs, runs, expected = [], [], [], []   # per case
    for k, case in enumerate(cases):
        model = load_model(str(case["model"]))
        ns = f"c{k}"
        (folder / f"model_{k}.hpp").write_text(emit.generate_header(model, ns))
        includes.append(f'#include "model_{k}.hpp"')
        names, arrays = [], []
        for j, (index, data) in enumerate(zip(model.inputs, case["inputs"])):
            t = model.tensors[index]
            dtype = np.dtype({"int8": np.int8, "int16": np.int16, "int32": np.int32, "float32": np.float32}[t.dtype])
            arrays.append(_array(C_TYPES[t.dtype], f"in_{k}_{j}", data, dtype))
            names.append(f"in_{k}_{j}")
        inputs.append("".join(arrays))
        runs.append(f"  run<{ns}::network>({k}, {{{', '.join(names)}}});")
        out = model.tensors[model.outputs[0]]
        expected.append((case["name"], None if out.dtype == "float32" else zlib.crc32(case["golden"])))
    floats = [k for k, (_, crc) in enumerate(expected) if crc is None]
    (folder / "main.cpp").write_text(_source(range(len(cases)), includes, inputs, runs))
    (folder / "float_outputs.cpp").write_text(_source(floats, includes, inputs, runs))
    return tuple(expected)


def _source(cases, includes, inputs, runs):
    """The program that runs `cases` (numbers into the per-case lists) in one arena."""
    arenas = ", ".join(f"c{k}::network::arena_bytes" for k in cases)
    return f"""// generated by tests/conformance/test_determinism.py: conformance networks, one arena
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <utility>

{chr(10).join(includes[k] for k in cases)}

#if defined(__arm__)
#include "semihost.hpp"
static void report(int k, std::uint32_t crc) {{ semihost::print("case ", k, " ", semihost::hex(crc, 8), "\\n"); }}
#else
#include <cstdio>
static void report(int k, std::uint32_t crc) {{ std::printf("case %d 0x%08x\\n", k, static_cast<unsigned>(crc)); }}
#endif

{''.join(inputs[k] for k in cases)}
alignas(16) static std::byte arena[std::max({{std::size_t{{16}}, {arenas}}})];

template <class Net, std::size_t... I>
static void load(std::initializer_list<const void*> in, std::index_sequence<I...>) {{
  ((std::memcpy(Net::template input<I>(arena).data(), in.begin()[I], Net::template input<I>(arena).size_bytes())), ...);
}}

template <class Net>
static void run(int k, std::initializer_list<const void*> in) {{
  static_assert(Net::output_count == 1);
  load<Net>(in, std::make_index_sequence<Net::input_count>{{}});
  if constexpr (Net::is_stateful) Net::reset(arena);  // the arena holds the previous network's bytes
  Net::invoke(arena);
  const auto out = Net::template output<0>(arena);
  report(k, tinynet::crc32(out.data(), out.size_bytes()));
}}

int main() {{
{chr(10).join(runs[k] for k in cases)}
  return 0;
}}
"""


def _available(target):
    if target in cortex_m.CPUS:
        return cortex_m.available(target)
    return None if shutil.which(target) else f"{target} not installed"


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    """Writes the program, then builds and runs it for every (compiler, level), two at a time;
    returns (folder, expected, {build: output or the exception})."""
    if not shared_listing("golden"):
        pytest.skip(f"no goldens under {SHARED}/golden")
    folder = tmp_path_factory.mktemp("determinism")
    expected = suite(str(folder))
    outputs = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {pool.submit(_build_and_run, folder, target, level): (target, level)
                   for target, level in BUILDS if _available(target) is None}
        for future, build in futures.items():
            try:
                outputs[build] = future.result()
            except Exception as e:       # reported by that build's test
                outputs[build] = e
    return folder, expected, outputs


def _parse(output, count):
    crcs = {int(k): int(v, 16) for k, v in re.findall(r"case (\d+) (0x[0-9a-f]{8})", output)}
    assert len(crcs) == count, output[-2000:]
    return crcs


def _build_and_run(folder, target, level):
    if target in cortex_m.CPUS:
        elf = folder / f"suite-{target}{level}.elf"
        cortex_m.build([str(folder / "main.cpp")], str(elf), target, include_dirs=[runner.INCLUDE, str(folder)],
                       extra_flags=[level])
        assert_no_heap_or_exceptions(elf)    # every conformance network, at every level
        status, output = cortex_m.run(str(elf), target, timeout=600)
        assert status == 0, output[-2000:]
        return output
    binary = folder / f"suite-{target}{level}"
    source = "float_outputs.cpp" if (target, level) in FLOAT_ONLY else "main.cpp"
    subprocess.run([target, "-std=c++20", level, "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I", runner.INCLUDE,
                    "-I", str(folder), str(folder / source), "-o", str(binary)], check=True, capture_output=True)
    return subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("target, level", BUILDS, ids=[f"{t}{lv}" for t, lv in BUILDS])
def test_every_conformance_model_same_bytes(program, target, level):
    folder, expected, outputs = program
    missing = _available(target)
    if missing:
        pytest.skip(missing)
    output = outputs[(target, level)]
    if isinstance(output, Exception):
        raise output
    cases = [k for k, (_, want) in enumerate(expected) if want is None or (target, level) not in FLOAT_ONLY]
    crcs = _parse(output, len(cases))
    assert sorted(crcs) == cases, f"{target} {level}: ran cases {sorted(crcs)}"
    RESULTS[f"{target}{level}"] = crcs
    wrong = [expected[k][0] for k in cases if expected[k][1] is not None and crcs[k] != expected[k][1]]
    assert not wrong, f"{target} {level}: output differs from TFLM for {wrong}"


def test_all_builds_agree(program):
    """Float outputs have no bit-exact golden: all builds must still give the same bytes."""
    folder, expected, _ = program
    if len(RESULTS) < 2:
        pytest.skip("fewer than two builds ran")
    first_build, first = max(RESULTS.items(), key=lambda item: len(item[1]))   # a build of every case
    for build, crcs in RESULTS.items():
        differ = [expected[k][0] for k in crcs if crcs[k] != first[k]]
        assert not differ, f"{build} and {first_build} differ on {differ}"
