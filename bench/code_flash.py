#!/usr/bin/python3
"""Code flash of each model's Cortex-M4 runner: the bytes of its functions (ELF symbols of type
FUNC in flash sections: instructions and their literal pools) apart from its constant data
(OBJECT symbols: weights, widened tables, records). Issue 14 asks that code flash not grow while
the tables may; `tinynet bench`'s flash column adds both.

    bench/code_flash.py                       # this checkout
    bench/code_flash.py --repo /tmp/wt-old    # another checkout (a git worktree of an older commit)

Each model's runner is built by that checkout's `scripts/tinynet run MODEL --target cortex-m4` on
its first golden input (the same runner `tinynet bench` measures), in a fresh build cache, and
read with arm-none-eabi-readelf. Prints one JSON object per model.
"""
import argparse
import glob
import json
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHARED = pathlib.Path(os.environ.get("TINYNET_SHARED", ROOT.parent / "shared"))
MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"]
FLASH_SECTIONS = (".text", ".rodata", ".ARM")


def symbol_bytes(elf):
    """(function bytes, constant data bytes) of the ELF's symbols in flash sections."""
    sections = subprocess.run(["arm-none-eabi-readelf", "-SW", elf], capture_output=True, text=True, check=True).stdout
    flash = set()
    for line in sections.splitlines():
        if "]" in line and line.strip().startswith("["):
            index, rest = line.split("[", 1)[1].split("]", 1)
            fields = rest.split()
            if fields and fields[0].startswith(FLASH_SECTIONS):
                flash.add(index.strip())
    symbols = subprocess.run(["arm-none-eabi-readelf", "-sW", elf], capture_output=True, text=True, check=True).stdout
    code = data = 0
    for line in symbols.splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].rstrip(":").isdigit() and f[6] in flash:
            size = int(f[2], 0)
            if f[3] == "FUNC":
                code += size
            elif f[3] == "OBJECT":
                data += size
    return code, data


def measure(repo, model, cache):
    golden = sorted((SHARED / "golden" / model).glob("in_*.bin"))
    if not golden:
        sys.exit(f"code_flash.py: error: no golden input under {SHARED / 'golden' / model}")
    before = set(glob.glob(os.path.join(cache, "cortex-m4-*")))
    with tempfile.TemporaryDirectory(prefix="tinynet-code-flash-") as work:
        done = subprocess.run([os.path.join(repo, "scripts", "tinynet"), "run", str(SHARED / "models" / "mlperf-tiny" / f"{model}.tflite"),
                               "--target", "cortex-m4", "--input", str(golden[0]), "--output", os.path.join(work, "out.bin")],
                              capture_output=True, text=True, cwd=repo, env=dict(os.environ, TINYNET_CACHE=cache))
    if done.returncode != 0:
        sys.exit(f"code_flash.py: error: tinynet run {model} failed: {done.stderr[-2000:]}")
    built = [e for d in sorted(set(glob.glob(os.path.join(cache, "cortex-m4-*"))) - before) for e in glob.glob(os.path.join(d, "*.elf"))]
    if len(built) != 1:
        sys.exit(f"code_flash.py: error: expected one new runner ELF for {model}, found {built}")
    code, data = symbol_bytes(built[0])
    return {"model": model, "code_bytes": code, "data_bytes": data}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", default=str(ROOT), help="the tinynet checkout to measure (default: this one)")
    parser.add_argument("models", nargs="*", default=MODELS, help="MLPerf Tiny models under ../shared/models/mlperf-tiny")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tinynet-code-flash-cache-") as cache:
        for model in args.models:
            print(json.dumps(measure(os.path.abspath(args.repo), model, cache)), flush=True)


if __name__ == "__main__":
    main()
