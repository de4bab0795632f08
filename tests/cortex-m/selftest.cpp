// Self-test of the bare-metal harness (targets/cortex-m), run under QEMU on every CPU:
// start-up (.data, .bss, static constructors, FPU), printf-free formatting, int8 arithmetic,
// the instruction counter (a known loop against anchors.md's numbers) and the stack meter.
// Exit status 0 if every check passed, 1 otherwise.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

#include "cycles.hpp"
#include "semihost.hpp"
#include "stack.hpp"

namespace {

int checks = 0;
int failures = 0;

void check(bool ok, const char* what) {
  ++checks;
  if (!ok) {
    ++failures;
    semihost::print("FAILED: ", what, "\n");
  }
}

// Compares format_to's text with the expected text.
template <typename... Args>
void check_format(const char* expected, const Args&... args) {
  char text[48];
  const std::size_t length = semihost::format_to(text, args...);
  const bool ok = std::strcmp(text, expected) == 0 && length == std::strlen(expected);
  check(ok, "format_to");
  if (!ok) semihost::print("  got \"", static_cast<const char*>(text), "\", expected \"", expected, "\"\n");
}

// Start-up: .data copied from flash, .bss zeroed, constructors of statics run.
int initialized = 12345;
int zeroed[16];
struct Constructed {
  int value;
  Constructed() : value(initialized + 1) {}
};
Constructed constructed;

// int8 arithmetic: a dot product of 64 int8 pairs plus a bias, then requantization to int8,
// against the same computed by the host compiler (constexpr).
constexpr std::size_t n = 64;
struct Vectors {
  std::int8_t a[n], b[n];
};
constexpr Vectors make_vectors() {
  Vectors v{};
  std::uint32_t state = 7;
  for (std::size_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    v.a[i] = static_cast<std::int8_t>(state >> 24);
    v.b[i] = static_cast<std::int8_t>(state >> 16);
  }
  v.a[0] = -128;
  v.b[0] = -128;  // the extreme product, 16384
  return v;
}
constexpr Vectors vectors = make_vectors();

constexpr std::int32_t dot(const std::int8_t* a, const std::int8_t* b, std::int32_t bias) {
  std::int32_t sum = bias;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<std::int32_t>(a[i]) * b[i];
  return sum;
}
// Rounding right shift, then saturation to int8.
constexpr std::int8_t requantize(std::int32_t value, int shift, std::int32_t zero_point) {
  const std::int32_t rounded = (value + (1 << (shift - 1))) >> shift;
  const std::int32_t shifted = rounded + zero_point;
  return static_cast<std::int8_t>(shifted < -128 ? -128 : shifted > 127 ? 127 : shifted);
}
constexpr std::int32_t expected_dot = dot(vectors.a, vectors.b, -1000);

// The inputs live in RAM and are read through a volatile pointer, so the device computes them.
Vectors ram_vectors;

__attribute__((noinline)) std::int32_t device_dot(const Vectors& v, std::int32_t bias) {
  return dot(v.a, v.b, bias);
}

#if defined(__ARM_FEATURE_DSP)
// The same with the DSP extension (M4, M7, M33): two 16-bit MACs per SMLAD.
__attribute__((noinline)) std::int32_t device_dot_smlad(const Vectors& v, std::int32_t bias) {
  std::int32_t sum = bias;
  for (std::size_t i = 0; i < n; i += 4) {
    std::uint32_t a, b;
    std::memcpy(&a, v.a + i, 4);
    std::memcpy(&b, v.b + i, 4);
    // sxtb16 takes bytes 0 and 2; with a rotation by 8, bytes 1 and 3.
    sum = static_cast<std::int32_t>(__smlad(__sxtb16(a), __sxtb16(b), static_cast<std::uint32_t>(sum)));
    sum = static_cast<std::int32_t>(
        __smlad(__sxtb16(std::rotr(a, 8)), __sxtb16(std::rotr(b, 8)), static_cast<std::uint32_t>(sum)));
  }
  return sum;
}
#endif

// Four instructions per iteration (subs, nop, nop, bne), 100000 iterations: anchors.md's loop,
// which measured 640011 ticks = 400007 instructions including TFLM's harness's overhead.
__attribute__((noinline)) void known_loop() {
  std::uint32_t count = 100000;
  asm volatile(
      "1:\n"
      "  subs %0, %0, #1\n"
      "  nop\n"
      "  nop\n"
      "  bne 1b\n"
      : "+l"(count)
      :
      : "cc");
}

// Uses about 1 KB of stack.
__attribute__((noinline)) int deep_frame(int seed) {
  volatile std::uint8_t buffer[1024];
  for (std::size_t i = 0; i < sizeof(buffer); ++i) buffer[i] = static_cast<std::uint8_t>(seed + i);
  int sum = 0;
  for (std::size_t i = 0; i < sizeof(buffer); i += 64) sum += buffer[i];
  return sum;
}

const char* cpu_name() {
#if defined(__ARM_ARCH_6M__)
  return "ARMv6-M (cortex-m0plus code)";
#elif defined(__ARM_ARCH_7M__)
  return "ARMv7-M (cortex-m3)";
#elif defined(__ARM_ARCH_7EM__) && defined(__ARM_FP) && (__ARM_FP & 8)
  return "ARMv7E-M with double-precision FPU (cortex-m7)";
#elif defined(__ARM_ARCH_7EM__)
  return "ARMv7E-M (cortex-m4)";
#elif defined(__ARM_ARCH_8M_MAIN__)
  return "ARMv8-M mainline (cortex-m33)";
#else
  return "unknown";
#endif
}

}  // namespace

int main() {
  semihost::print("tinynet Cortex-M harness self-test: ", cpu_name(), ", timer clock ", TINYNET_TIMER_HZ, " Hz\n");

  // Start-up.
  bool all_zero = true;
  for (int z : zeroed) all_zero = all_zero && z == 0;
  check(initialized == 12345, ".data initialized from flash");
  check(all_zero, ".bss zeroed");
  check(constructed.value == 12346, "static constructor ran (init_array)");

  // Formatting.
  check_format("0", 0);
  check_format("-128 127 255", std::int8_t{-128}, ' ', std::int8_t{127}, ' ', std::uint8_t{255});
  check_format("18446744073709551615", UINT64_MAX);
  check_format("-9223372036854775808", INT64_MIN);
  check_format("4294967296 -2147483648", std::uint64_t{1} << 32, ' ', INT32_MIN);
  check_format("0xbeef 0x0000001f 0x0", semihost::hex(0xBEEF), ' ', semihost::hex(0x1F, 8), ' ', semihost::hex(0));
  check_format("x=true y=false c", "x=", true, " y=", false, ' ', 'c');
  char tiny[6];
  check(semihost::format_to(tiny, "truncated") == 5 && std::strcmp(tiny, "trunc") == 0, "format_to truncates");

  // int8 arithmetic.
  auto* volatile_source = reinterpret_cast<const volatile std::int8_t*>(&vectors);
  auto* destination = reinterpret_cast<std::int8_t*>(&ram_vectors);
  for (std::size_t i = 0; i < sizeof(Vectors); ++i) destination[i] = volatile_source[i];
  const std::int32_t got = device_dot(ram_vectors, -1000);
  check(got == expected_dot, "int8 dot product");
  check(requantize(got, 8, -3) == requantize(expected_dot, 8, -3), "int8 requantization");
  check(requantize(40000, 4, 0) == 127 && requantize(-40000, 4, 0) == -128, "int8 saturation");
#if defined(__ARM_FEATURE_DSP)
  check(device_dot_smlad(ram_vectors, -1000) == expected_dot, "int8 dot product with SMLAD/SXTB16");
#endif
  semihost::print("int8 dot product: ", got, " (host compiler: ", expected_dot, ")\n");

  // Floating point: on the FPU where there is one (a disabled FPU would fault: exit 106/103).
  volatile float x = 1.5f, y = 2.25f, z = 0.125f;
  check(x * y + z == 3.5f, "float arithmetic");
  volatile double dx = 1.0 / 3.0;
  check(dx * 3.0 == 1.0, "double arithmetic");

  // The instruction counter.
  const std::uint32_t e0 = cycles::start();
  const std::uint32_t e1 = cycles::stop();
  const std::uint32_t empty_ticks = cycles::elapsed(e0, e1);
  const std::uint32_t empty = cycles::to_instructions(empty_ticks);
  // A read is one load on the CMSDK timer; on the nRF51 a capture task write, then a load.
  check(empty <= 12, "an empty measurement costs a few instructions");

  std::uint32_t loop_ticks[2], loop_instructions[2];
  for (int run = 0; run < 2; ++run) {
    const std::uint32_t t0 = cycles::start();
    known_loop();
    const std::uint32_t t1 = cycles::stop();
    loop_ticks[run] = cycles::elapsed(t0, t1);
    loop_instructions[run] = cycles::to_instructions(loop_ticks[run]);
  }
  // 400000 in the loop plus the call, the counter's set-up and return, and the reads.
  check(loop_instructions[0] >= 400000 && loop_instructions[0] <= 400012, "known loop: 400000 + a few instructions");
  // The same code measured twice: the tick boundaries fall differently relative to the two reads
  // (a tick is 0.625 instructions at 25 MHz, 0.78 at 20 MHz), so the rounded counts may differ by
  // one. A whole program is deterministic: the same ELF prints the same numbers on every run.
  check(loop_instructions[0] + 1 >= loop_instructions[1] && loop_instructions[1] + 1 >= loop_instructions[0],
        "known loop: the same count twice, to one instruction");
  const std::uint32_t measured = cycles::measure([] { known_loop(); });
  check(measured + 4 >= loop_instructions[0] && measured <= loop_instructions[0] + 4, "cycles::measure agrees");
  semihost::print("empty measurement: ", empty_ticks, " ticks = ", empty, " instructions\n",
                  "known loop (4 x 100000): ", loop_ticks[0], " ticks = ", loop_instructions[0],
                  " instructions (anchors.md, TFLM's harness: 640011 ticks = 400007); again: ", loop_ticks[1],
                  " ticks = ", loop_instructions[1], "; with cycles::measure: ", measured, "\n");

  // The stack meter.
  const std::size_t startup_peak = stack::peak();
  check(startup_peak > 0 && startup_peak < stack::size(), "stack peak within the stack");
  stack::paint();
  const std::size_t before = stack::peak();
  check(deep_frame(3) != 0 || true, "deep frame");
  const std::size_t after = stack::peak();
  check(after >= before + 1024 && after <= before + 1024 + 128, "stack peak sees a 1 KB frame");
  semihost::print("stack: ", startup_peak, " bytes peak so far, 1 KB frame measured as ", after - before,
                  " bytes, ", stack::size(), " reserved\n");

  if (failures == 0)
    semihost::print("selftest: all ", checks, " checks passed\n");
  else
    semihost::print("selftest: ", failures, " of ", checks, " checks FAILED\n");
  return failures == 0 ? 0 : 1;
}
