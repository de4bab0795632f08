#!/usr/bin/python3
"""Trains the vibration anomaly detector of examples/vibration and writes its data.

The machine: a shaft turning at about 24.6 Hz (1476 rpm, +-3 % from window to window) with its
first 8 harmonics, a 28-tooth gear meshing at 28x, a varying load that scales them together, and
broadband sensor noise; an accelerometer sampled at 8192 Hz, read in windows of 1024 samples
(125 ms). Three faults are injected, each at a severity drawn from incipient to clear:

- bearing: an outer-race defect rings a structural resonance (2.6-3.0 kHz) at every ball pass,
  3.58 times per revolution: a high-frequency tone amplitude-modulated at the defect rate;
- imbalance: a strong extra component at the shaft frequency (1x);
- broken tooth: a short decaying impulse (1.8 kHz ring-down) once per revolution.

Features: the window's power spectrum (Hann window) averaged in 32 log-spaced bands from 16 Hz to
4 kHz, in dB, coded as one byte per band in 0.5 dB steps (code 0 = -20 dB): what a sensor's front
end would hand to the network. The network reads (code - normal mean code of the band) / 16 (a
power of two: exact in float), one value per band.

The model: a scikit-learn MLPRegressor autoencoder 32-16-32 (relu) trained on normal
windows only to reproduce its input; the anomaly score of a window is its reconstruction error.

Files written to OUT_DIR (everything seeded: the same files on every run, on the same numpy and
scikit-learn):
- vibration_ae.pkl: the pickled autoencoder (input to `tinynet convert`);
- calib.npz: 'x', 300 normal training windows as network inputs (--quantize);
- sets.npz: the feature codes (uint8, [windows, 32]) of every set, named as in SETS, and
  'band_mean', the normal mean code of each band;
- vibration_sets.hpp: the same codes and means as C++ arrays (namespace vibration_data).

usage: train.py OUT_DIR
"""

import argparse
import os
import pickle
import warnings

import numpy as np

RATE = 8192          # samples per second
WINDOW = 1024        # samples per window (125 ms)
BANDS = 32           # features per window
DB_FLOOR = -20.0     # dB of code 0
DB_STEP = 0.5        # dB per code step
SCALE = 16.0         # network input = (code - band mean) / SCALE
SHAFT_HZ = 24.6
TEETH = 28
BALL_PASS = 3.58     # outer-race defect rate, in shaft orders
HIDDEN = (16,)
# Fault severities, drawn uniformly per window from incipient to clear: the amplitude of the
# bearing tone and of the tooth impulses (accelerometer units; the shaft's second harmonic is about
# 0.4), the factor by which imbalance multiplies the 1x component.
SEVERITY = {"bearing": (0.04, 0.12), "imbalance": (2.0, 6.0), "broken_tooth": (0.3, 0.8)}

# The evaluation sets, in the order the C++ program and evaluate.py use them: held-out normal
# windows (the alarm threshold is chosen on them), normal test windows (false alarms), and one set
# per fault (detections).
SETS = [("held_out_normal", None, 1000), ("normal_test", None, 1000),
        ("bearing", "bearing", 300), ("imbalance", "imbalance", 300), ("broken_tooth", "broken_tooth", 300)]
TRAIN_WINDOWS = 2000
CALIBRATION_WINDOWS = 300


def band_edges():
    """FFT bin edges of the 32 bands: log-spaced from bin 2 (16 Hz) to the last bin, each at
    least one bin wide."""
    edges = np.round(np.geomspace(2, WINDOW // 2 + 1, BANDS + 1)).astype(int)
    for i in range(1, len(edges)):
        edges[i] = max(edges[i], edges[i - 1] + 1)
    return edges


def signals(rng, count, fault=None):
    """[count, WINDOW] accelerometer windows of the machine, with the given fault (or none)."""
    t = np.arange(WINDOW) / RATE
    column = lambda lo, hi: rng.uniform(lo, hi, (count, 1))
    phase = lambda: column(0, 2 * np.pi)
    shaft = SHAFT_HZ * column(0.97, 1.03)                     # speed jitter
    load = column(0.7, 1.3)
    x = np.zeros((count, WINDOW))
    for h in range(1, 9):
        amplitude = load * column(0.9, 1.1) * (0.5 if h == 1 else 1.0) / h ** 1.2
        if h == 1 and fault == "imbalance":
            amplitude = amplitude * column(*SEVERITY[fault])
        x += amplitude * np.sin(2 * np.pi * h * shaft * t + phase())
    mesh = TEETH * shaft
    x += 0.3 * load * np.sin(2 * np.pi * mesh * t + phase()) * (1 + 0.2 * np.sin(2 * np.pi * shaft * t))
    x += column(0.03, 0.06) * rng.randn(count, WINDOW)        # sensor noise
    if fault == "bearing":
        resonance = column(2600, 3000)
        x += column(*SEVERITY[fault]) * (1 + np.cos(2 * np.pi * BALL_PASS * shaft * t)) * np.sin(2 * np.pi * resonance * t)
    elif fault == "broken_tooth":
        since_impulse = ((t * shaft + column(0, 1)) % 1.0) / shaft
        x += column(*SEVERITY[fault]) * np.exp(-since_impulse / 0.002) * np.sin(2 * np.pi * 1800 * since_impulse)
    elif fault not in (None, "imbalance"):
        raise ValueError(fault)
    return x


def feature_codes(x):
    """[count, WINDOW] signals -> [count, BANDS] uint8 band powers (0.5 dB steps from -20 dB)."""
    power = np.abs(np.fft.rfft(x * np.hanning(WINDOW), axis=1)) ** 2
    edges = band_edges()
    bands = np.stack([power[:, edges[i]:edges[i + 1]].mean(axis=1) for i in range(BANDS)], axis=1)
    db = 10 * np.log10(bands + 1e-12)
    return np.clip(np.round((db - DB_FLOOR) / DB_STEP), 0, 255).astype(np.uint8)


def network_input(codes, band_mean):
    """What the network reads: (code - band mean code) / 16, float32 (exact)."""
    return ((codes.astype(np.int32) - band_mean.astype(np.int32)) / SCALE).astype(np.float32)


def make_data(seed=0):
    rng = np.random.RandomState(seed)
    train = feature_codes(signals(rng, TRAIN_WINDOWS))
    band_mean = np.round(train.mean(axis=0)).astype(np.uint8)
    sets = {name: feature_codes(signals(rng, count, fault)) for name, fault, count in SETS}
    return train, band_mean, sets


def train_autoencoder(x):
    from sklearn.neural_network import MLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                       # ConvergenceWarning at max_iter
        return MLPRegressor(HIDDEN, max_iter=300, random_state=0).fit(x, x)


def cpp_array(name, codes):
    rows = ",\n".join("  {" + ",".join(str(v) for v in row) + "}" for row in codes)
    return f"inline constexpr std::uint8_t {name}[{len(codes)}][{BANDS}] = {{\n{rows}}};\n"


def write_header(path, band_mean, sets):
    parts = ["// Generated by examples/vibration/train.py: the feature codes of the evaluation sets.\n"
             "// One byte per band: the band's power in 0.5 dB steps from -20 dB.\n#pragma once\n\n"
             "#include <cstdint>\n\nnamespace vibration_data {\n\n",
             f"inline constexpr int bands = {BANDS};\n",
             f"inline constexpr float input_scale = {SCALE:.1f}f;  // network input = (code - band_mean) / input_scale\n",
             f"inline constexpr std::uint8_t band_mean[{BANDS}] = {{" + ",".join(str(v) for v in band_mean) + "};\n"]
    for name, _, _ in SETS:
        parts.append(cpp_array(name, sets[name]))
    parts.append("\nstruct Set {\n  const char* name;\n  int count;\n  const std::uint8_t (*codes)[bands];\n};\n")
    parts.append(f"inline constexpr Set sets[{len(SETS)}] = {{\n" +
                 ",\n".join(f'  {{"{name}", {len(sets[name])}, {name}}}' for name, _, _ in SETS) + "};\n")
    parts.append("\n}  // namespace vibration_data\n")
    with open(path, "w") as f:
        f.write("".join(parts))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    train, band_mean, sets = make_data()
    x = network_input(train, band_mean)
    model = train_autoencoder(x)
    with open(os.path.join(args.out_dir, "vibration_ae.pkl"), "wb") as f:
        pickle.dump(model, f)
    np.savez(os.path.join(args.out_dir, "calib.npz"), x=x[:CALIBRATION_WINDOWS])
    np.savez(os.path.join(args.out_dir, "sets.npz"), band_mean=band_mean, **sets)
    write_header(os.path.join(args.out_dir, "vibration_sets.hpp"), band_mean, sets)
    print(f"train.py: autoencoder 32-{'-'.join(map(str, HIDDEN))}-32 trained on {len(train)} normal windows "
          f"({model.n_iter_} epochs); wrote {args.out_dir}")


if __name__ == "__main__":
    main()
