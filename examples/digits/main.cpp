// digits: a network trained on scikit-learn's digits (examples/digits/train.py), quantized to
// int8 and pruned by `scripts/tinynet convert`, classifying the 397 held-out test images.
// The same source runs on the host (printf) and on a Cortex-M4 under QEMU (semihosting).
//
// Build inputs (generated): DIGITS_MODEL_HEADER (default digits_model.hpp), the network in
// namespace `digits`, and
// digits_test_set.hpp, the test images and labels.
#include <cstdint>

#include <tinynet/tinynet.hpp>

#ifndef DIGITS_MODEL_HEADER
#define DIGITS_MODEL_HEADER "digits_model.hpp"
#endif
#include DIGITS_MODEL_HEADER
#include "digits_test_set.hpp"

#if defined(__arm__)
#include "cycles.hpp"
#include "semihost.hpp"
template <class... Args>
static void print(const Args&... args) { semihost::print(args...); }
#else
#include <cstdio>
static void print_one(const char* text) { std::fputs(text, stdout); }
static void print_one(long long value) { std::printf("%lld", value); }
static void print_one(int value) { std::printf("%d", value); }
static void print_one(unsigned long value) { std::printf("%lu", value); }
static void print_one(unsigned long long value) { std::printf("%llu", value); }
template <class... Args>
static void print(const Args&... args) { (print_one(args), ...); }
#endif

using net = digits::network;
using image = net::input_t<0>;
using scores = net::output_t<0>;
static_assert(image::size == 64, "the digits networks read one 8x8 image");
static_assert(scores::size == 10, "the digits networks score 10 classes");
// A RAM and flash budget, checked by the compiler: the figures are constants.
static_assert(net::arena_bytes <= 2048, "the digits network must fit a 2 KiB arena");
static_assert(net::weight_bytes <= 32 * 1024, "the digits network must fit 32 KiB of flash");

static tinynet::Instance<net> instance;  // the arena, in .bss: no constructor runs

static int classify(const std::uint8_t* pixels) {
  for (int i = 0; i < 64; ++i)
    instance.input()[i] = tinynet::quantize_value<image>(static_cast<float>(pixels[i]) / 16.0f);
  instance.invoke();
  int best = 0;
  for (int c = 1; c < 10; ++c)
    if (instance.output()[c] > instance.output()[best]) best = c;   // first maximum, like argmax
  return best;
}

int main() {
  int correct = 0;
  for (int n = 0; n < digits_data::test_count; ++n)
    correct += classify(digits_data::test_pixels[n]) == digits_data::test_labels[n];
  // accuracy in hundredths of a percent, rounded half up
  const long long basis_points = (20000LL * correct + digits_data::test_count) / (2LL * digits_data::test_count);
  print("accuracy: ", correct, "/", digits_data::test_count, " = ", basis_points / 100, ".",
        basis_points % 100 / 10, basis_points % 10, "%\n");
  print("arena ", static_cast<unsigned long>(net::arena_bytes), " bytes, weights ",
        static_cast<unsigned long>(net::weight_bytes), " bytes, ", static_cast<unsigned long long>(net::macs),
        " MACs per inference\n");
#if defined(__arm__)
  const auto t0 = cycles::start();
  (void)classify(digits_data::test_pixels[0]);
  const auto t1 = cycles::stop();
  print("instructions per image, quantizing its 64 pixels included (QEMU icount): ",
        static_cast<unsigned long long>(cycles::to_instructions(cycles::elapsed(t0, t1))), "\n");
#endif
  return correct * 10 >= digits_data::test_count * 8 ? 0 : 1;   // fail loudly below 80 %
}
