// streaming: an anomaly detector on a stream of frames, reading its window in place.
//
//   streaming [FRAMES]
//
// MLPerf Tiny's anomaly detector (an autoencoder over 5 frames x 128 mel bins = 640 int8 values)
// scores each window by how badly it reconstructs it. A device computes one mel frame every few
// milliseconds; the network should see the last 5. Here a generated signal (a slowly drifting
// spectral shape, with a burst in the middle of the stream) is fed frame by frame to a
// tinynet::StreamWindow, and the network runs on the window where it is (Instance::invoke_from:
// no window copy). For comparison the same network also runs on a copy of the same 5 frames, as a
// program without StreamWindow would do it; the program prints each window's anomaly score and
// checks that both give the same output bytes. Exit status 1 if any window differs.
//
// The same source runs on the host (stdio) and on a Cortex-M4 under QEMU (semihost::print: no
// printf; the score is printed from an integer number of thousandths, so both print the same text).
// The device has no command line: it feeds 40 frames, the host's default.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <span>

#include <tinynet/tinynet.hpp>

#include "anomaly_model.hpp"

#include "../console.hpp"  // print(): stdio on the host, semihosting on the device

using net = anomaly::network;
constexpr std::size_t mel_bins = 128;
static_assert(net::input_t<0>::size == 5 * mel_bins && net::output_t<0>::size == 5 * mel_bins);

static tinynet::Instance<net> streaming;                // reads the window in place
static tinynet::Instance<net> copying;                  // gets a copy of the window
static tinynet::StreamWindow<net, mel_bins> stream;     // 9 frames of int8: 1,152 bytes
static std::int8_t history[5][mel_bins];                // the copying program's own last 5 frames

// Frame t of the generated signal, quantized like the model's input: a spectral bump that drifts
// slowly across the bins, plus a broadband burst for frames 20 to 24.
static void make_frame(int t, std::int8_t (&frame)[mel_bins]) {
  using in = net::input_t<0>;
  for (std::size_t bin = 0; bin < mel_bins; ++bin) {
    const double centre = 40.0 + 20.0 * std::sin(t * 0.15);
    const double d = (static_cast<double>(bin) - centre) / 12.0;
    double value = -45.0 + 30.0 * std::exp(-d * d) + 4.0 * std::sin(bin * 0.7 + t);
    if (t >= 20 && t < 25) value += 25.0 * std::fabs(std::sin(bin * 1.3 + t * 2.1));
    const long q = std::lround(value / in::scale) + in::zero_point;
    frame[bin] = static_cast<std::int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
  }
}

// Mean squared reconstruction error in real units: the model's anomaly score.
template <class Instance>
static double anomaly_score(Instance& instance, std::span<const std::int8_t, 5 * mel_bins> window) {
  using in = net::input_t<0>;
  using out = net::output_t<0>;
  double sum = 0.0;
  for (std::size_t i = 0; i < window.size(); ++i) {
    const double x = (window[i] - in::zero_point) * static_cast<double>(in::scale);
    const double y = (instance.output()[i] - out::zero_point) * static_cast<double>(out::scale);
    sum += (x - y) * (x - y);
  }
  return sum / static_cast<double>(window.size());
}

// Spaces that right-align `value` (>= 0) in `width` characters, as printf's "%*d" would.
static const char* padding(long long value, int width) {
  int digits = 1;
  for (long long v = value; v >= 10; v /= 10) ++digits;
  static constexpr const char spaces[] = "        ";
  const int count = width - digits < 0 ? 0 : (width - digits > 8 ? 8 : width - digits);
  return spaces + (8 - count);
}

// A non-negative score with three decimals in 8 characters ("%8.3f"), from whole thousandths.
static void print_score(double score) {
  const auto thousandths = static_cast<long long>(score * 1000.0 + 0.5);
  const long long whole = thousandths / 1000, fraction = thousandths % 1000;
  print(padding(whole, 4), whole, ".", fraction < 100 ? "0" : "", fraction < 10 ? "0" : "", fraction);
}

static int stream_frames(int frames) {
  int differing = 0, windows = 0;
  for (int t = 0; t < frames; ++t) {
    std::int8_t frame[mel_bins];
    make_frame(t, frame);
    stream.push(frame);
    for (int f = 0; f < 4; ++f)
      for (std::size_t b = 0; b < mel_bins; ++b) history[f][b] = history[f + 1][b];
    for (std::size_t b = 0; b < mel_bins; ++b) history[4][b] = frame[b];
    if (!stream.full()) continue;

    streaming.invoke_from(stream);
    std::int8_t* in = copying.input().data();
    for (int f = 0; f < 5; ++f)
      for (std::size_t b = 0; b < mel_bins; ++b) in[f * mel_bins + b] = history[f][b];
    copying.invoke();

    bool same = true;
    for (std::size_t i = 0; i < copying.output().size(); ++i) same = same && streaming.output()[i] == copying.output()[i];
    differing += same ? 0 : 1;
    ++windows;
    print("frame ", padding(t, 2), t, "  anomaly score ");
    print_score(anomaly_score(streaming, stream.window()));
    print("  ", same ? "same bytes as the copied window" : "DIFFERS from the copied window", "\n");
  }
  print(windows, " windows, ", differing, " differ; window buffer ", sizeof(stream), " bytes, arena ", net::arena_bytes,
        " bytes\n");
  return differing == 0 ? 0 : 1;
}

#if defined(__arm__)
int main() { return stream_frames(40); }
#else
int main(int argc, char** argv) {
  const int frames = argc > 1 ? std::atoi(argv[1]) : 40;
  if (frames < 5) {
    print_error("streaming: FRAMES must be at least 5\n");
    return 1;
  }
  return stream_frames(frames);
}
#endif
