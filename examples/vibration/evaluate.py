#!/usr/bin/python3
"""The alarm table of examples/vibration: for the float autoencoder (scikit-learn's own forward
pass) and for the int8 and pruned-int8 networks (the scores the C++ program computed, on the host
or on the Cortex-M4), the alarm threshold that gives the target false-alarm rate on the held-out
normal windows, then the false-alarm rate on the normal test windows and the detection rate of each
fault at that threshold.

The threshold rule, the same for every network: sort the n held-out normal scores, let
k = floor(rate * n); the threshold is the (k+1)-th largest score and a window alarms when its
score is above it (so at most k held-out windows alarm).

usage: evaluate.py DATA_DIR [--scores FILE] [--false-alarm-rate R]
"""

import argparse
import os
import pickle
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import SETS, network_input  # noqa: E402

FAULTS = [name for name, fault, _ in SETS if fault is not None]
NETWORKS = ["float", "int8", "pruned-int8"]


def float_scores(data_dir, sets, band_mean):
    """Squared reconstruction error of the float model, summed over the bands (network input units)."""
    with open(os.path.join(data_dir, "vibration_ae.pkl"), "rb") as f:   # our own file, from train.py
        model = pickle.load(f)
    scores = {}
    for name, _, _ in SETS:
        x = network_input(sets[name], band_mean).astype(np.float64)
        scores[name] = ((model.predict(x) - x) ** 2).sum(axis=1)
    return scores


def program_scores(text, sets):
    """{network: {set: int scores}} from the lines 'scores NETWORK SET: s s s ...'."""
    found = {}
    for label, name, values in re.findall(r"^scores (\S+) (\w+):((?: -?\d+)*)$", text, re.M):
        found.setdefault(label, {})[name] = np.array([int(v) for v in values.split()], dtype=np.int64)
    for label in NETWORKS[1:]:
        for name, _, _ in SETS:
            got = found.get(label, {}).get(name)
            if got is None or len(got) != len(sets[name]):
                sys.exit(f"evaluate.py: error: no scores of {label} for the {len(sets[name])} windows of {name}")
    return found


def threshold(held_out, rate):
    ordered = np.sort(held_out)
    return ordered[len(ordered) - 1 - int(np.floor(rate * len(ordered)))]


def rates(scores, rate):
    """(threshold, false-alarm rate on normal_test, {fault: detection rate}) of one network."""
    limit = threshold(scores["held_out_normal"], rate)
    alarm = lambda name: float(np.mean(scores[name] > limit))
    return limit, alarm("normal_test"), {fault: alarm(fault) for fault in FAULTS}


def table(all_scores, sets, rate):
    n = {name: len(sets[name]) for name, _, _ in SETS}
    lines = [f"alarm threshold: {100 * rate:g} % false alarms on the {n['held_out_normal']} held-out normal windows, "
             f"chosen for each network",
             "false alarms come first: each one stops a healthy machine or sends someone to look at it for nothing,",
             "and an operator who gets them soon ignores the alarm; the detection rates only count at a false-alarm "
             "rate they accept",
             "",
             f"{'network':<12} {'threshold':>10}  {'false alarms':>12}  " +
             "  ".join(f"{fault.replace('_', ' ') + ' detected':>21}" for fault in FAULTS),
             f"{'':<12} {'':>10}  {'(' + str(n['normal_test']) + ' normal)':>12}  " +
             "  ".join(f"{'(' + str(n[fault]) + ' windows)':>21}" for fault in FAULTS)]
    for label in NETWORKS:
        limit, false_alarms, detected = rates(all_scores[label], rate)
        shown = f"{limit:.4f}" if label == "float" else str(limit)
        lines.append(f"{label:<12} {shown:>10}  {100 * false_alarms:>11.1f}%  " +
                     "  ".join(f"{100 * detected[fault]:>20.1f}%" for fault in FAULTS))
    lines.append("")
    lines.append("scores: float in squared network-input units, int8 in squared output-quantization steps "
                 "(each network's own threshold)")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(usage=__doc__.split("usage: ")[1].split("\n")[0],
                                     description=__doc__.split("\n\nusage:")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", metavar="DATA_DIR", help="train.py's output folder (vibration_ae.pkl, sets.npz)")
    parser.add_argument("--scores", metavar="FILE", help="the C++ program's output (default: run DATA_DIR/vibration)")
    parser.add_argument("--false-alarm-rate", metavar="R", type=float, default=0.01,
                        help="the false-alarm rate the thresholds are chosen for (default 0.01)")
    args = parser.parse_args()
    if not 0 <= args.false_alarm_rate < 1:
        parser.error("--false-alarm-rate must be in [0, 1)")
    try:
        data = np.load(os.path.join(args.data_dir, "sets.npz"))
        sets = {name: data[name] for name, _, _ in SETS}
        if args.scores:
            with open(args.scores) as f:
                text = f.read()
        else:
            text = subprocess.run([os.path.join(args.data_dir, "vibration")], capture_output=True, text=True,
                                  check=True).stdout
    except (OSError, KeyError, subprocess.CalledProcessError) as e:
        sys.exit(f"evaluate.py: error: {e} (build the example first: cmake --build build/examples --target vibration)")
    all_scores = program_scores(text, sets)
    all_scores["float"] = float_scores(args.data_dir, sets, data["band_mean"])
    print(table(all_scores, sets, args.false_alarm_rate))


if __name__ == "__main__":
    main()
