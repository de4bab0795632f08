// cascade: a cheap network decides whether an expensive one runs, and both live in one arena.
//
//   cascade [WAKE.bin COMMAND.bin] ...
//
// The first stage is TFLM's micro_speech model (49 x 40 int8 spectrogram in; scores for silence,
// unknown, "yes", "no"). When its top class is a word ("yes" or "no"), the second stage, MLPerf
// Tiny's kws_ref_model (49 x 10 int8 MFCC in; 12 keywords), runs on COMMAND.bin. A real device
// would compute both feature sets from the same audio; here they are files (TFLM's golden inputs
// by default). The two networks never run at the same time, so they share one SharedArena: the
// RAM is the larger arena, not the sum. The first stage's result is read before the second
// stage's input is written, because the second stage's arena is the same bytes.
//
// Exit status 1 if a file cannot be read or has the wrong size.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include <tinynet/tinynet.hpp>

#include "command_model.hpp"
#include "wake_model.hpp"

using first_stage = wake::network;
using second_stage = command::network;
static_assert(first_stage::input_t<0>::size == 49 * 40 && first_stage::output_t<0>::size == 4);
static_assert(second_stage::input_t<0>::size == 49 * 10 && second_stage::output_t<0>::size == 12);

static constexpr const char* wake_labels[4] = {"silence", "unknown", "yes", "no"};
static constexpr const char* command_labels[12] = {"down", "go",    "left", "no",  "off",     "on",
                                                   "right", "stop", "up",   "yes", "silence", "unknown"};

// One arena for both: its size is the larger of the two, decided by the compiler.
using memory_t = tinynet::SharedArena<first_stage, second_stage>;
static memory_t memory;

template <class Span>
static bool read_exactly(const char* path, Span destination) {
  std::FILE* file = std::fopen(path, "rb");
  if (file == nullptr) {
    std::fprintf(stderr, "cascade: cannot open %s\n", path);
    return false;
  }
  const std::size_t count = std::fread(destination.data(), 1, destination.size_bytes(), file);
  const bool longer = std::fgetc(file) != EOF;
  std::fclose(file);
  if (count != destination.size_bytes() || longer) {
    std::fprintf(stderr, "cascade: %s is not %zu bytes of int8 features\n", path, destination.size_bytes());
    return false;
  }
  return true;
}

template <class Scores>
static std::size_t print_scores(const char* stage, Scores scores, const char* const* labels) {
  const auto top = static_cast<std::size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  std::printf("  %s scores:", stage);
  for (const std::int8_t s : scores) std::printf(" %d", s);
  std::printf("\n  %s top class: %zu %s\n", stage, top, labels[top]);
  return top;
}

static int run(const char* wake_path, const char* command_path) {
  auto wake_stage = memory.instance<first_stage>();
  if (!read_exactly(wake_path, wake_stage.input())) return 1;
  wake_stage.invoke();
  std::printf("%s\n", wake_path);
  const std::size_t heard = print_scores("wake", wake_stage.output(), wake_labels);
  if (heard != 2 && heard != 3) {  // silence or an unknown sound: the large network stays idle
    std::printf("  command: not run\n");
    return 0;
  }
  // From here on the wake stage's tensors are overwritten: its result was read above.
  auto command_stage = memory.instance<second_stage>();
  if (!read_exactly(command_path, command_stage.input())) return 1;
  command_stage.invoke();
  std::printf("  command input: %s\n", command_path);
  print_scores("command", command_stage.output(), command_labels);
  return 0;
}

int main(int argc, char** argv) {
  std::printf("arena: %zu bytes shared (micro_speech %zu + kws %zu = %zu apart)\n", memory_t::arena_bytes,
              first_stage::arena_bytes, second_stage::arena_bytes, memory_t::separate_bytes);
  if (argc > 1 && argc % 2 == 0) {
    std::fprintf(stderr, "cascade: give pairs of files: WAKE.bin COMMAND.bin ...\n");
    return 1;
  }
  int status = 0;
  if (argc == 1) {
    // TFLM's golden inputs: micro_speech's in_K.bin with kws_ref_model's in_K.bin.
    for (int k = 0; k < 8; ++k) {
      const std::string wake_path = std::string(CASCADE_GOLDEN) + "/micro_speech_quantized/in_" + std::to_string(k) + ".bin";
      const std::string command_path = std::string(CASCADE_GOLDEN) + "/kws_ref_model/in_" + std::to_string(k) + ".bin";
      status |= run(wake_path.c_str(), command_path.c_str());
    }
    return status;
  }
  for (int i = 1; i + 1 < argc; i += 2) status |= run(argv[i], argv[i + 1]);
  return status;
}
