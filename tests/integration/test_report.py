"""`tinynet report`: the HTML page, its arena picture against the compiled network, the per-group
audit, and the page rendered by a real browser (headless Chromium)."""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

from conftest import ROOT, run_tinynet, shared_path

DIGITS_EXAMPLE = ROOT / "examples" / "digits"
RECT = re.compile(r'<rect class="tensor" data-tensors="([\d ]*)" data-offset="(\d+)" data-bytes="(\d+)" '
                  r'data-first="(-?\d+)" data-last="(-?\d+)"')


def _rects(page):
    return [{"tensors": [int(k) for k in m[0].split()], "offset": int(m[1]), "bytes": int(m[2]),
             "first": int(m[3]), "last": int(m[4])} for m in RECT.findall(page)]


@pytest.fixture(scope="module")
def digits_files(tmp_path_factory):
    """The digits example's MLP and its test set with the ink-band groups (examples/digits/train.py)."""
    pytest.importorskip("sklearn")
    sys.path.insert(0, str(DIGITS_EXAMPLE))
    try:
        import train
    finally:
        sys.path.remove(str(DIGITS_EXAMPLE))
    folder = tmp_path_factory.mktemp("digits")
    px_train, y_train, px_test, y_test = train.load_split()
    mlp = train.train_mlp(px_train / 16.0, y_train)
    import pickle
    (folder / "mlp.pkl").write_bytes(pickle.dumps(mlp))
    np.savez(folder / "calib.npz", x=(px_train[:200] / 16.0).astype(np.float32))
    groups = train.ink_groups(px_train, px_test)
    np.savez(folder / "test.npz", x=(px_test / 16.0).astype(np.float32), y=y_test.astype(np.int64), group=groups)
    return folder, groups, px_test


def test_digits_groups_are_ink_bands_of_the_training_set(digits_files):
    _, groups, px_test = digits_files
    ink = px_test.sum(axis=1)
    assert set(groups) == {"light", "medium", "heavy"}
    # every light image has less ink than every medium one, every medium less than every heavy one
    assert ink[groups == "light"].max() < ink[groups == "medium"].min()
    assert ink[groups == "medium"].max() < ink[groups == "heavy"].min()
    assert min((groups == g).sum() for g in ("light", "medium", "heavy")) > len(groups) / 5


def test_eval_flags_a_group_that_loses_clearly_more_than_the_average():
    from tinynet_py import evaluate
    base = {"a": 0.95, "b": 0.95, "c": 0.95}
    # overall drop 2 points: a group is flagged from 5 points on (2 + max(3, 1))
    assert evaluate.flag(base, {"a": 0.93, "b": 0.91, "c": 0.89}, 0.02) == ["c"]
    # overall drop 20 points: from 30 on (20 + max(3, 10))
    assert evaluate.flag(base, {"a": 0.70, "b": 0.66, "c": 0.63}, 0.20) == ["c"]
    assert evaluate.flag(base, {"a": 0.95, "b": 0.95, "c": 0.95}, 0.0) == []


def test_cli_eval_prints_the_per_group_table(tmp_path, digits_files):
    folder, groups, _ = digits_files
    # The table lists every group with its support and one accuracy per variant.
    result = run_tinynet("inspect", folder / "mlp.pkl", "--quantize", folder / "calib.npz",
                         "--eval", folder / "test.npz")
    assert result.returncode == 0, result.stderr
    table = result.stdout[result.stdout.index(" group  support"):]
    for g in ("light", "medium", "heavy"):
        row = next(line for line in table.splitlines() if line.split()[:1] == [g])
        assert int(row.split()[1]) == int((groups == g).sum())
        assert len(row.split()) >= 4          # support, float, int8
    # A 'group' of the wrong length is one usage error.
    data = np.load(folder / "test.npz")
    np.savez(tmp_path / "bad.npz", x=data["x"], y=data["y"], group=data["group"][:-1])
    bad = run_tinynet("inspect", folder / "mlp.pkl", "--eval", tmp_path / "bad.npz")
    assert bad.returncode == 2 and bad.stderr.startswith("tinynet: error:") and "'group'" in bad.stderr


OFFSETS_PROGRAM = """#include <cstdio>
#include "model.hpp"
using net = m::network;
#define SHOW(k) std::printf("%d %zu %zu\\n", k, net::offset_of<m::t##k>, m::t##k::bytes);
int main() {
  std::printf("arena %zu\\n", net::arena_bytes);
  %s
}
"""


def test_arena_picture_is_the_compiled_networks_plan(tmp_path):
    """Each rectangle of the report is where the compiled network puts its tensors: a separate
    program asks the network for offset_of<T> (what invoke() uses) of every tensor the page names."""
    model = shared_path("models", "tflm-examples", "micro_speech_quantized.tflite")
    page_path = tmp_path / "micro_speech.html"
    result = run_tinynet("report", model, "-o", page_path)
    assert result.returncode == 0, result.stderr
    page = page_path.read_text()
    rects = _rects(page)
    assert len(rects) == 4          # input and reshape (one buffer), depthwise, fully connected, softmax
    convert = run_tinynet("convert", model, "-o", tmp_path / "model.hpp", "--name", "m")
    assert convert.returncode == 0, convert.stderr
    named = sorted(k for r in rects for k in r["tensors"])
    program = tmp_path / "offsets.cpp"
    program.write_text(OFFSETS_PROGRAM.replace("%s", "\n  ".join(f"SHOW({k})" for k in named)))
    cxx = os.environ.get("TINYNET_CXX") or "g++"
    subprocess.run([cxx, "-std=c++20", "-I", ROOT / "include", "-I", tmp_path, program, "-o", tmp_path / "offsets"],
                   check=True)
    lines = subprocess.run([tmp_path / "offsets"], capture_output=True, text=True, check=True).stdout.split("\n")
    arena = int(lines[0].split()[1])
    compiled = {int(k): (int(o), int(b)) for k, o, b in (line.split() for line in lines[1:] if line)}
    assert set(compiled) == set(named)
    for r in rects:
        for k in r["tensors"]:
            assert compiled[k][0] == r["offset"], f"t{k}"
            assert compiled[k][1] <= r["bytes"]
        assert r["offset"] + r["bytes"] <= arena
    assert f"{arena:,} B" in page
    # The picture shows a valid plan: buffers alive at the same step never overlap.
    for a in rects:
        for b in rects:
            if a is not b and a["first"] <= b["last"] and b["first"] <= a["last"]:
                assert a["offset"] + a["bytes"] <= b["offset"] or b["offset"] + b["bytes"] <= a["offset"]
    # The RESHAPE's input and output are one buffer (one rectangle names both).
    assert any(len(r["tensors"]) == 2 for r in rects)
    # inspect's estimate (made without a compiler) ends where the compiled arena ends: 5,968 B,
    # a 16-byte multiple, though the last buffer ends at 5,960
    info = json.loads(run_tinynet("inspect", model, "--json").stdout)
    assert info["totals"]["arena_estimate_bytes"] == arena == 5968


def test_arena_estimate_and_picture_agree_for_either_build_goal(tmp_path):
    """kws pruned 70 % per layer: its DepthwiseConv2D layers keep 30 % of their weights, which a
    build for speed unrolls (the automatic rule unrolls convolutions up to 40 %: core/sparsity.hpp)
    and a build for size runs dense or unrolled by their size. Either way they run in place (the
    unrolled rows row by row through the ring of layers/conv/in_place_rows.hpp), so no two 25x5
    activations are live together. For each goal, report's picture (the compiled plan, built as the
    device build is) and inspect's estimate (no compiler) give the same arena, and it is the same
    for both goals; `--sparse compressed` takes the depthwise layers out of place, which both see."""
    model = shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")
    arena = {}
    for goal, sparse in (("speed", "auto"), ("size", "auto"), ("speed", "compressed")):
        flags = ["--prune-synapses", "0.7", "--optimize", goal, "--sparse", sparse]
        made = run_tinynet("report", model, "-o", tmp_path / f"{goal}-{sparse}.html", *flags)
        assert made.returncode == 0, made.stderr
        arena[goal, sparse] = int(re.search(r"arena ([\d,]+) B", made.stdout)[1].replace(",", ""))
        info = json.loads(run_tinynet("inspect", model, "--json", *flags).stdout)
        assert info["totals"]["arena_estimate_bytes"] == arena[goal, sparse], (goal, sparse)
        assert info["build"]["optimize"] == goal
    assert arena["speed", "auto"] == arena["size", "auto"]
    # In place, two 25x5 activations of up to 64 channels (8,000 bytes each) are never live
    # together; compressed, the depthwise layers write beside their inputs.
    assert arena["speed", "auto"] < 2 * 25 * 5 * 40
    assert arena["speed", "compressed"] > arena["speed", "auto"] + 25 * 5 * 40
    text = run_tinynet("inspect", model, "--prune-synapses", "0.7", "--optimize", "size").stdout
    assert f"{arena['size', 'auto']:,} B (peak" in text and "built for size (-Os)" in text


def test_report_measures_instructions_per_layer_as_bench_does(tmp_path):
    from tinynet_py import cortex_m
    missing = cortex_m.available("cortex-m4")
    if missing:
        pytest.skip(missing)
    model = shared_path("models", "tflm-examples", "hello_world_int8.tflite")
    page_path = tmp_path / "hw.html"
    result = run_tinynet("report", model, "-o", page_path, "--target", "cortex-m4")
    assert result.returncode == 0, result.stderr
    page = page_path.read_text()
    bench = run_tinynet("bench", model, "--per-layer", "--target", "cortex-m4", "--json")
    assert bench.returncode == 0, bench.stderr
    layers = json.loads(bench.stdout)["layers"]
    shown = re.findall(r'class="bar instructions"[^>]*><title>[^<]*: ([\d,]+) instructions</title>', page)
    assert [int(s.replace(",", "")) for s in shown] == [r["instructions"] for r in layers]
    assert len(layers) == 3
    shown = re.findall(r'class="bar data"[^>]*><title>[^<]*: ([\d,]+) B</title>', page)
    assert [int(s.replace(",", "")) for s in shown] == [r["data_bytes"] for r in layers]
    # RAM: the compiled arena plus the stack the per-layer run measured, which reads the timer
    # after every op: about bench's own measured stack.
    figures = json.loads(bench.stdout)
    ram = re.search(r"<th>RAM on cortex-m4 \(measured\)</th><td>([\d,]+) B: the arena and a peak stack of ([\d,]+) B", page)
    assert ram, "the report names no measured RAM"
    total, stack = (int(g.replace(",", "")) for g in ram.groups())
    assert total == figures["arena_bytes"] + stack
    assert abs(stack - figures["stack_bytes"]) <= 64 and stack > 100


def test_report_usage_errors(tmp_path):
    model = shared_path("models", "tflm-examples", "hello_world_int8.tflite")
    missing_output = run_tinynet("report", model)
    assert missing_output.returncode == 2 and missing_output.stderr.startswith("tinynet: error:")
    host = run_tinynet("report", model, "-o", tmp_path / "x.html", "--target", "host")
    assert host.returncode == 2 and "invalid choice" in host.stderr
    assert not (tmp_path / "x.html").exists()


# ---- in a real browser --------------------------------------------------------------------------

def _chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("chromium is not installed (Debian package chromium; scripts/setup installs it)")


def _png_pixels_vary(png):
    """True when the PNG's decoded rows hold more than one colour (the page is not blank)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = header[:4]
    raw = zlib.decompress(idat)
    channels = {2: 3, 6: 4, 0: 1, 4: 2}[colour]
    stride = width * channels * depth // 8 + 1
    # Filter type 0 or 1 rows: a row of one colour is all zero after its first pixel under filter 1
    # (Sub); pixels beyond that differ only when the row has content. Count rows with content.
    busy = sum(1 for y in range(height) if len(set(raw[y * stride + 1 + channels:(y + 1) * stride])) > 1)
    return busy > height // 10, (width, height)


def _render(chromium, page, tmp_path, name):
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--enable-logging=stderr", "--v=0", "--window-size=1100,1400", f"--user-data-dir={tmp_path / 'profile'}"]
    url = page.as_uri()
    dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=60)
    shot = tmp_path / f"{name}.png"
    pic = subprocess.run(flags + [f"--screenshot={shot}", url], capture_output=True, text=True, timeout=60)
    return dom, pic, shot


def test_report_renders_in_headless_chromium(tmp_path, digits_files):
    chromium = _chromium()
    folder, _, _ = digits_files
    kws = tmp_path / "kws.html"
    digits = tmp_path / "digits.html"
    assert run_tinynet("report", shared_path("models", "mlperf-tiny", "kws_ref_model.tflite"), "-o", kws).returncode == 0
    made = run_tinynet("report", folder / "mlp.pkl", "--quantize", folder / "calib.npz", "--prune-synapses", "0.5",
                       "--eval", folder / "test.npz", "-o", digits)
    assert made.returncode == 0, made.stderr
    for page, layers, audit in ((kws, 13, False), (digits, 3, True)):
        source = page.read_text()
        # self-contained: no script, no external resource
        assert "<script" not in source and not re.search(r'(src|href)="(https?:)?//', source)
        dom, pic, shot = _render(chromium, page, tmp_path, page.stem)
        assert dom.returncode == 0, dom.stderr[-2000:]
        rendered = dom.stdout
        assert rendered.count('class="tensor"') == len(_rects(source)) >= 4
        assert rendered.count('class="bar macs"') == layers
        assert rendered.count('class="bar weights"') == layers
        if audit:
            assert 'id="audit-groups"' in rendered and rendered.count('class="acc"') >= 3 * (10 + 3)
        for log in (dom.stderr, pic.stderr):
            assert "Uncaught" not in log and "ERROR:CONSOLE" not in log and ":CONSOLE(" not in log, log[-2000:]
        assert pic.returncode == 0 and shot.exists(), pic.stderr[-2000:]
        non_blank, size = _png_pixels_vary(shot.read_bytes())
        assert size == (1100, 1400) and non_blank
