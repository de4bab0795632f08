// keyword_spotting: MLPerf Tiny's keyword-spotting network (a DS-CNN over 49 x 10 MFCC features),
// converted at build time by `scripts/tinynet convert` into kws_model.hpp, run on the host.
//
//   keyword_spotting [FEATURES.bin ...]
//
// Each file holds one feature matrix as it enters the network: 490 int8 values (49 frames x 10
// coefficients), already quantized with the input's scale and zero point. For each, the program
// prints the 12 int8 scores and the top class with its name and probability. Without arguments it
// reads KWS_DEFAULT_INPUT (one of TFLM's golden inputs in ../shared). Exit status 1 if a file
// cannot be read or has the wrong size.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>

#include <tinynet/tinynet.hpp>

#include "kws_model.hpp"

using net = kws::network;
static_assert(net::input_t<0>::size == 49 * 10, "the MLPerf Tiny kws model takes 49 x 10 features");
static_assert(net::output_t<0>::size == 12, "and scores 12 classes");

// The class order of the model's output: word_labels in MLPerf Tiny's training code
// (mlcommons/tiny, benchmark/training/keyword_spotting/get_dataset.py).
static constexpr const char* labels[12] = {"down", "go",   "left", "no",  "off",     "on",
                                           "right", "stop", "up",   "yes", "silence", "unknown"};

static tinynet::Instance<net> instance;  // arena: net::arena_bytes of .bss

static bool read_features(const char* path, std::int8_t (&features)[49 * 10]) {
  std::FILE* file = std::fopen(path, "rb");
  if (file == nullptr) {
    std::fprintf(stderr, "keyword_spotting: cannot open %s\n", path);
    return false;
  }
  const std::size_t count = std::fread(features, 1, sizeof(features), file);
  const bool longer = std::fgetc(file) != EOF;
  std::fclose(file);
  if (count != sizeof(features) || longer) {
    std::fprintf(stderr, "keyword_spotting: %s is not %zu bytes of int8 features\n", path, sizeof(features));
    return false;
  }
  return true;
}

static int classify(const char* path) {
  std::int8_t features[49 * 10];
  if (!read_features(path, features)) return 1;
  std::copy(std::begin(features), std::end(features), instance.input().begin());
  instance.invoke();
  const auto scores = instance.output();
  const auto top = static_cast<std::size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  using out = net::output_t<0>;
  const float probability = static_cast<float>(scores[top] - out::zero_point) * out::scale;
  std::printf("%s\n  scores:", path);
  for (const std::int8_t s : scores) std::printf(" %d", s);
  std::printf("\n  top class: %zu %s (p = %.3f)\n", top, labels[top], static_cast<double>(probability));
  return 0;
}

int main(int argc, char** argv) {
  std::printf("MLPerf Tiny keyword spotting: %llu MACs, arena %zu bytes, weights %zu bytes\n",
              static_cast<unsigned long long>(net::macs), net::arena_bytes, net::weight_bytes);
  if (argc < 2) return classify(KWS_DEFAULT_INPUT);
  int status = 0;
  for (int i = 1; i < argc; ++i) status |= classify(argv[i]);
  return status;
}
