// Instruction counting under QEMU with -icount shift=6,align=off,sleep=off, measured exactly as
// ../shared/anchors.md measured TensorFlow Lite Micro: timer 1 of the CMSDK dual timer at
// 0x40002000 (LOAD +0x0, VALUE +0x4, CONTROL +0x8) counts down at 25 MHz while each instruction
// advances virtual time by 2^6 ns, i.e. 1.6 ticks per instruction. The timer's clock is 25 MHz on
// mps2-an385/an386/an500 and 20 MHz on mps2-an505 (measured here: 1.28 ticks per instruction);
// the build passes it as TINYNET_TIMER_HZ.
#pragma once

#include <cstdint>

namespace cycles {

struct DualTimer1 {
  volatile std::uint32_t load;
  volatile std::uint32_t value;
  volatile std::uint32_t control;
};

inline DualTimer1& timer() { return *reinterpret_cast<DualTimer1*>(0x40002000u); }

// Free running, 32-bit, prescale 1, enabled (CONTROL bits: 7 enable, 1 32-bit size).
inline void start() {
  timer().control = 0;
  timer().load = 0xFFFFFFFFu;
  timer().control = 0x80u | 0x02u;
}

inline std::uint32_t now() { return timer().value; }

#ifndef TINYNET_TIMER_HZ
#define TINYNET_TIMER_HZ 25000000
#endif

// Instructions between two readings (the timer counts down), rounded to nearest:
// one instruction lasts 64 ns, i.e. TINYNET_TIMER_HZ * 64e-9 ticks (1.6 at 25 MHz).
inline std::uint64_t instructions(std::uint32_t before, std::uint32_t after) {
  const std::uint64_t ticks = static_cast<std::uint32_t>(before - after);
  constexpr std::uint64_t hz = TINYNET_TIMER_HZ;
  return (ticks * 15625000u + hz / 2) / hz;  // 15625000 = 1e9 / 64
}

}  // namespace cycles
