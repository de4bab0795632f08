// Counting executed instructions under QEMU, measured exactly as /work/shared/anchors.md measured
// TensorFlow Lite Micro: run with `-icount shift=6,align=off,sleep=off` (run.py does), so each
// instruction advances virtual time by 2^6 = 64 ns, and read a timer clocked from virtual time.
// On the mps2 machines that is timer 1 of the CMSDK dual timer at 0x40002000 (LOAD +0x0,
// VALUE +0x4, CONTROL +0x8), counting down at 25 MHz: 1.6 ticks per instruction, so
// instructions = ticks * 10 / 16. These are instructions, not cycles (no pipeline or memory model).
//
//   const auto t0 = cycles::start();
//   work();
//   const auto t1 = cycles::stop();
//   semihost::print("instructions: ", cycles::to_instructions(cycles::elapsed(t0, t1)), "\n");
//
// Timer clock per machine (cpus.json passes it as TINYNET_TIMER_HZ; the defaults below match):
// mps2-an385/an386/an500 25 MHz; mps2-an505 20 MHz (1.28 ticks per instruction); microbit has no
// CMSDK timer, its nRF51 TIMER0 (0x40008000) counts up at 16 MHz (1.024 ticks per instruction);
// mps3-an547 (Cortex-M55) has none either: the SSE-300 system counter, 32 MHz (2.048 per instruction).
#pragma once

#include <cstddef>
#include <cstdint>
#include <numeric>

#if !defined(TINYNET_TIMER_NRF51) && !defined(TINYNET_TIMER_CMSDK) && !defined(TINYNET_TIMER_SSE300)
#if defined(__ARM_ARCH_6M__)
#define TINYNET_TIMER_NRF51 1  // the only ARMv6-M machine run.py knows is microbit
#else
#define TINYNET_TIMER_CMSDK 1
#endif
#endif

#ifndef TINYNET_TIMER_HZ
#if defined(TINYNET_TIMER_NRF51)
#define TINYNET_TIMER_HZ 16000000
#elif defined(TINYNET_TIMER_SSE300)
#define TINYNET_TIMER_HZ 32000000  // mps3-an547
#elif defined(__ARM_ARCH_8M_MAIN__)
#define TINYNET_TIMER_HZ 20000000  // mps2-an505
#else
#define TINYNET_TIMER_HZ 25000000
#endif
#endif

// Must match run.py's -icount shift (virtual nanoseconds per instruction = 2^shift).
#ifndef TINYNET_ICOUNT_SHIFT
#define TINYNET_ICOUNT_SHIFT 6
#endif

namespace cycles {

#if defined(TINYNET_TIMER_CMSDK)

// CMSDK APB dual timer, timer 1 (Arm DDI 0479, "APB dual-input timers"; QEMU cmsdk-apb-dualtimer).
struct DualTimer1 {
  volatile std::uint32_t load;     // +0x0: value loaded into the counter (also sets VALUE now)
  volatile std::uint32_t value;    // +0x4: the counter, counting down
  volatile std::uint32_t control;  // +0x8: see below
};
inline DualTimer1& timer() { return *reinterpret_cast<DualTimer1*>(0x40002000u); }

// CONTROL: bit 7 enable, bit 6 mode (0 = free running: wraps from 0 to 0xFFFFFFFF), bit 5
// interrupt enable (off), bits 3:2 prescale (00 = divide by 1), bit 1 size (1 = 32-bit),
// bit 0 one-shot (off). anchors.md: "enable | 32-bit, free running, prescale 1".
inline constexpr std::uint32_t control_running = 0x80u | 0x02u;

inline bool running() { return timer().control == control_running; }

// (Re)starts the counter from 0xFFFFFFFF.
inline void init() {
  timer().control = 0;
  timer().load = 0xFFFFFFFFu;
  timer().control = control_running;
}

// The raw counter (counts down).
inline std::uint32_t now() { return timer().value; }

// Timer ticks from reading `first` to reading `second` (modulo 2^32: one wrap is fine).
constexpr std::uint32_t elapsed(std::uint32_t first, std::uint32_t second) { return first - second; }

#elif defined(TINYNET_TIMER_NRF51)

// nRF51 TIMER0 (nRF51 Series Reference Manual, "TIMER"; QEMU nrf51_soc.timer). Tasks are
// triggered by writing 1; the counter is read by capturing it into CC[0].
struct Nrf51Timer {
  volatile std::uint32_t tasks_start;       // +0x000
  volatile std::uint32_t tasks_stop;        // +0x004
  volatile std::uint32_t tasks_count;       // +0x008
  volatile std::uint32_t tasks_clear;       // +0x00C
  volatile std::uint32_t tasks_shutdown;    // +0x010
  std::uint32_t reserved0[11];
  volatile std::uint32_t tasks_capture[4];  // +0x040
  std::uint32_t reserved1[301];
  volatile std::uint32_t mode;              // +0x504: 0 = timer (counts the clock)
  volatile std::uint32_t bitmode;           // +0x508: 3 = 32-bit
  std::uint32_t reserved2;
  volatile std::uint32_t prescaler;         // +0x510: f = 16 MHz / 2^prescaler
  std::uint32_t reserved3[11];
  volatile std::uint32_t cc[4];             // +0x540
};
static_assert(offsetof(Nrf51Timer, mode) == 0x504 && offsetof(Nrf51Timer, cc) == 0x540);
inline Nrf51Timer& timer() { return *reinterpret_cast<Nrf51Timer*>(0x40008000u); }

// No register tells whether the timer runs: remember it.
inline bool started = false;
inline bool running() { return started; }

inline void init() {
  timer().tasks_stop = 1;
  timer().mode = 0;
  timer().bitmode = 3;
  timer().prescaler = 0;
  timer().tasks_clear = 1;
  timer().tasks_start = 1;
  started = true;
}

// The raw counter (counts up).
inline std::uint32_t now() {
  timer().tasks_capture[0] = 1;
  return timer().cc[0];
}

constexpr std::uint32_t elapsed(std::uint32_t first, std::uint32_t second) { return second - first; }

#elif defined(TINYNET_TIMER_SSE300)

// The SSE-300's system counter (mps3-an547; QEMU sse-counter): a 64-bit counter enabled by CNTCR
// bit 0 in its control frame (Secure, 0x58100000), read in its status frame (0x48101000,
// CNTCV low word at +0x0). It counts at the 32 MHz system clock: 2.048 ticks per instruction at
// -icount shift=6 (a 4-instruction loop of 100 000 iterations reads 819 204 ticks).
inline volatile std::uint32_t& counter_control() { return *reinterpret_cast<volatile std::uint32_t*>(0x58100000u); }
inline volatile std::uint32_t& counter_low() { return *reinterpret_cast<volatile std::uint32_t*>(0x48101000u); }

inline bool running() { return (counter_control() & 1u) != 0; }
inline void init() { counter_control() = 1u; }

// The low word of the counter (counts up; wraps after 2^32 ticks, about 2 billion instructions).
inline std::uint32_t now() { return counter_low(); }

constexpr std::uint32_t elapsed(std::uint32_t first, std::uint32_t second) { return second - first; }

#endif

// Starts the timer unless it runs already (so measurements can nest) and returns a reading.
inline std::uint32_t start() {
  if (!running()) init();
  return now();
}
// A reading at the end of a measurement.
inline std::uint32_t stop() { return now(); }

// Ticks to instructions, rounded to nearest: ticks * 1e9 / (TINYNET_TIMER_HZ * 2^shift).
// At 25 MHz and shift 6 that is ticks * 10 / 16 (5 / 8); at 20 MHz 25 / 32; at 16 MHz 125 / 128.
constexpr std::uint32_t to_instructions(std::uint32_t ticks) {
  constexpr std::uint64_t num = 1000000000u;
  constexpr std::uint64_t den = static_cast<std::uint64_t>(TINYNET_TIMER_HZ) << TINYNET_ICOUNT_SHIFT;
  constexpr std::uint64_t g = std::gcd(num, den);
  return static_cast<std::uint32_t>((ticks * (num / g) + den / g / 2) / (den / g));
}
static_assert(TINYNET_TIMER_HZ != 25000000 || TINYNET_ICOUNT_SHIFT != 6 ||
              (to_instructions(640011) == 400007 && to_instructions(16) == 10));

// Instructions between two readings (the form the generated runners use).
inline std::uint64_t instructions(std::uint32_t first, std::uint32_t second) {
  return to_instructions(elapsed(first, second));
}

// Instructions spent in f(), including the measurement's own few (see tests/cortex-m/selftest.cpp).
template <typename F>
std::uint32_t measure(F&& f) {
  const std::uint32_t first = start();
  f();
  const std::uint32_t second = stop();
  return to_instructions(elapsed(first, second));
}

}  // namespace cycles
