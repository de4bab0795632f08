"""A sample of TFLM's single-op conformance set (../shared/conformance/tflm-ops) on Cortex-M4
under QEMU: one case per claimed op and element type (input and output type: int8, int16,
float32, ...), and one with `invokes_per_run` (state kept across invokes: SVDF) per op that has
one, every run of it that has an expected output, byte for byte with TFLM.

The cases, GAPS and comparison rules (undefined_runs, failed_runs, NaN matches NaN) are
test_tflm_ops.py's. All sample cases go into ONE Cortex-M4 image (one build, cached like the host
program by many_networks.build_once), built with the harness's flags (targets/cortex-m, cortex_m.py:
-Wpedantic -Werror). It reads each run's inputs in place through a `cases` link to the set in QEMU's
working directory and writes the outputs there (semihosting file calls), then the test compares them.
"""

import os

import numpy as np
import pytest

import synthetic_models as sm
from conftest import placeholder_if_empty
from many_networks import build_once
from test_tflm_ops import MISSING, ROOT, SUPPORTED_CASES, Case, check
from tinynet_py import cortex_m, emit, prune, runner
from tinynet_py.reference import Interpreter
from tinynet_py.tflite import parse_model

CPU = "cortex-m4"

# The PACK and SPLIT cases of this sample found a GCC bug: arm-none-eabi-g++ 12.2 at -O1/-O2
# deleted the call to an op's run_op (judged free of side effects), leaving the output at zero.
# Network::run_op is noipa for GCC since (include/tinynet/graph/network.hpp).


def _sample():
    """The first case (in name order) of every (op, input types, output types)."""
    chosen = {}
    for name in SUPPORTED_CASES:
        if name is None:
            continue
        model = Case(name).model
        key = (name.split("/")[0], tuple(model.tensors[i].dtype for i in model.inputs),
               tuple(model.tensors[i].dtype for i in model.outputs), Case(name).invokes > 1)
        chosen.setdefault(key, name)
    return sorted(chosen.values())


SAMPLE = placeholder_if_empty(_sample(), MISSING)


def _sparse_cases():
    """Pruned Conv2D and DepthwiseConv2D in each sparse form, in the same image: [(label, model,
    form, input)], the expected bytes being the numpy reference's (tests/conformance/
    test_sparse_conv_forms.py runs every form and pattern on the host). The shapes reach the DSP
    paths of the sparse kernels: a 1x1 conv over an odd pixel count (a last pass of four pixels
    with one real), over 136 channels (columns past LDRD's immediate offset) and over 520 (two
    pixels per pass: four pixels' paired columns would pass 4 KB); a 3x3 conv over
    three channels (a first layer: kernel rows copied as runs of 9 bytes, borders mixed) and with
    stride 2; a 2x3 conv with dilation (2, 1), stride (1, 2), VALID; depthwise over 16 channels,
    over 6 with multiplier 2 (border windows that are not whole words) and over 12 with stride 2;
    a 3x3 conv and depthwise over an image 2 pixels wide (SAME: the field is wider than the image).
    Convolutions also run 2:4 and 1:4 in `nm` and 80 % in `auto`, and unpruned in `dense`: over
    5 and 6 output channels the widened DSP kernels (the few-channel one for three input channels)
    read their last one or two channels from rows of their own (kernels::tail_rows)."""
    layers = (("conv1x1", sm.conv_case("m4 sparse 1x1", (1, 5, 5, 16), 12, (1, 1))),
              ("conv3x3", sm.conv_case("m4 sparse 3x3", (1, 6, 5, 8), 6, (3, 3), stride=(2, 2))),
              ("dw", sm.depthwise_case("m4 sparse dw", (1, 6, 5, 16), 1, (3, 3))),
              ("conv1x1 deep", sm.conv_case("m4 sparse 1x1 deep", (1, 3, 3, 136), 9, (1, 1), in_zp=-128)),
              ("conv1x1 520", sm.conv_case("m4 sparse 1x1 520", (1, 1, 5, 520), 6, (1, 1))),
              ("conv3x3 c3", sm.conv_case("m4 sparse 3x3 c3", (1, 7, 9, 3), 8, (3, 3), activation="RELU")),
              ("conv2x3 dilated", sm.conv_case("m4 sparse 2x3 dilated", (1, 9, 8, 5), 6, (2, 3), stride=(1, 2),
                                               dilation=(2, 1), padding="VALID")),
              ("dw c6 m2", sm.depthwise_case("m4 sparse dw c6 m2", (1, 5, 7, 6), 2, (3, 3))),
              ("dw c12 s2", sm.depthwise_case("m4 sparse dw c12 s2", (1, 7, 6, 12), 1, (3, 3), stride=(2, 2),
                                              activation="RELU6")),
              ("conv3x3 narrow", sm.conv_case("m4 sparse 3x3 narrow", (1, 6, 2, 3), 5, (3, 3))),
              ("dw narrow", sm.depthwise_case("m4 sparse dw narrow", (1, 5, 2, 8), 1, (3, 3))))
    cases = []
    for name, case in layers:
        model = parse_model(case.data)
        x = np.random.RandomState(len(cases)).randint(-128, 128, model.tensors[model.inputs[0]].shape).astype(np.int8)
        conv = model.ops[0].opcode == "CONV_2D"
        u80 = prune.prune_synapses(model, 0.8, "layer")[0]
        two_of_four = prune.prune_pattern(model, 0.0, "2:4")[0]
        runs = [("u80", u80, "unrolled"), ("u80", u80, "compressed"), ("2:4", two_of_four, "unrolled"),
                ("2:4", two_of_four, "compressed")]
        if conv:
            runs += [("u80", u80, "auto"), ("0", model, "dense"), ("2:4", two_of_four, "nm"),
                     ("1:4", prune.prune_pattern(model, 0.0, "1:4")[0], "nm")]
        cases += [(f"{name} {pruning} {form}", pruned, form, x) for pruning, pruned, form in runs]
    return cases


SPARSE = _sparse_cases()


def _c_string(text):
    assert all(c.isalnum() or c in "/._-" for c in text), f"unexpected character in file name {text!r}"
    return f'"{text}"'


def _program(cases, sparse=()):
    """app_main: for every (case, run) in order, from the case's reset state, reads the run's
    inputs and invokes the case's network (invokes_per_run times), writes its outputs; returns 10 + k if (case, run) number k fails (3: cannot read an
    input, 4: cannot write an output, reported on the console)."""
    parts = ["// tinynet tflm-ops Cortex-M sample (generated by test_tflm_ops_cortex_m.py)",
             "#include <cstddef>", "#include <cstdint>", '#include "semihost.hpp"', ""]
    parts += [f'#include "case_{k}.hpp"' for k in range(len(cases) + len(sparse))]
    parts.append("\nconstexpr auto ok = semihost::FileStatus::ok;")
    calls = []
    for k, (namespace, case) in enumerate(cases):
        inputs, outputs = len(case.model.inputs), len(case.model.outputs)
        reads = "\n".join(f"  if (semihost::read_file(in[{i}], instance.input<{i}>()) != ok) return 3;" for i in range(inputs))
        writes = "\n".join(f"  if (semihost::write_file(out[{j}], instance.output<{j}>()) != ok) return 4;"
                           for j in range(outputs))
        parts.append(f"static int run_{k}(const char* const* in, const char* const* out) {{\n"
                     f"  static tinynet::Instance<{namespace}::network> instance;\n"
                     f"  instance.reset();\n"
                     f"  for (int n = 0; n < {case.invokes}; ++n) {{\n{reads}\n    instance.invoke();\n  }}\n"
                     f"{writes}\n  return 0;\n}}\n")
        for r, run in case.runs:
            n = len(calls)
            ins = ", ".join(_c_string(f"cases/{case.name}/{f}") for f in run["inputs"])
            outs = ", ".join(_c_string(f"out_{k}_{r}_{j}.bin") for j in range(outputs))
            parts.append(f"static const char* const in_{n}[] = {{{ins}}};\n"
                         f"static const char* const out_{n}[] = {{{outs}}};")
            calls.append(f'  if (const int status = run_{k}(in_{n}, out_{n}); status != 0) {{\n'
                         f'    semihost::print("{case.name} run {r}: status ", status, "\\n");\n'
                         f"    return 10 + {n};\n  }}")
    for i, namespace in enumerate(sparse):
        parts.append(f"static int sparse_{i}() {{\n"
                     f"  static tinynet::Instance<{namespace}::network> instance;\n"
                     f'  if (semihost::read_file("sparse_in_{i}.bin", instance.input<0>()) != ok) return 3;\n'
                     f"  instance.invoke();\n"
                     f'  if (semihost::write_file("sparse_out_{i}.bin", instance.output<0>()) != ok) return 4;\n'
                     f"  return 0;\n}}\n")
        calls.append(f'  if (const int status = sparse_{i}(); status != 0) {{\n'
                     f'    semihost::print("sparse case {i}: status ", status, "\\n");\n'
                     f"    return 10 + {len(calls)};\n  }}")
    parts.append('\nextern "C" int app_main() {\n' + "\n".join(calls) + "\n  return 0;\n}\n")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Builds the one image (cached) and runs it once; (case name, run) -> output file paths."""
    missing = cortex_m.available(CPU)
    if missing:
        pytest.skip(missing)
    cases, texts = [], []
    for name in SAMPLE:
        case = Case(name)
        namespace = f"sample_case_{len(cases)}"
        texts.append(emit.generate_header(case.model, namespace))
        cases.append((namespace, case))
    sparse_namespaces = []
    for i, (_, model, form, _) in enumerate(SPARSE):
        sparse_namespaces.append(f"sparse_case_{i}")
        texts.append(emit.generate_header(model, sparse_namespaces[-1], sparse=form))
    command = cortex_m.build_command(["main.cpp"], "image.elf", CPU)

    def build(folder, output):   # raises with the compiler's errors
        cortex_m.build([os.path.join(folder, "main.cpp")], output, CPU, include_dirs=[runner.INCLUDE, folder])

    elf = build_once("tflm-ops-m4", texts, _program(cases, sparse_namespaces),
                     [" ".join(command), cortex_m.harness_digest()], "image.elf", build)
    work = tmp_path_factory.mktemp("tflm-ops-m4")
    (work / "cases").symlink_to(ROOT, target_is_directory=True)
    for i, (_, _, _, x) in enumerate(SPARSE):
        x.tofile(work / f"sparse_in_{i}.bin")
    status, console = cortex_m.run(elf, CPU, cwd=str(work), timeout=300)
    assert status == 0, f"the Cortex-M4 tflm-ops image exited with {status}: {console.strip()[-2000:]}"
    paths = {(case.name, r): [str(work / f"out_{k}_{r}_{j}.bin") for j in range(len(case.model.outputs))]
             for k, (_, case) in enumerate(cases) for r, _ in case.runs}
    paths.update({("sparse", i): [str(work / f"sparse_out_{i}.bin")] for i in range(len(SPARSE))})
    return paths


# Float ops whose result is a C library function that IEEE 754 does not require to be correctly
# rounded: TFLM's expected bytes come from glibc (the set's README: "another libm may differ in the
# last bit"), the device's from newlib. Their float32 outputs may differ by one unit in the last
# place on the device; everything else (integers, sqrt, division) is compared byte for byte.
LIBM_OPS = {"exp", "log"}


def within_one_ulp(got, want):
    """Both float32 byte strings of the same length, every value within one ulp (NaN matches NaN)."""
    if len(got) != len(want):
        return False
    a, b = np.frombuffer(got, np.float32), np.frombuffer(want, np.float32)
    # Ordered integer images of the floats: adjacent floats differ by 1.
    ordered = [np.where(x.view(np.int32) < 0, np.int32(-2**31) - x.view(np.int32), x.view(np.int32)).astype(np.int64)
               for x in (a, b)]
    nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(nan | (np.abs(ordered[0] - ordered[1]) <= 1)))


@pytest.mark.parametrize("name", SAMPLE)
def test_cortex_m4_matches_tflm(name, outputs):
    case = Case(name)
    assert case.runs, "no run with an expected output"
    libm = name.split("/")[0] in LIBM_OPS and case.output_dtypes() == ["float32"]
    for k, run in case.runs:
        got = [open(p, "rb").read() for p in outputs[(name, k)]]
        if libm:
            assert within_one_ulp(got[0], case.expected(run)[0]), \
                f"{name} run {k} on {CPU}: more than one ulp from TFLM's glibc result"
            continue
        problem = check(case, run, got)
        assert problem is None, f"{name} run {k} on {CPU}: {problem}"


def test_within_one_ulp():
    one = np.float32(1.0)
    up = np.nextafter(one, np.float32(2))
    two_up = np.nextafter(up, np.float32(2))
    as_bytes = lambda *v: np.array(v, np.float32).tobytes()
    assert within_one_ulp(as_bytes(1.0, -0.0), as_bytes(1.0, 0.0))
    assert within_one_ulp(as_bytes(up), as_bytes(one))
    assert not within_one_ulp(as_bytes(two_up), as_bytes(one))
    assert not within_one_ulp(as_bytes(-1.0), as_bytes(1.0))
    assert within_one_ulp(as_bytes(np.nan), as_bytes(np.nan))
    assert not within_one_ulp(as_bytes(np.nan), as_bytes(1.0))


@pytest.mark.parametrize("index", range(len(SPARSE)), ids=[c[0] for c in SPARSE])
def test_cortex_m4_sparse_forms_match_the_reference(index, outputs):
    label, model, form, x = SPARSE[index]
    want = Interpreter(model).invoke([x])[0].reshape(-1)
    got = np.fromfile(outputs[("sparse", index)][0], np.int8)
    np.testing.assert_array_equal(got, want, err_msg=f"{label} (--sparse {form}) on {CPU}")
    assert len(set(want.tolist())) > 3     # not a degenerate output
