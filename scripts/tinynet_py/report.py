"""`tinynet report`: one self-contained HTML page about a model (docs/report.md).

Where each part comes from, so that the page cannot disagree with what the device runs:
- the summary and the per-layer MACs and weight bytes: analysis.summary(), as `inspect` prints them;
- the arena plan: the compiler's own plan. The generated header is compiled on the host with
  targets/host/plan_main.cpp, which prints Network::arena_lifetimes and Network::arena_plan
  (include/tinynet/graph/arena_plan.hpp); nothing here recomputes lifetimes or offsets;
- the instructions and data bytes per layer and the peak stack (--target cortex-m*):
  bench_cmd.per_layer_instructions(), the machinery of `bench --per-layer`;
- the audit (--eval): evaluate.evaluate() through pipeline.prepare(), as convert/inspect print it.

The page is HTML and inline SVG only: no script, no external file or font, readable without
JavaScript; every rectangle of the arena picture carries an SVG <title> (shown on hover) and the
legend table below names the same tensors.
"""

import html
import re

from . import analysis, runner
from .errors import TinynetError
from .safe_text import escape

PALETTE_STEP = 137.508   # golden angle: neighbouring buffers get distinct hues

# ---- the compiled arena plan ------------------------------------------------------------------

_TENSOR_DECL = re.compile(r"^struct t(\d+) : tinynet::(Constant)?(?:State)?Tensor<", re.M)
_OP_DECL = re.compile(r"^// op (\d+): (\S+)\nusing (\w+) = ", re.M)


def compiled_arena_plan(header_text, namespace, progress=None, optimize=()):
    """Compiles targets/host/plan_main.cpp for the header and returns the plan it prints, built as
    the device build is (optimize: pipeline.OPTIMIZE_FLAGS' flags):
    {"arena_bytes", "op_count", "ops": [C++ op names, in order], "tensors": [{index, model_index,
    constant, bytes, first, last, shares_with, offset}]} (steps: graph inputs 0, op k k + 1)."""
    declared = [(int(k), bool(c)) for k, c in _TENSOR_DECL.findall(header_text)]
    names = "".join(f"TINYNET_PLAN_TENSOR(t{k}, {k})\n" for k, _ in declared)
    binary = runner.build_host(header_text, namespace, extra_flags=tuple(optimize), progress=progress,
                               source=runner.HOST_PLAN, extra_files={"plan_names.hpp": names})
    import subprocess
    proc = subprocess.run([binary], capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinynetError(None, f"the arena plan printer failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return parse_plan(proc.stdout, dict(declared), [name for _, _, name in _OP_DECL.findall(header_text)])


def parse_plan(text, constants, op_names):
    plan = {"tensors": [], "ops": op_names}
    by_index = {}
    for line in text.splitlines():
        field = line.split()
        if field[0] in ("arena_bytes", "op_count"):
            plan[field[0]] = int(field[1])
        elif field[0] == "tensor":
            index, size, first, last, shares, offset = map(int, field[1:])
            by_index[index] = {"index": index, "model_index": None, "constant": False, "bytes": size,
                               "first": first, "last": last, "shares_with": shares, "offset": offset}
            plan["tensors"].append(by_index[index])
        elif field[0] == "name":
            model_index, index = int(field[1]), int(field[2])
            by_index[index]["model_index"] = model_index
            by_index[index]["constant"] = constants.get(model_index, False)
    return plan


def buffers(plan):
    """The plan's buffers: tensors sharing one (Reshape, in-place ops, views) are one, alive over the
    union of their lifetimes. Each: {offset, bytes, first, last, tensors: [tensor dicts]}."""
    tensors = plan["tensors"]

    def root(i):
        while tensors[i]["shares_with"] >= 0:
            i = tensors[i]["shares_with"]
        return i

    # A member may sit at an offset inside the group (a slice's view, a Pack input in its slot, a
    # convolution overlapping its input from below): the buffer spans its members' bytes.
    groups = {}
    for t in tensors:
        g = groups.setdefault(root(t["index"]), {"offset": t["offset"], "end": t["offset"], "first": t["first"],
                                                  "last": t["last"], "tensors": []})
        g["offset"] = min(g["offset"], t["offset"])
        g["end"] = max(g["end"], t["offset"] + t["bytes"])
        g["first"] = min(g["first"], t["first"])
        g["last"] = max(g["last"], t["last"])
        g["tensors"].append(t)
    for g in groups.values():
        g["bytes"] = g.pop("end") - g["offset"]
    return list(groups.values())


def _drawn_buffers(plan):
    """buffers() in drawing order (by offset, then first step), each with its colour."""
    ordered = sorted(buffers(plan), key=lambda b: (b["offset"], b["first"]))
    for k, b in enumerate(ordered):
        b["color"] = _color(k)
    return ordered


def live_bytes(plan):
    """Bytes of the buffers alive at each step (0 .. op_count + 1)."""
    steps = plan["op_count"] + 2
    live = [0] * steps
    for b in buffers(plan):
        for s in range(max(b["first"], 0), min(b["last"], steps - 1) + 1):
            live[s] += b["bytes"]
    return live


# ---- HTML -----------------------------------------------------------------------------------------

def _h(text, limit=200):
    """Text from a model file, shown: one printable line, HTML-escaped."""
    return html.escape(escape(str(text), limit=limit, keep_unicode=True), quote=True)


def _n(value):
    return f"{value:,}"


def _color(k, light=55):
    return f"hsl({(k * PALETTE_STEP) % 360:.0f},65%,{light}%)"


def _step_label(plan, step):
    if step == 0:
        return "inputs"
    if step == plan["op_count"] + 1:
        return "outputs"
    return plan["ops"][step - 1] if step - 1 < len(plan["ops"]) else f"op {step - 1}"


def _tensor_label(model, t, limit=200):
    if t["model_index"] is None:
        return f"#{t['index']}"
    mt = model.tensors[t["model_index"]]
    shape = "x".join(str(d) for d in mt.shape) or "scalar"
    kind = " (constant operand)" if t["constant"] else ""
    name = mt.name if len(mt.name) <= limit else mt.name[:limit] + "..."
    return f"t{t['model_index']} '{name}' {shape} {mt.dtype}{kind}"


def arena_svg(model, plan):
    steps = plan["op_count"] + 2
    arena = max(plan["arena_bytes"], 1)
    left, top, width, height = 80, 20, 860, 300
    col = width / steps
    live = live_bytes(plan)
    peak_step = max(range(steps), key=lambda s: live[s])
    out = [f'<svg id="arena-plan" xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" '
           f'height="{top + height + 120}" role="img" aria-label="arena plan: tensors by op and offset">',
           f'<rect class="peak-step" x="{left + peak_step * col:.1f}" y="{top}" width="{col:.1f}" '
           f'height="{height}" fill="#fde2e2"><title>peak: {_n(live[peak_step])} B alive at '
           f'{_h(_step_label(plan, peak_step))}</title></rect>']
    for b in _drawn_buffers(plan):
        x = left + max(b["first"], 0) * col
        w = (min(b["last"], steps - 1) - max(b["first"], 0) + 1) * col
        y = top + b["offset"] / arena * height
        h = max(b["bytes"] / arena * height, 1.5)
        names = "; ".join(_h(_tensor_label(model, t)) for t in b["tensors"])
        title = (f"{names} -- {_n(b['bytes'])} B at offset {_n(b['offset'])}, alive from "
                 f"{_h(_step_label(plan, max(b['first'], 0)))} to {_h(_step_label(plan, min(b['last'], steps - 1)))}")
        indices = " ".join(str(t["model_index"]) for t in b["tensors"] if t["model_index"] is not None)
        out.append(f'<rect class="tensor" data-tensors="{indices}" data-offset="{b["offset"]}" '
                   f'data-bytes="{b["bytes"]}" data-first="{b["first"]}" data-last="{b["last"]}" '
                   f'x="{x + 1:.1f}" y="{y:.1f}" width="{max(w - 2, 1):.1f}" height="{h:.1f}" '
                   f'fill="{b["color"]}" stroke="#333" stroke-width="0.5"><title>{title}</title></rect>')
    # axes: offsets on the left, steps below
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + height}" stroke="#000"/>')
    out.append(f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" stroke="#000"/>')
    for frac in (0, 0.25, 0.5, 0.75, 1):
        y = top + frac * height
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
                   f'{_n(int(round(frac * plan["arena_bytes"])))}</text>')
    out.append(f'<text x="14" y="{top + height / 2:.0f}" font-size="12" transform="rotate(-90 14 '
               f'{top + height / 2:.0f})" text-anchor="middle">arena offset (bytes)</text>')
    every = max(1, steps // 40)
    for s in range(0, steps, every):
        x = left + (s + 0.5) * col
        out.append(f'<text x="{x:.1f}" y="{top + height + 10}" font-size="10" text-anchor="end" '
                   f'transform="rotate(-60 {x:.1f} {top + height + 10})">{_h(_step_label(plan, s))}</text>')
    out.append("</svg>")
    return "\n".join(out)


def arena_legend(model, plan):
    rows = []
    for b in _drawn_buffers(plan):
        names = "<br>".join(_h(_tensor_label(model, t, 90)) for t in b["tensors"])
        steps = plan["op_count"] + 1
        rows.append(f'<tr><td><span class="swatch" style="background:{b["color"]}"></span></td>'
                    f'<td>{names}</td><td class="num">{_n(b["bytes"])}</td><td class="num">{_n(b["offset"])}</td>'
                    f'<td>{_h(_step_label(plan, max(b["first"], 0)))} &rarr; '
                    f'{_h(_step_label(plan, min(b["last"], steps)))}</td></tr>')
    return ('<table class="legend"><tr><th></th><th>tensor(s) in the buffer</th><th>bytes</th>'
            '<th>offset</th><th>alive</th></tr>\n' + "\n".join(rows) + "</table>")


def bars_svg(ident, title, labels, values, unit, css_class):
    """Horizontal bars, one per layer."""
    top, row, left, width = 24, 16, 230, 520
    peak = max(values) if values and max(values) > 0 else 1
    out = [f'<svg id="{ident}" xmlns="http://www.w3.org/2000/svg" width="{left + width + 110}" '
           f'height="{top + row * len(values) + 8}" role="img" aria-label="{_h(title)}">',
           f'<text x="0" y="14" font-size="13" font-weight="bold">{_h(title)}</text>']
    for k, (label, value) in enumerate(zip(labels, values)):
        y = top + k * row
        w = value / peak * width
        out.append(f'<text x="{left - 6}" y="{y + 11}" font-size="11" text-anchor="end">{_h(label)}</text>')
        out.append(f'<rect class="bar {css_class}" x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 4}" '
                   f'fill="#4a7fb5"><title>{_h(label)}: {_n(value)} {unit}</title></rect>')
        out.append(f'<text x="{left + w + 4:.1f}" y="{y + 11}" font-size="11">{_n(value)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def accuracy_svg(ident, title, variants, parts, flags):
    """Grouped bars: accuracy of each variant per class (or group); flagged ones marked '!'."""
    keys = list(variants[0][parts])
    top, left, height = 28, 40, 180
    group_w = max(28, 12 * len(variants) + 10)
    bar_w = (group_w - 10) / len(variants)
    width = left + group_w * len(keys) + 10
    low = min(min(v[parts].values()) for v in variants)
    floor = max(0.0, low - 0.1)
    out = [f'<svg id="{ident}" xmlns="http://www.w3.org/2000/svg" width="{max(width, 360)}" '
           f'height="{top + height + 50}" role="img" aria-label="{_h(title)}">',
           f'<text x="0" y="14" font-size="13" font-weight="bold">{_h(title)}</text>']
    for k, key in enumerate(keys):
        for j, v in enumerate(variants):
            value = v[parts][key]
            h = (value - floor) / (1 - floor) * height if floor < 1 else height
            x = left + k * group_w + j * bar_w
            mark = " (flagged: loses clearly more than the average)" if key in v.get(flags, []) else ""
            out.append(f'<rect class="acc" x="{x:.1f}" y="{top + height - h:.1f}" width="{bar_w - 1:.1f}" '
                       f'height="{h:.1f}" fill="{_color(j, 50)}"><title>{_h(v["name"])}, {_h(key)}: '
                       f'{100 * value:.1f}%{mark}</title></rect>')
        flagged = any(key in v.get(flags, []) for v in variants)
        style = ' fill="#c00" font-weight="bold"' if flagged else ""
        out.append(f'<text x="{left + k * group_w + (group_w - 10) / 2:.1f}" y="{top + height + 14}" '
                   f'font-size="11" text-anchor="middle"{style}>{_h(key)}{" !" if flagged else ""}</text>')
    out.append(f'<text x="{left - 4}" y="{top + 8}" font-size="10" text-anchor="end">100%</text>')
    out.append(f'<text x="{left - 4}" y="{top + height}" font-size="10" text-anchor="end">{100 * floor:.0f}%</text>')
    for j, v in enumerate(variants):
        x = left + j * 150
        out.append(f'<rect x="{x}" y="{top + height + 26}" width="10" height="10" fill="{_color(j, 50)}"/>'
                   f'<text x="{x + 14}" y="{top + height + 35}" font-size="11">{_h(v["name"])} '
                   f'{100 * v["accuracy"]:.1f}%</text>')
    out.append("</svg>")
    return "\n".join(out)


def accuracy_table(variants, title, parts, support, flags):
    head = "".join(f"<th>{_h(v['name'])}</th>" for v in variants)
    rows = []
    for key in variants[0][parts]:
        cells = []
        for v in variants:
            flagged = key in v.get(flags, [])
            cells.append(f'<td class="num{" flag" if flagged else ""}">{100 * v[parts][key]:.1f}%'
                         f'{" !" if flagged else ""}</td>')
        rows.append(f"<tr><td>{_h(key)}</td><td class=\"num\">{variants[0][support][key]}</td>{''.join(cells)}</tr>")
    return (f'<table class="audit"><tr><th>{_h(title)}</th><th>samples</th>{head}</tr>\n'
            + "\n".join(rows) + "</table>")


STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1100px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:0.85em;margin:0.5em 0}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.flag{color:#c00;font-weight:bold}
table.legend td{word-break:break-all}table.legend td.num{word-break:normal}
.swatch{display:inline-block;width:12px;height:12px;border:1px solid #333}
.note{color:#555;font-size:0.85em}code{background:#f3f3f3;padding:0 3px}"""


def render(info, plan, model, layers=None, evaluation=None, target=None, command=None, stack=None):
    """The page as text. info: analysis.summary(); plan: compiled_arena_plan(); layers: the rows of
    bench_cmd.per_layer_instructions() or None, stack: the peak stack it measured (bytes) or None;
    evaluation: evaluate.evaluate()'s report or None."""
    t = info["totals"]
    live = live_bytes(plan)
    io = lambda ts: "<br>".join(
        f"{_h(x['name'])} {'x'.join(map(str, x['shape']))} {x['dtype']}"
        + (f" (scale {x['scale']:g}, zero point {x['zero_point']})" if x["scale"] else "") for x in ts)
    summary_rows = [
        ("model", _h(info["model"])), ("sha256", f"<code>{info['sha256']}</code>"),
        ("inputs", io(info["inputs"])), ("outputs", io(info["outputs"])),
        ("ops", _n(t["ops"])), ("MACs", _n(t["macs"])),
        ("weights + biases", f"{_n(t['weight_bytes'])} B"),
        ("flash estimate", f"{_n(t['flash_estimate_bytes'])} B (constants {_n(t['constant_bytes'])} + "
                           f"requantization tables {_n(t['requant_table_bytes'])})"
                           + (f"; {_h(analysis.FLASH_ESTIMATE_NOTE)}" if t["flash_estimate_widened_on_dsp"] else "")),
        ("arena (compiled plan)", f"{_n(plan['arena_bytes'])} B; peak of the live buffers {_n(max(live))} B"),
    ]
    if stack is not None:
        summary_rows.append((f"RAM on {_h(target)} (measured)",
                             f"{_n(plan['arena_bytes'] + stack)} B: the arena and a peak stack of {_n(stack)} B "
                             "(the whole runner's under QEMU: an upper bound for the network's)"))
    else:
        summary_rows.append(("stack", "not in the arena: <code>--target</code> measures it"))
    if t["state_bytes"]:
        summary_rows.append(("state (in the arena)", f"{_n(t['state_bytes'])} B kept across invokes"))
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>tinynet report: {_h(info['model'])}</title>", f"<style>{STYLE}</style></head><body>",
        f"<h1>tinynet report: {_h(info['model'])}</h1>",
        f'<p class="note">written by <code>{_h(command)}</code></p>' if command else "",
        '<h2 id="summary">Summary</h2><table class="summary">'
        + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in summary_rows) + "</table>",
        '<h2 id="arena">Arena plan</h2>',
        f'<p class="note">The plan the compiler computed for this network ({_n(plan["arena_bytes"])} B): '
        "each rectangle is a buffer, from the op that writes it to the last op that reads it (x), at "
        "its offset in the arena (y; the top is offset 0). Tensors that share a buffer (Reshape, "
        "in-place ops) are one rectangle. The shaded column is the step where the most bytes are "
        "alive; hover a rectangle for its tensors.</p>",
        arena_svg(model, plan), arena_legend(model, plan),
        '<h2 id="layers">Per layer</h2>',
    ]
    labels = [f"{r['index']} {r['op']}" for r in info["layers"]]
    parts.append(bars_svg("bars-macs", "multiply-accumulates", labels, [r["macs"] for r in info["layers"]],
                          "MACs", "macs"))
    parts.append(bars_svg("bars-weights", "weight bytes (flash)", labels,
                          [r["weight_bytes"] for r in info["layers"]], "B", "weights"))
    if layers:
        parts.append(bars_svg("bars-instructions", f"instructions on {target} (measured, QEMU)",
                              [f"{r['index']} {r['op']}" for r in layers],
                              [r["instructions"] for r in layers], "instructions", "instructions"))
        parts.append(bars_svg("bars-data", f"weights and tables in the {target} image (measured: its data objects)",
                              [f"{r['index']} {r['op']}" for r in layers],
                              [r["data_bytes"] for r in layers], "B", "data"))
    else:
        parts.append('<p class="note">Instructions per layer: write the report with '
                     "<code>--target cortex-m4</code> (or another Cortex-M) to measure them.</p>")
    if evaluation is not None:
        parts.append('<h2 id="audit">Compression audit</h2>')
        variants = evaluation["variants"]
        if evaluation["task"] == "regression":
            parts.append("<table><tr><th>variant</th><th>mean absolute error</th></tr>"
                         + "".join(f"<tr><td>{_h(v['name'])}</td><td class=\"num\">{v['mae']:.5f}</td></tr>"
                                   for v in variants) + "</table>")
        else:
            parts.append(f'<p>Accuracy on {evaluation["samples"]} samples: '
                         + ", ".join(f"{_h(v['name'])} {100 * v['accuracy']:.2f}%" for v in variants)
                         + '. <span class="note">A class or group marked ! loses clearly more than the '
                         "average: its drop exceeds the overall drop by 3 points or more and by at least "
                         "half the overall drop (docs/compression.md).</span></p>")
            breakdowns = [("class", "per_class", "support", "flagged_classes", "audit-classes")]
            if "per_group" in variants[0]:
                breakdowns.append(("group", "per_group", "group_support", "flagged_groups", "audit-groups"))
            for title, key, support, flags, ident in breakdowns:
                parts.append(accuracy_svg(ident, f"accuracy per {title}", variants, key, flags))
                parts.append(accuracy_table(variants, title, key, support, flags))
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"
