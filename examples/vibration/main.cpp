// vibration: the anomaly scores of a vibration autoencoder (examples/vibration/train.py), after
// int8 quantization and after pruning + int8 quantization by `scripts/tinynet convert`, for every
// window of the evaluation sets. The same source runs on the host (printf) and on a Cortex-M4
// under QEMU (semihosting); examples/vibration/evaluate.py turns the scores into alarm thresholds
// and false-alarm / detection rates.
//
// A window arrives as 32 bytes, the power of 32 frequency bands in 0.5 dB steps. The network reads
// (code - normal mean code of the band) / 16; its anomaly score is the squared reconstruction error
// summed over the bands, in steps of the output tensor's quantization (an integer: the host and the
// device give the same numbers). The target of each band is the input value quantized like the
// output, without clamping it to int8, so a band far beyond the normal range counts in full.
//
// Build inputs (generated): vibration_int8_model.hpp, vibration_pruned_model.hpp (the networks) and
// vibration_sets.hpp (the feature codes of the sets).
#include <cstdint>

#include <tinynet/tinynet.hpp>

#include "vibration_int8_model.hpp"
#include "vibration_pruned_model.hpp"
#include "vibration_sets.hpp"

#include "../console.hpp"  // print(): stdio on the host, semihosting on the device
#if defined(__arm__)
#include "cycles.hpp"
#endif

namespace data = vibration_data;

template <class Net>
concept autoencoder_of_the_bands = Net::template input_t<0>::size == data::bands &&
                                   Net::template output_t<0>::size == data::bands;
static_assert(autoencoder_of_the_bands<vibration_int8::network> && autoencoder_of_the_bands<vibration_pruned::network>);

// The two networks never run at the same time: one arena, the larger of the two.
using memory_t = tinynet::SharedArena<vibration_int8::network, vibration_pruned::network>;
static memory_t memory;

template <class Net>
static long long anomaly_score(const std::uint8_t* codes) {
  using in_t = typename Net::template input_t<0>;
  using out_t = typename Net::template output_t<0>;
  auto instance = memory.instance<Net>();
  std::int32_t target[data::bands];
  for (int b = 0; b < data::bands; ++b) {
    const float x = static_cast<float>(codes[b] - data::band_mean[b]) / data::input_scale;   // exact
    instance.input()[b] = tinynet::quantize_value<in_t>(x);
    target[b] = tinynet::quantize_unclamped<out_t>(x);
  }
  instance.invoke();
  long long score = 0;
  for (int b = 0; b < data::bands; ++b) {
    const long long error = instance.output()[b] - target[b];
    score += error * error;
  }
  return score;
}

template <class Net>
static void score_sets(const char* label) {
  print("network ", label, ": arena ", static_cast<unsigned long>(Net::arena_bytes), " bytes, weights ",
        static_cast<unsigned long>(Net::weight_bytes), " bytes, ", static_cast<unsigned long long>(Net::macs),
        " MACs per window\n");
  for (const data::Set& set : data::sets) {
    print("scores ", label, " ", set.name, ":");
    for (int n = 0; n < set.count; ++n) print(" ", anomaly_score<Net>(set.codes[n]));
    print("\n");
  }
#if defined(__arm__)
  const auto t0 = cycles::start();
  (void)anomaly_score<Net>(data::sets[0].codes[0]);
  const auto t1 = cycles::stop();
  print("instructions per window (", label, ", scoring included, QEMU icount): ",
        static_cast<unsigned long long>(cycles::to_instructions(cycles::elapsed(t0, t1))), "\n");
#endif
}

int main() {
  print("arena: ", static_cast<unsigned long>(memory_t::arena_bytes), " bytes shared by both networks\n");
  score_sets<vibration_int8::network>("int8");
  score_sets<vibration_pruned::network>("pruned-int8");
  return 0;
}
