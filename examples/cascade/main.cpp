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
// The same source runs on the host (stdio) and on a Cortex-M4 under QEMU (semihosting: the files
// are read from the host through semihost::read_file, the text goes out through semihost::print;
// no heap, no printf). The device has no command line: it runs the golden inputs, under
// CASCADE_GOLDEN (a path relative to QEMU's working directory works: targets/cortex-m/run.py --cwd).
//
// Exit status 1 if a file cannot be read or has the wrong size.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include <tinynet/tinynet.hpp>

#include "command_model.hpp"
#include "wake_model.hpp"

#include "../console.hpp"  // print(): stdio on the host, semihosting on the device

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

// The file's bytes into `destination`; false (with a message) if it cannot be opened or is not
// exactly that long.
template <class Span>
static bool read_exactly(const char* path, Span destination) {
  const FileStatus status = read_file(path, destination);
  if (status == FileStatus::cannot_open) print_error("cascade: cannot open ", path, "\n");
  if (status == FileStatus::wrong_size)
    print_error("cascade: ", path, " is not ", destination.size_bytes(), " bytes of int8 features\n");
  return status == FileStatus::ok;
}

template <class Scores>
static std::size_t print_scores(const char* stage, Scores scores, const char* const* labels) {
  const auto top = static_cast<std::size_t>(std::max_element(scores.begin(), scores.end()) - scores.begin());
  print("  ", stage, " scores:");
  for (const std::int8_t s : scores) print(" ", static_cast<int>(s));
  print("\n  ", stage, " top class: ", top, " ", labels[top], "\n");
  return top;
}

static int run(const char* wake_path, const char* command_path) {
  auto wake_stage = memory.instance<first_stage>();
  if (!read_exactly(wake_path, wake_stage.input())) return 1;
  wake_stage.invoke();
  print(wake_path, "\n");
  const std::size_t heard = print_scores("wake", wake_stage.output(), wake_labels);
  if (heard != 2 && heard != 3) {  // silence or an unknown sound: the large network stays idle
    print("  command: not run\n");
    return 0;
  }
  // From here on the wake stage's tensors are overwritten: its result was read above.
  auto command_stage = memory.instance<second_stage>();
  if (!read_exactly(command_path, command_stage.input())) return 1;
  command_stage.invoke();
  print("  command input: ", command_path, "\n");
  print_scores("command", command_stage.output(), command_labels);
  return 0;
}

// CASCADE_GOLDEN "/" model "/in_" k ".bin" into `path` (k < 10; no heap, no snprintf).
template <std::size_t N>
static const char* golden_input(char (&path)[N], const char* model, int k) {
  const char digit[2] = {static_cast<char>('0' + k), '\0'};
  std::size_t length = 0;
  for (const char* part : {CASCADE_GOLDEN "/", model, "/in_", static_cast<const char*>(digit), ".bin"})
    for (; *part != '\0' && length + 1 < N; ++part) path[length++] = *part;
  path[length] = '\0';
  return path;
}

static int run_all(int argc, char* const* argv) {
  print("arena: ", memory_t::arena_bytes, " bytes shared (micro_speech ", first_stage::arena_bytes, " + kws ",
        second_stage::arena_bytes, " = ", memory_t::separate_bytes, " apart)\n");
  if (argc > 1 && argc % 2 == 0) {
    print_error("cascade: give pairs of files: WAKE.bin COMMAND.bin ...\n");
    return 1;
  }
  int status = 0;
  if (argc <= 1) {
    // TFLM's golden inputs: micro_speech's in_K.bin with kws_ref_model's in_K.bin.
    for (int k = 0; k < 8; ++k) {
      char wake_path[512], command_path[512];
      status |= run(golden_input(wake_path, "micro_speech_quantized", k), golden_input(command_path, "kws_ref_model", k));
    }
    return status;
  }
  for (int i = 1; i + 1 < argc; i += 2) status |= run(argv[i], argv[i + 1]);
  return status;
}

#if defined(__arm__)
int main() { return run_all(1, nullptr); }  // no command line on the device: TFLM's golden inputs
#else
int main(int argc, char** argv) { return run_all(argc, argv); }
#endif
