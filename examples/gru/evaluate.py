#!/usr/bin/python3
"""The accuracy table of examples/gru: the float GRU (train.py's numpy forward pass of the trained
weights) and the int8 network (the outputs the C++ program printed, on the host or on the
Cortex-M4) on the held-out gestures, per gesture and in all, and how often the two agree.

usage: evaluate.py DATA_DIR [--outputs FILE]
"""

import argparse
import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import GESTURES, forward, network_input  # noqa: E402


def program_outputs(text, count):
    """[count, gestures] int8 outputs from the program's 'outputs:' block."""
    block = re.search(r"^outputs:\n((?: .*\n)*)", text, re.M)
    rows = [[int(v) for v in item.split(",")] for item in block.group(1).split()] if block else []
    if len(rows) != count or any(len(row) != len(GESTURES) for row in rows):
        sys.exit(f"evaluate.py: error: expected the outputs of {count} gestures, found {len(rows)}")
    return np.array(rows, dtype=np.int64)


def table(labels, float_pred, int8_pred):
    lines = [f"{'gesture':<12} {'held out':>8}  {'float':>7}  {'int8':>7}"]
    for k, name in enumerate(GESTURES):
        mine = labels == k
        lines.append(f"{name:<12} {int(mine.sum()):>8}  {100 * (float_pred[mine] == k).mean():>6.1f}%  "
                     f"{100 * (int8_pred[mine] == k).mean():>6.1f}%")
    lines.append(f"{'all':<12} {len(labels):>8}  {100 * (float_pred == labels).mean():>6.1f}%  "
                 f"{100 * (int8_pred == labels).mean():>6.1f}%")
    lines.append(f"int8 and float agree on {int((float_pred == int8_pred).sum())} of {len(labels)} gestures")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(usage=__doc__.split("usage: ")[1].split("\n")[0],
                                     description=__doc__.split("\n\nusage:")[0])
    parser.add_argument("data_dir", metavar="DATA_DIR", help="train.py's output folder (test.npz, gru_weights.npz)")
    parser.add_argument("--outputs", metavar="FILE", help="the C++ program's output (default: run DATA_DIR/gru)")
    args = parser.parse_args()
    try:
        test = np.load(os.path.join(args.data_dir, "test.npz"))
        weights = dict(np.load(os.path.join(args.data_dir, "gru_weights.npz")))
        if args.outputs:
            with open(args.outputs) as f:
                text = f.read()
        else:
            text = subprocess.run([os.path.join(args.data_dir, "gru")], capture_output=True, text=True,
                                  check=True).stdout
    except (OSError, KeyError, subprocess.CalledProcessError) as e:
        sys.exit(f"evaluate.py: error: {e} (build the example first: cmake --build build/examples --target gru)")
    labels = test["labels"]
    int8_pred = program_outputs(text, len(labels)).argmax(axis=1)      # the first of equals, as main.cpp
    float_pred = forward(weights, network_input(test["codes"]).astype(np.float64)).argmax(axis=1)
    print(table(labels, float_pred, int8_pred))


if __name__ == "__main__":
    main()
