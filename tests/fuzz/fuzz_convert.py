#!/usr/bin/env python3
"""A seeded fuzzer for `tinynet convert`: mutates real .tflite models and checks that every case
ends either in a header that is correct for what the file says, or in a clean error.

    tests/fuzz/fuzz_convert.py --seed 1 --cases 300                     # what CI runs (~1-2 min)
    tests/fuzz/fuzz_convert.py --seed 7 --cases 20000 --compile 40      # a long run, on demand
    tests/fuzz/fuzz_convert.py --seed 7 --case 1234 --keep case.tflite  # replay one case

Models: the real models of ../shared/models and one model of each op of the int16 conformance set.
Mutations (each case applies one to four to one model): bit flips, runs of bytes, truncation, and
targeted ones found by walking the flatbuffer with the generator's own reader: uoffsets and vtable
offsets redirected (outside the buffer or elsewhere inside it), vector lengths, tensor shape
entries (huge, negative, zero), tensor types, builtin operator codes, padding and activation
enums, strides/filter sizes/axes, quantization scales (0, negative, NaN, inf, denormal, huge),
zero points out of range, buffer indices and buffer lengths that do not match the shape; and the
string fields (tensor and subgraph names, the description) overwritten with control characters,
line splices, comment ends, preprocessor lines and non-ASCII, which must reach the header only
escaped, inside comments.

Before the cases, a fixed corpus of hostile files built by tests/fuzz/hostile_corpus.py goes through
scripts/tinynet: pickles that try to run code (exit 2, one line, and their payload never runs),
TFLite and ONNX models whose names try to leave the header's comments (a safe header), and ONNX
files whose external data points outside their folder (exit 2).

A case passes when either
  * exit status 0, the header exists and no temporary file is left, the header is printable ASCII
    with no line splice, and any model text injected by a string mutation is on comment lines only;
    for a sample of these
    (--compile N, models up to 120 KB) the header is compiled with the host C++ compiler under
    ASan + UBSan and run on a random input, and its bytes must equal the numpy reference
    interpreter's for the same (mutated) file: the header is correct for what the file says;
  * exit status 2, exactly one line on stderr, `tinynet: error: <file>: <problem>`, no traceback,
    no "internal error", no output file and no temporary file left.
Anything else (a traceback, an internal error, a crash by signal, a hang past --timeout, exit 1,
a header that does not compile or computes other bytes) is a finding; findings are saved to
--findings DIR for replay, and the exit status is 1.

Most cases run the generator's entry point in a forked child (same code as the command line,
without Python's start-up cost); every --subprocess-every'th case runs scripts/tinynet itself.
"""

import argparse
import io
import os
import pathlib
import random
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))

import numpy as np  # noqa: E402

from tinynet_py import schema  # noqa: E402
from tinynet_py.errors import TinynetError  # noqa: E402
from tinynet_py.flatbuf import Buffer  # noqa: E402

TINYNET = ROOT / "scripts" / "tinynet"
SHARED = pathlib.Path(os.environ.get("TINYNET_SHARED", ROOT.parent / "shared"))
DEFAULT_MODELS = [
    "tflm-examples/hello_world_int8.tflite", "tflm-examples/hello_world_float.tflite",
    "tflm-examples/micro_speech_quantized.tflite", "mlperf-tiny/kws_ref_model.tflite",
    "mlperf-tiny/pretrainedResnet_quant.tflite", "mlperf-tiny/ad01_int8.tflite",
    "mlperf-tiny/vww_96_int8.tflite", "tflm-examples/trained_lstm_int8.tflite",
    # The 16x8 ops of the int16 conformance set (ADD, SUB, PAD, LEAKY_RELU, STRIDED_SLICE, QUANTIZE,
    # CONV_2D): ops and dtypes the real models do not have.
    "../conformance/tflm-seanet-int16/add/add0.tflite", "../conformance/tflm-seanet-int16/sub/sub0.tflite",
    "../conformance/tflm-seanet-int16/pad/pad0.tflite", "../conformance/tflm-seanet-int16/leaky_relu/leaky_relu0.tflite",
    "../conformance/tflm-seanet-int16/strided_slice/strided_slice0.tflite",
    "../conformance/tflm-seanet-int16/quantize/quantize0.tflite", "../conformance/tflm-seanet-int16/conv/conv0.tflite",
]
MEMORY_LIMIT = 3 << 30       # address space of one conversion (a corrupt size must not eat the machine)


# ---- where the fields are ----------------------------------------------------------------------

class Sites:
    """Byte positions of the fields a targeted mutation can hit, by kind: kind -> [(pos, width)]."""

    def __init__(self):
        self.by_kind = {}

    def add(self, kind, pos, width):
        if pos is not None:
            self.by_kind.setdefault(kind, []).append((pos, width))


def _field(table, field_id, width):
    try:
        return table._field_pos(field_id, width, f"field {field_id}")
    except TinynetError:
        return None


def _vector_sites(sites, table, field_id, kind, width):
    """The uoffset, the length and every element of a vector field."""
    pos = _field(table, field_id, 4)
    if pos is None:
        return None
    sites.add("uoffset", pos, 4)
    buf = table.buf
    start = pos + struct.unpack_from("<I", buf.data, pos)[0]
    if start + 4 > buf.size:
        return None
    count = struct.unpack_from("<I", buf.data, start)[0]
    sites.add("vector_length", start, 4)
    if kind:
        for i in range(min(count, 4096)):
            if start + 4 + (i + 1) * width <= buf.size:
                sites.add(kind, start + 4 + i * width, width)
    return start, count


def _string_site(sites, table, field_id):
    """A string field: its bytes (position, length), for the name mutations."""
    pos = _field(table, field_id, 4)
    if pos is None:
        return
    buf = table.buf
    start = pos + struct.unpack_from("<I", buf.data, pos)[0]
    if start + 4 <= buf.size:
        length = struct.unpack_from("<I", buf.data, start)[0]
        if 0 < length and start + 4 + length <= buf.size:
            sites.add("string", start + 4, length)


INJECTED = b"FUZZ"           # in every string payload: the header check looks for it
STRING_PAYLOADS = [b"\n#error FUZZ\n", b"FUZZ\\", b"\\", b"*/ FUZZ /*", b"\rFUZZ\r", b"\x00FUZZ", b"FUZZ??/",
                   b"\x0cFUZZ\x0b", b"\x1b[2JFUZZ", b"FUZZ\xc3\xa9\xe2\x80\xa8", b"#define FUZZ 1\n", b'"FUZZ\'',
                   b"\xffFUZZ\xfe", b"FUZZ" + bytes(range(32)) + b"\x7f"]


def locate(data):
    """Walks a valid model with the generator's reader and records the positions of its fields."""
    sites = Sites()
    buf = Buffer(data, "model")
    root = buf.root_table("Model")
    sites.add("uoffset", 0, 4)
    tables = [root]
    _string_site(sites, root, schema.MODEL_DESCRIPTION)
    for t in root.tables(schema.MODEL_OPERATOR_CODES, "operator_codes"):
        tables.append(t)
        sites.add("opcode", _field(t, schema.OPCODE_BUILTIN, 4), 4)
        sites.add("opcode_deprecated", _field(t, schema.OPCODE_DEPRECATED_BUILTIN, 1), 1)
    for t in root.tables(schema.MODEL_BUFFERS, "buffers"):
        tables.append(t)
        _vector_sites(sites, t, schema.BUFFER_DATA, None, 1)
    _vector_sites(sites, root, schema.MODEL_OPERATOR_CODES, "uoffset", 4)
    _vector_sites(sites, root, schema.MODEL_BUFFERS, "uoffset", 4)
    _vector_sites(sites, root, schema.MODEL_SUBGRAPHS, "uoffset", 4)
    for sg in root.tables(schema.MODEL_SUBGRAPHS, "subgraphs"):
        tables.append(sg)
        _string_site(sites, sg, schema.SUBGRAPH_NAME)
        _vector_sites(sites, sg, schema.SUBGRAPH_TENSORS, "uoffset", 4)
        _vector_sites(sites, sg, schema.SUBGRAPH_OPERATORS, "uoffset", 4)
        _vector_sites(sites, sg, schema.SUBGRAPH_INPUTS, "tensor_index", 4)
        _vector_sites(sites, sg, schema.SUBGRAPH_OUTPUTS, "tensor_index", 4)
        for t in sg.tables(schema.SUBGRAPH_TENSORS, "tensors"):
            tables.append(t)
            _string_site(sites, t, schema.TENSOR_NAME)
            _vector_sites(sites, t, schema.TENSOR_SHAPE, "shape_dim", 4)
            _vector_sites(sites, t, schema.TENSOR_SHAPE_SIGNATURE, "shape_dim", 4)
            sites.add("tensor_type", _field(t, schema.TENSOR_TYPE, 1), 1)
            sites.add("buffer_index", _field(t, schema.TENSOR_BUFFER, 4), 4)
            q = t.table(schema.TENSOR_QUANTIZATION, "quantization")
            if q is not None:
                tables.append(q)
                _vector_sites(sites, q, schema.QUANT_SCALE, "scale", 4)
                _vector_sites(sites, q, schema.QUANT_ZERO_POINT, "zero_point", 8)
                sites.add("quantized_dimension", _field(q, schema.QUANT_QUANTIZED_DIMENSION, 4), 4)
        for op in sg.tables(schema.SUBGRAPH_OPERATORS, "operators"):
            tables.append(op)
            sites.add("opcode_index", _field(op, schema.OPERATOR_OPCODE_INDEX, 4), 4)
            sites.add("options_type", _field(op, schema.OPERATOR_BUILTIN_OPTIONS_TYPE, 1), 1)
            _vector_sites(sites, op, schema.OPERATOR_INPUTS, "tensor_index", 4)
            _vector_sites(sites, op, schema.OPERATOR_OUTPUTS, "tensor_index", 4)
            options = op.table(schema.OPERATOR_BUILTIN_OPTIONS, "builtin_options")
            if options is None:
                continue
            tables.append(options)
            sites.add("uoffset", _field(op, schema.OPERATOR_BUILTIN_OPTIONS, 4), 4)
            # Every field of an options table: enums are bytes, the rest ints/floats (4 bytes).
            for fid in range(options.field_count):
                pos = _field(options, fid, 1)
                if pos is None:
                    continue
                room = options.pos + options.table_size - pos
                sites.add("option_byte", pos, 1)
                if room >= 4:
                    sites.add("option_word", pos, 4)
    for t in tables:
        sites.add("soffset", t.pos, 4)
        sites.add("vtable_entry", t.vtable, 2)
        for fid in range(t.field_count):
            sites.add("vtable_entry", t.vtable + 4 + 2 * fid, 2)
    return sites


# ---- mutations ------------------------------------------------------------------------------

def _put(data, pos, width, value, kind="int"):
    if pos + width > len(data):
        return
    if kind == "float":
        struct.pack_into("<f", data, pos, value)
        return
    fmt = {1: "<B", 2: "<H", 4: "<I", 8: "<Q"}[width]
    data[pos:pos + width] = struct.pack(fmt, value & ((1 << (8 * width)) - 1))


def _int_choice(rng, current, interesting):
    return rng.choice(interesting + [current + 1, current - 1, rng.randrange(-(1 << 31), 1 << 31)])


def mutate(data, sites, rng):
    """One mutation of `data` (a bytearray) in place; returns its description."""
    size = len(data)
    targeted = [k for k in sites.by_kind]
    roll = rng.random()
    if roll < 0.08:
        cut = rng.choice([rng.randrange(size), rng.randrange(min(size, 64)), size - rng.randrange(1, 16)])
        del data[max(cut, 0):]
        return f"truncate to {max(cut, 0)}"
    if roll < 0.18:
        pos = rng.randrange(size)
        flips = rng.randint(1, 8)
        for _ in range(flips):
            p = min(size - 1, pos + rng.randrange(-32, 33)) if rng.random() < 0.7 else rng.randrange(size)
            data[max(p, 0)] ^= 1 << rng.randrange(8)
        return f"{flips} bit flips near {pos}"
    if roll < 0.25:
        pos = rng.randrange(size)
        length = rng.randint(1, 64)
        fill = rng.choice([0x00, 0xFF, 0x7F, 0x80, None])
        run = bytes(rng.randrange(256) if fill is None else fill for _ in range(length))
        data[pos:pos + length] = run[:max(0, min(length, size - pos))]
        return f"byte run of {length} at {pos} ({'random' if fill is None else hex(fill)})"
    if roll < 0.28:
        pos = rng.randrange(size)
        if rng.random() < 0.5:
            length = rng.randint(1, 16)
            del data[pos:pos + length]
            return f"delete {length} bytes at {pos}"
        data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        return f"insert bytes at {pos}"
    kind = rng.choice(targeted)
    pos, width = rng.choice(sites.by_kind[kind])
    current = int.from_bytes(data[pos:pos + width], "little", signed=True) if pos + width <= size else 0
    if kind == "uoffset":
        # Outside the buffer, just inside its end, or at some other position.
        target = rng.choice([size + rng.randrange(1, 1 << 16), (1 << 32) - 1 - pos, size - pos - rng.randrange(1, 8),
                             rng.randrange(size) - pos, current + 4, current - 4, 0])
        _put(data, pos, 4, target)
        return f"uoffset at {pos} -> {target & 0xFFFFFFFF}"
    if kind == "soffset":
        value = rng.choice([pos + 1, -(size + 16), pos - size - 100, 1 << 31, 0, current + 2, current - 2,
                            rng.randrange(-(1 << 31), 1 << 31)])
        _put(data, pos, 4, value)
        return f"vtable soffset at {pos} -> {value}"
    if kind == "vtable_entry":
        value = rng.choice([0, 1, 3, 0xFFFF, 0x8000, current + 4, current - 4, rng.randrange(1 << 16)])
        _put(data, pos, 2, value)
        return f"vtable entry at {pos} -> {value & 0xFFFF}"
    if kind == "vector_length":
        value = rng.choice([0, 1, current + 1, current - 1, current * 2, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 30,
                            rng.randrange(1 << 32)])
        _put(data, pos, 4, value)
        return f"vector length at {pos}: {current} -> {value & 0xFFFFFFFF}"
    if kind == "shape_dim":
        value = rng.choice([0, -1, -7, 1, 3, 65536, 1 << 20, 0x7FFFFFFF, -(1 << 31), current + 1,
                            max(current - 1, 0), current * 2])
        _put(data, pos, 4, value)
        return f"shape entry at {pos}: {current} -> {value}"
    if kind == "tensor_type":
        value = rng.choice([-1, 1, 2, 3, 4, 5, 6, 7, 9, 0, 10, 17, 18, 19, 100, 127])
        _put(data, pos, 1, value)
        return f"tensor type at {pos}: {current} -> {value}"
    if kind in ("opcode", "opcode_deprecated"):
        value = rng.choice([-1, 162, 200, 255, 0x7FFFFFFF, 32, 44, 119, 0, 3, 4, 9, 22, 25, 34, 40, 41, 45,
                            rng.randrange(0, 162)])
        if kind == "opcode_deprecated":
            value = max(-128, min(value, 127))
        _put(data, pos, width, value)
        return f"{kind} at {pos}: {current} -> {value}"
    if kind in ("option_byte", "options_type"):
        value = rng.choice([-1, 2, 3, 4, 5, 6, 7, 127, 255, 0, 1, current + 1])
        _put(data, pos, 1, value)
        return f"{kind} at {pos}: {current} -> {value}"
    if kind == "option_word":
        if rng.random() < 0.3:
            value = rng.choice([float("nan"), float("inf"), -float("inf"), 0.0, -1.0, 1e30, 1e-40])
            _put(data, pos, 4, value, "float")
            return f"option float at {pos} -> {value}"
        value = rng.choice([0, -1, -3, 1, 2, 5, 1000, 65536, 0x7FFFFFFF, -(1 << 31), current + 1])
        _put(data, pos, 4, value)
        return f"option int at {pos}: {current} -> {value}"
    if kind == "scale":
        value = rng.choice([0.0, -0.5, float("nan"), float("inf"), -float("inf"), 1e-45, 1e-30, 1e38,
                            3.4e38, 1e-12, 1e12, 1.0])
        _put(data, pos, 4, value, "float")
        return f"scale at {pos} -> {value}"
    if kind == "zero_point":
        value = rng.choice([-129, 128, 255, -32769, 32768, 1 << 40, -(1 << 63), 127, -128, current + 200])
        _put(data, pos, 8, value)
        return f"zero point at {pos}: {current} -> {value}"
    if kind == "quantized_dimension":
        value = rng.choice([-1, 1, 2, 3, 4, 100, 0x7FFFFFFF])
        _put(data, pos, 4, value)
        return f"quantized_dimension at {pos} -> {value}"
    if kind in ("buffer_index", "tensor_index", "opcode_index"):
        value = rng.choice([-1, -2, 0, 1, 2, current + 1, current - 1, 1000, 0x7FFFFFFF, 0xFFFFFFFF])
        _put(data, pos, 4, value)
        return f"{kind} at {pos}: {current} -> {value}"
    if kind == "string":
        # Same length, so the file stays well-formed: the name itself is hostile.
        payload = rng.choice(STRING_PAYLOADS)
        if rng.random() < 0.3:
            payload = INJECTED + b"\\" * (width - len(INJECTED)) if width > len(INJECTED) else payload
        at = rng.randrange(max(1, width - len(payload) + 1)) if len(payload) < width else 0
        data[pos + at:pos + min(width, at + len(payload))] = payload[:width - at]
        return f"string at {pos} ({width} bytes) <- {payload[:width - at]!r} at {at}"
    raise AssertionError(kind)


def make_case(models, seed, case):
    """(model path, mutated bytes, list of mutation descriptions) of case number `case`."""
    rng = random.Random(f"{seed}:{case}")
    path, data, sites = rng.choice(models)
    mutated = bytearray(data)
    steps = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
        if len(mutated) < 16:                 # truncated to (almost) nothing: nothing left to mutate
            break
        steps.append(mutate(mutated, sites, rng))
    if not mutated:
        mutated = bytearray(b"\0")
    return path, bytes(mutated), steps


# ---- running one case -----------------------------------------------------------------------

def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_forked(model_path, out_path, timeout):
    """Runs tinynet's main(['convert', ...]) in a forked child; returns (status, stdout, stderr)
    with status None for a timeout and -signal for a crash."""
    from tinynet_py.cli.main import main
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:                              # the child: never returns
            code = 70
            try:
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", closefd=False), write_through=True)
                sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", closefd=False), write_through=True)
                _limit_memory()
                code = main(["convert", str(model_path), "-o", str(out_path), "--name", "fuzzed"])
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            except BaseException:                 # escaped main(): print it like Python would
                import traceback
                traceback.print_exc()
                code = 70
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code if isinstance(code, int) else 1)
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(raw)
                break
            time.sleep(0.005)
        if status is None:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        out.seek(0)
        err.seek(0)
        return status, out.read().decode(errors="replace"), err.read().decode(errors="replace")


def run_subprocess(model_path, out_path, timeout):
    try:
        proc = subprocess.run([str(TINYNET), "convert", str(model_path), "-o", str(out_path), "--name", "fuzzed"],
                              capture_output=True, text=True, timeout=timeout, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        return None, "", ""
    return proc.returncode, proc.stdout, proc.stderr


def classify(status, stdout, stderr, model_path, out_path):
    """None when the case ended as it must; otherwise a one-line description of the finding."""
    leftovers = [p.name for p in out_path.parent.iterdir() if p.name.startswith(".tinynet-")]
    if leftovers:
        return f"temporary files left behind: {leftovers}"
    if status is None:
        return "hang (timeout)"
    if status < 0:
        return f"crash: killed by signal {-status}"
    if "Traceback" in stderr or "Traceback" in stdout:
        return "traceback: " + stderr.strip().splitlines()[-1][:300]
    if status == 0:
        if not out_path.exists():
            return "exit status 0 but no header written"
        return header_is_safe(out_path)
    lines = stderr.splitlines()
    if out_path.exists():
        return f"exit status {status} but the header was written"
    if len(lines) != 1:
        return f"exit status {status} with {len(lines)} lines on stderr: {stderr.strip()[:300]!r}"
    if "internal error" in lines[0]:
        return "internal error: " + lines[0][:300]
    if status != 2:
        return f"exit status {status} (a bad model must give 2): {lines[0][:300]}"
    if not lines[0].startswith(f"tinynet: error: {model_path}: "):
        return f"the error line does not name the file: {lines[0][:300]}"
    return None


def header_is_safe(header_path, marker=INJECTED.decode()):
    """None, or what is wrong: the header must be printable ASCII, have no line splice, and hold
    model text (found by `marker`) only on comment lines."""
    raw = header_path.read_bytes()
    bad = [b for b in raw if not (0x20 <= b < 0x7F or b == 0x0A)]
    if bad:
        return f"the header holds bytes outside printable ASCII: {sorted(set(bad))[:8]}"
    for number, line in enumerate(raw.decode("ascii").split("\n"), 1):
        if line.endswith("\\"):
            return f"header line {number} ends with a backslash (a line splice): {line[:120]!r}"
        if marker in line and not line.lstrip().startswith("//"):
            return f"model text outside a comment on header line {number}: {line[:120]!r}"
    return None


def check_header(case_bytes, header_path, workdir, rng):
    """Compiles the header with the host compiler, runs it on a random input, and compares the
    output bytes with the numpy reference on the same (mutated) file. Returns None or a finding."""
    from tinynet_py import runner
    from tinynet_py.reference import Interpreter
    from tinynet_py.tflite import parse_model
    model = parse_model(case_bytes, "fuzzed.tflite")
    inputs = []
    for k, index in enumerate(model.inputs):
        t = model.tensors[index]
        dtype = np.dtype({"int8": np.int8, "int16": np.int16, "float32": np.float32, "int32": np.int32}[t.dtype])
        if dtype.kind == "f":
            x = np.asarray([rng.uniform(-2, 2) for _ in range(t.num_elements)], np.float32)
        else:
            info = np.iinfo(dtype)
            x = np.asarray([rng.randint(int(info.min), int(info.max)) for _ in range(t.num_elements)], dtype)
        inputs.append(x)
        x.tofile(workdir / f"in{k}.bin")
    try:
        want = Interpreter(model).invoke(inputs)
    except Exception as e:   # convert accepted a model that its own reference cannot run
        return f"convert wrote a header for a model the reference interpreter cannot run: {type(e).__name__}: {e}"
    try:
        # Under UBSan and ASan: a shift or multiplier the generator let through that the kernels
        # cannot take is a finding even when the bytes happen to agree.
        binary = runner.build_host(header_path.read_text(), "fuzzed", len(model.inputs), len(model.outputs),
                                   extra_flags=["-O1", "-Wno-error", "-fsanitize=address,undefined",
                                                "-fno-sanitize-recover=all"])
    except TinynetError as e:
        return "the header does not compile: " + " ".join(str(e).split())[:400]
    outs = [workdir / f"out{k}.bin" for k in range(len(model.outputs))]
    try:
        runner.run_host(binary, [workdir / f"in{k}.bin" for k in range(len(inputs))], outs)
    except TinynetError as e:
        return "the compiled header fails: " + str(e)[:300]
    for k, index in enumerate(model.outputs):
        t = model.tensors[index]
        got = np.fromfile(outs[k], want[k].dtype)
        ref = np.asarray(want[k]).reshape(-1)
        if t.dtype == "float32":
            if not np.allclose(got, ref, rtol=1e-4, atol=1e-4, equal_nan=True):
                return f"output {k}: C++ differs from the reference (max error {np.nanmax(np.abs(got - ref))})"
        elif got.tobytes() != ref.astype(got.dtype).tobytes():
            return f"output {k}: C++ bytes differ from the reference interpreter's"
    return None


# ---- the hostile corpus ---------------------------------------------------------------------

def run_corpus(work, timeout=60.0):
    """Runs the hostile files of hostile_corpus.py through scripts/tinynet; returns (number of files,
    findings as (name, what))."""
    import hostile_corpus as hc
    findings, count = [], 0

    def tinynet(*args):
        try:
            proc = subprocess.run([str(TINYNET), *map(str, args)], capture_output=True, text=True,
                                  timeout=timeout, preexec_fn=_limit_memory)
        except subprocess.TimeoutExpired:
            return None, ""
        return proc.returncode, proc.stderr

    def refused(name, path, marker=None, extra=()):
        status, stderr = tinynet("convert", path, "-o", work / "refused.hpp", *extra)
        lines = stderr.splitlines()
        if status != 2 or len(lines) != 1 or not lines[0].startswith(f"tinynet: error: {path}: "):
            findings.append((name, f"expected one error line and exit status 2, got {status}: {stderr.strip()[:300]!r}"))
        if marker is not None and marker.exists():
            findings.append((name, "the pickle's payload ran"))
        if (work / "refused.hpp").exists():
            findings.append((name, "a header was written"))

    for k, (label, data, _) in enumerate(hc.hostile_pickles(work / "marker")):
        marker = work / f"marker{k}"
        path = work / f"hostile{k}.pkl"
        path.write_bytes(hc.hostile_pickles(marker)[k][1])
        refused(f"pickle {label}", path, marker)
        count += 1
    models = [("tflite names", "names.tflite", lambda p: p.write_bytes(hc.tflite_with_names(hc.HOSTILE_NAMES)))]
    try:
        import onnx
        models.append(("onnx names", "names.onnx", lambda p: onnx.save(hc.onnx_with_names(hc.HOSTILE_NAMES), str(p))))
    except ImportError:
        onnx = None
    for name, file_name, write in models:
        path = work / file_name
        write(path)
        status, stderr = tinynet("convert", path, "-o", work / "names.hpp")
        count += 1
        if status != 0:
            findings.append((name, f"exit status {status}: {stderr.strip()[:300]!r}"))
            continue
        finding = header_is_safe(work / "names.hpp", hc.MARKER)
        if finding:
            findings.append((name, finding))
    if onnx is not None:
        folder = work / "external"
        folder.mkdir()
        model = hc.onnx_with_names([f"n{k}" for k in range(6)])
        onnx.save_model(model, str(folder / "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                        location="w.bin", size_threshold=0)
        refused("onnx external data without --allow-external-data", folder / "m.onnx")
        count += 1
        for location in ("../w.bin", "/etc/passwd", "a/../../w.bin"):
            model = onnx.load_model(str(folder / "m.onnx"), load_external_data=False)
            for t in model.graph.initializer:
                for entry in t.external_data:
                    if entry.key == "location":
                        entry.value = location
            onnx.save_model(model, str(folder / "m.onnx"))
            refused(f"onnx external data at {location}", folder / "m.onnx", extra=("--allow-external-data",))
            count += 1
    return count, findings


# ---- the run --------------------------------------------------------------------------------

def load_models(names):
    models = []
    for name in names:
        path = pathlib.Path(name)
        if not path.exists():
            path = SHARED / "models" / name
        if not path.exists():
            continue
        data = path.read_bytes()
        models.append((path, data, locate(data)))
    return models


def fuzz(seed, cases, model_names, timeout=60.0, compile_count=3, subprocess_every=10, findings_dir=None,
         only_case=None, keep=None, log=print, time_budget=None, compile_size_limit=120_000, corpus=True):
    """Runs the hostile corpus (unless only_case or not corpus), then the cases; returns a dict of
    counts and the list of findings (case, model, steps, what); corpus findings have case -1."""
    models = load_models(model_names)
    if not models:
        raise SystemExit(f"fuzz_convert: none of the models were found (looked under {SHARED / 'models'})")
    counts = {"ok": 0, "error": 0, "checked": 0, "subprocess": 0, "corpus": 0, "names": 0}
    findings = []
    started = time.monotonic()
    case_numbers = [only_case] if only_case is not None else range(cases)
    os.environ.setdefault("TINYNET_CACHE", tempfile.mkdtemp(prefix="tinynet-fuzz-cache-"))
    with tempfile.TemporaryDirectory(prefix="tinynet-fuzz-") as work:
        work = pathlib.Path(work)
        if corpus and only_case is None:
            (work / "corpus").mkdir()
            counts["corpus"], corpus_findings = run_corpus(work / "corpus", timeout)
            for name, what in corpus_findings:
                findings.append((-1, name, ["hostile corpus"], what))
                log(f"FINDING hostile corpus ({name}): {what}")
        for case in case_numbers:
            if time_budget and time.monotonic() - started > time_budget:
                log(f"time budget reached after {case} cases")
                break
            source, data, steps = make_case(models, seed, case)
            folder = work / f"case{case}"
            folder.mkdir()
            model_path = folder / source.name
            model_path.write_bytes(data)
            if keep:
                pathlib.Path(keep).write_bytes(data)
            out_path = folder / "out" / "fuzzed.hpp"
            out_path.parent.mkdir()
            use_subprocess = subprocess_every and case % subprocess_every == 0
            counts["subprocess"] += bool(use_subprocess)
            status, stdout, stderr = (run_subprocess if use_subprocess else run_forked)(model_path, out_path, timeout)
            finding = classify(status, stdout, stderr, model_path, out_path)
            if finding is None and status == 0:
                counts["ok"] += 1
                counts["names"] += any(step.startswith("string") for step in steps)   # a hostile name, escaped
                if counts["checked"] < compile_count and len(data) <= compile_size_limit:
                    counts["checked"] += 1
                    finding = check_header(data, out_path, folder, random.Random(f"{seed}:{case}:input"))
            elif finding is None:
                counts["error"] += 1
            if only_case is not None:
                log(f"case {case}: {source.name}: {'; '.join(steps)}: status {status}\n{stderr.strip()}")
            if finding:
                findings.append((case, source.name, steps, finding))
                log(f"FINDING case {case} ({source.name}: {'; '.join(steps)}): {finding}")
                if findings_dir:
                    os.makedirs(findings_dir, exist_ok=True)
                    pathlib.Path(findings_dir, f"seed{seed}-case{case}-{source.name}").write_bytes(data)
            for p in sorted(folder.rglob("*"), reverse=True):
                p.unlink() if p.is_file() else p.rmdir()
            folder.rmdir()
    counts["seconds"] = round(time.monotonic() - started, 1)
    return counts, findings


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--case", type=int, help="run only this case number (replay)")
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS,
                        help="model files, or paths under ../shared/models (default: the real models)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per conversion before it is a hang")
    parser.add_argument("--compile", type=int, default=3, dest="compile_count",
                        help="compile and run this many of the headers written (default 3)")
    parser.add_argument("--subprocess-every", type=int, default=10,
                        help="run every Nth case through scripts/tinynet in a new process (default 10)")
    parser.add_argument("--findings", metavar="DIR", help="save the model of every finding here")
    parser.add_argument("--keep", metavar="FILE", help="with --case: also write the mutated model here")
    parser.add_argument("--time-budget", type=float, help="stop after this many seconds")
    parser.add_argument("--no-corpus", action="store_true", help="skip the hostile corpus (pickles, names, external data)")
    args = parser.parse_args(argv)
    counts, findings = fuzz(args.seed, args.cases, args.models, args.timeout, args.compile_count,
                            args.subprocess_every, args.findings, args.case, args.keep,
                            time_budget=args.time_budget, corpus=not args.no_corpus)
    print(f"fuzz_convert: {counts['corpus']} hostile corpus files; seed {args.seed}: {counts['ok']} headers written ({counts['checked']} compiled "
          f"and compared), {counts['error']} clean errors ({counts['names']} headers of models with hostile names), {len(findings)} findings; "
          f"{counts['subprocess']} cases through scripts/tinynet; {counts['seconds']} s")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
