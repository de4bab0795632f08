"""`tinynet bench`: instructions, time, flash and RAM of a model's network, measured."""

import json
import os
import resource
import shutil
import subprocess
import tempfile
import time

import numpy as np

from .. import cortex_m, emit, runner
from ..analysis import summary
from ..errors import ModelError, TinynetError, UsageError
from ..ir import DTYPES
from .. import pipeline
from .convert_cmd import default_namespace, header_for

NAME = "bench"
HELP = "measure a model: instructions per inference on Cortex-M (QEMU), time on the host, flash, RAM"
DESCRIPTION = """Builds the network into a runner and measures it. Cortex-M targets run under
qemu-system-arm with -icount shift=6 and count the instructions of the second inference with the
CMSDK dual timer, exactly as ../shared/anchors.md measured TensorFlow Lite Micro. On cortex-m4,
cycles_estimate is an estimate of the Cortex-M4 cycles of that inference: the same run again with
a QEMU plugin counting every executed instruction, weighted by the instruction timings of Arm's
Cortex-M4 Technical Reference Manual (zero wait states, no cache; docs/performance.md, "Cycles",
says how and what it leaves out; not a measurement); flash is text + data of the runner minus the
same runner without a network, and flash_constant_bytes the part of it that is data objects
(weights and every other table, as the build stores them; the rest is code), which weight_bytes,
the network's compile-time Net::weight_bytes for that target (what a static_assert budget sees),
estimates, and data_by_table the network's objects by table (the last name in each symbol:
weights, folded_bias, the kernels' own layouts such as wide_rows); RAM is the arena plus the
network's other static data plus the measured peak stack (of the whole runner, an upper bound).
The host target times invoke() with Google Benchmark (median of 5 repetitions). The input is the
model's zero point everywhere unless --input is given. Compile time and compiler peak memory are
reported too."""
EPILOG = """examples:
  tinynet bench kws_ref_model.tflite --target cortex-m4
  tinynet bench micro_speech_quantized.tflite --cascade kws_ref_model.tflite   (two networks, one arena)
  tinynet bench kws_ref_model.tflite --target host --json
  tinynet bench ad01_int8.tflite --prune-synapses 0.9 --sparse compressed --target cortex-m4
  tinynet bench kws_ref_model.tflite --per-layer      (instructions and data bytes of every layer)
  tinynet bench kws_ref_model.tflite --prune-synapses 0.8 --optimize size    (built with -Os)"""

TARGETS = ("host",) + tuple(cortex_m.CPUS)


def add_arguments(parser):
    pipeline.add_model_argument(parser)
    parser.add_argument("--target", choices=TARGETS, default="cortex-m4", help="default: cortex-m4")
    parser.add_argument("--input", metavar="IN", help="input tensor (raw bytes of its dtype)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--cascade", metavar="MODEL2",
                        help="Cortex-M only: also measure MODEL2 (same flags) and report the RAM of the two "
                             "run one after the other in one tinynet::SharedArena (the larger arena) against "
                             "two arenas of their own")
    parser.add_argument("--per-layer", action="store_true",
                        help="Cortex-M only: also count the instructions of every layer (a second build "
                             "with a timer read after each op; the headline figures come from the "
                             "normal build) and the bytes of its weights and tables in that image")
    pipeline.add_optimize_argument(parser)
    pipeline.add_compression_arguments(parser)


def input_file(model, path, folder):
    tensor = model.tensors[model.inputs[0]]
    target = os.path.join(folder, "in0.bin")
    if path:
        shutil.copyfile(path, target)
    else:
        dtype = np.dtype(DTYPES[tensor.dtype])
        np.full(tensor.num_elements, tensor.zero_point_scalar if tensor.is_quantized else 0, dtype).tofile(target)
    return target


def _timed(build):
    """Runs build() and returns (result, seconds, peak KiB of the largest compiler process)."""
    start = time.monotonic()
    result = build()
    seconds = time.monotonic() - start
    return result, seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def run(args):
    if args.per_layer and args.target == "host":
        raise UsageError(None, "--per-layer counts instructions: use a Cortex-M --target")
    cascade = getattr(args, "cascade", None)
    if cascade and args.target == "host":
        raise UsageError(None, "--cascade reports RAM with the measured stack: use a Cortex-M --target")
    if cascade and args.input:
        raise UsageError(None, "--cascade measures both models on their zero-point input: leave out --input")
    figures, prepared = _measure(args, args.model, args.input)
    if cascade:
        second, _ = _measure(args, cascade, None)
        figures["cascade"] = _cascade_figures(figures, second)
    if prepared.evaluation is not None:
        figures["eval"] = {v["name"]: v.get("accuracy", v.get("mae")) for v in prepared.evaluation["variants"]}
    if args.json:
        print(json.dumps(figures))
    else:
        layers = figures.pop("layers", None)
        cascade_rows = figures.pop("cascade", None)
        cycle_classes = figures.pop("cycle_classes", None)
        data_by_table = figures.pop("data_by_table", None)
        width = max(len(k) for k in figures)
        for key, value in figures.items():
            print(f"{key:<{width}}  {value:,}" if isinstance(value, int) else f"{key:<{width}}  {value}")
        if cycle_classes:
            print("cycles estimate by instruction class (executions; Cortex-M4 TRM timings, docs/performance.md):")
            print("  " + ", ".join(f"{k} {v:,}" for k, v in cycle_classes.items()))
        if data_by_table:
            print("the network's data objects by table (bytes, in the image; the op names in their symbols):")
            print("  " + ", ".join(f"{k} {v:,}" for k, v in data_by_table.items()))
        if layers:
            print()
            print(_layer_table(layers))
        if cascade_rows:
            print()
            print(f"cascade: {figures['model']} then {cascade_rows['second_model']}, one SharedArena")
            width = max(len(k) for k in cascade_rows)
            for key, value in cascade_rows.items():
                print(f"  {key:<{width}}  {value:,}" if isinstance(value, int) else f"  {key:<{width}}  {value}")
    return 0


def _measure(args, path, input_path):
    """The figures of one model (converted with args' flags) on args.target; (figures, Prepared)."""
    namespace = default_namespace(path)
    prepared, text = header_for(args if path == args.model else _with_model(args, path), namespace)
    model = prepared.model
    if len(model.inputs) != 1:
        raise ModelError(path, f"bench handles models with one input; this one has {len(model.inputs)}")
    info = summary(model, pipeline.build_of(args))
    figures = {"model": os.path.basename(path), "target": args.target, "macs": int(info["totals"]["macs"])}
    optimize = pipeline.OPTIMIZE_FLAGS[getattr(args, "optimize", "speed")]
    if optimize:
        figures["optimize"] = args.optimize
    # A fresh cache folder keyed by nothing: compile time must be measured, not read from cache.
    with tempfile.TemporaryDirectory(prefix="tinynet-bench-") as work:
        os.environ["TINYNET_CACHE"] = os.path.join(work, "cache")
        inp = input_file(model, input_path, work)
        if args.target == "host":
            figures.update(_bench_host(text, namespace, model, inp, work, optimize))
        else:
            figures.update(_bench_cortex_m(text, namespace, model, inp, args.target, optimize))
            if args.per_layer:
                figures["layers"] = per_layer_instructions(text, namespace, model, inp, args.target, info, optimize)["layers"]
    return figures, prepared


def _with_model(args, path):
    other = type(args)(**vars(args))
    other.model = path
    return other


def _cascade_figures(first, second):
    """Two networks run one after the other (a cascade: the first decides whether the second runs).
    In one tinynet::SharedArena they take the larger arena (SharedArena<A, B>::arena_bytes); apart,
    both arenas. The rest of the RAM (static data, the measured peak stack) is the larger of the
    two runners' either way, since one program runs one network at a time."""
    arenas = (first["arena_bytes"], second["arena_bytes"])
    other = max(first["ram_bytes"] - arenas[0], second["ram_bytes"] - arenas[1])
    return {
        "second_model": second["model"],
        "second_instructions": second["instructions"],
        "second_arena_bytes": arenas[1],
        "shared_arena_bytes": max(arenas),
        "separate_arena_bytes": sum(arenas),
        "shared_ram_bytes": max(arenas) + other,
        "separate_ram_bytes": sum(arenas) + other,
    }


def per_layer_instructions(text, namespace, model, inp, cpu, info, optimize=()):
    """Instructions of every op (a build whose runner reads the timer after each op), and the
    bytes of the data objects that build keeps for it (data_bytes: weights and tables as the
    target's kernels store them, attributed by the op names in their symbols: data_objects()); `bench
    --per-layer` and `report --target` show them. inp: an input file (input_file()); optimize:
    pipeline.OPTIMIZE_FLAGS' flags. Returns {"layers": a row per op, "stack_bytes": that run's
    peak stack (the whole runner's, an upper bound for the network's)}."""
    elf = runner.build_cortex_m(text, namespace, model, cpu, extra_flags=("-DTINYNET_PER_LAYER", *optimize))
    scratch = [os.path.join(os.path.dirname(inp), f"layer_out{k}.bin") for k in range(len(model.outputs))]
    measured = runner.run_cortex_m(elf, cpu, [inp], scratch, model)
    by_op = {}
    for op, _, size in data_objects(elf, namespace, model):
        by_op[op] = by_op.get(op, 0) + size
    rows = []
    for row in info["layers"]:
        key = f"layer {len(rows)}"
        if key not in measured:
            break
        instructions = measured[key]
        rows.append({"index": len(rows), "op": row["op"], "name": row["name"], "output": row["output"],
                     "macs": row["macs"], "instructions": instructions,
                     "instructions_per_mac": round(instructions / row["macs"], 2) if row["macs"] else None,
                     "data_bytes": by_op.get(row["index"], 0)})
    return {"layers": rows, "stack_bytes": measured["stack_bytes"]}


def data_objects(elf, namespace, model):
    """The data objects of a runner ELF that belong to the network's ops, as (op index, table
    name, bytes): cortex_m.constant_objects() attributed by emit.op_of_symbol() and named by
    cortex_m.table_name(), the header's own arrays by what they hold (weights, bias, ...). The
    harness's objects name no op and are left out."""
    prefixes = {op.index: emit.op_prefix(op) + "_" for op in model.ops}
    out = []
    for size, symbol in cortex_m.constant_objects(elf):
        op = emit.op_of_symbol(symbol, namespace)
        if op is None:
            continue
        name = cortex_m.table_name(symbol)
        if op in prefixes and name.startswith(prefixes[op]):
            name = name[len(prefixes[op]):]
        out.append((op, name, size))
    return out


def bytes_by_table(objects):
    """{table name: bytes} over data_objects(), largest first."""
    sums = {}
    for _, name, size in objects:
        sums[name] = sums.get(name, 0) + size
    return dict(sorted(sums.items(), key=lambda kv: (-kv[1], kv[0])))


def _layer_table(layers):
    total = sum(r["instructions"] for r in layers) or 1
    lines = [f"{'#':>3}  {'op':<18} {'output':<18} {'MACs':>11} {'instructions':>13} {'share':>6} {'instr/MAC':>9} "
             f"{'data B':>8}"]
    for r in layers:
        per_mac = f"{r['instructions_per_mac']:.2f}" if r["instructions_per_mac"] is not None else "-"
        shape = "x".join(str(d) for d in r["output"])
        lines.append(f"{r['index']:>3}  {r['op']:<18} {shape:<18} {r['macs']:>11,} {r['instructions']:>13,} "
                     f"{100 * r['instructions'] / total:>5.1f}% {per_mac:>9} {r['data_bytes']:>8,}")
    return "\n".join(lines)


def _bench_cortex_m(text, namespace, model, inp, cpu, optimize=()):
    missing = cortex_m.available(cpu)
    if missing:
        raise TinynetError(None, f"cannot bench on {cpu}: {missing}")
    elf, seconds, peak_kib = _timed(lambda: runner.build_cortex_m(text, namespace, model, cpu, extra_flags=optimize))
    outputs = [os.path.join(os.path.dirname(inp), f"bench_out{k}.bin") for k in range(len(model.outputs))]
    measured = runner.run_cortex_m(elf, cpu, [inp], outputs, model)
    baseline_elf = runner.build_cortex_m_baseline(cpu, optimize)
    status, output = cortex_m.run(baseline_elf, cpu, cwd=os.path.dirname(inp))
    if status != 0:
        raise TinynetError(None, f"the baseline runner failed under QEMU: {output.strip()}")
    text_n, data_n, bss_n = cortex_m.size(elf)
    text_b, data_b, bss_b = cortex_m.size(baseline_elf)
    arena = measured["arena_bytes"]
    # Peak stack of the whole runner (harness included: an upper bound for the network's).
    stack = measured["stack_bytes"]
    # Static RAM the network adds: its arena (in .bss) and any other data.
    static_ram = max((data_n + bss_n) - (data_b + bss_b), arena)
    cycles = {}
    if cpu == "cortex-m4":
        estimate = runner.estimate_cycles_cortex_m4(elf, [inp])
        # The plugin counts the timer's stretch of instructions: the same count, or the estimate
        # is of some other code.
        if abs(estimate["window"] - measured["instructions"]) > 2:
            raise TinynetError(elf, f"the cycle estimate counted {estimate['window']:,} instructions, the timer "
                                    f"{measured['instructions']:,}")
        cycles = {"cycles_estimate": estimate["cycles"],
                  "cycle_classes": dict(sorted(estimate["classes"].items()),
                                        taken_branches=estimate["taken_branches"],
                                        pipelined_loads_stores=estimate["pipelined_loads_stores"],
                                        address_stalls=estimate["address_stalls"])}
    return {
        "instructions": measured["instructions"],
        **cycles,
        "flash_bytes": (text_n + data_n) - (text_b + data_b),
        "flash_constant_bytes": cortex_m.constant_bytes(elf) - cortex_m.constant_bytes(baseline_elf),
        "weight_bytes": measured["weight_bytes"],
        # The network's part of flash_constant_bytes by table (weights, folded biases, the
        # kernels' own layouts such as wide_rows or quad_stages): what 4 bits or pruning shrink.
        "data_by_table": bytes_by_table(data_objects(elf, namespace, model)),
        "ram_bytes": static_ram + stack,
        "arena_bytes": arena,
        "stack_bytes": stack,
        "compile_seconds": round(seconds, 2),
        "compiler_peak_kib": peak_kib,
    }


def _bench_host(text, namespace, model, inp, work, optimize=()):
    folder = os.path.join(work, "host")
    os.makedirs(folder)
    with open(os.path.join(folder, runner.MODEL_HEADER), "w") as f:
        f.write(text)
    cxx = os.environ.get("TINYNET_CXX") or os.environ.get("CXX") or "g++"
    binary = os.path.join(folder, "bench")
    cmd = runner.host_bench_command(cxx, namespace, folder, binary, optimize)

    def build():
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise TinynetError(None, "compiling the host benchmark failed (is libbenchmark-dev installed?): "
                                     + proc.stderr[-2000:])
    _, seconds, peak_kib = _timed(build)
    proc = subprocess.run([binary, inp, "--benchmark_format=json"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinynetError(None, f"the host benchmark failed: {proc.stderr.strip()[-500:]}")
    report = json.loads(proc.stdout)
    median = next(b for b in report["benchmarks"] if b.get("aggregate_name") == "median")
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[median.get("time_unit", "ns")]
    return {
        "ns_per_inference": int(round(median["real_time"] * scale)),
        "arena_bytes": int(report["context"]["arena_bytes"]),   # bench_main.cpp's AddCustomContext
        "compile_seconds": round(seconds, 2),
        "compiler_peak_kib": peak_kib,
    }
