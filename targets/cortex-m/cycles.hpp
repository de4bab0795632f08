// Instruction counting under QEMU with -icount shift=6,align=off,sleep=off, measured exactly as
// ../shared/anchors.md measured TensorFlow Lite Micro: timer 1 of the CMSDK dual timer at
// 0x40002000 (LOAD +0x0, VALUE +0x4, CONTROL +0x8) counts down at 25 MHz while each instruction
// advances virtual time by 2^6 ns, i.e. 1.6 ticks per instruction.
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

// Instructions between two readings (the timer counts down), rounded to nearest.
inline std::uint64_t instructions(std::uint32_t before, std::uint32_t after) {
  const std::uint64_t ticks = static_cast<std::uint32_t>(before - after);
  return (ticks * 10 + 8) / 16;
}

}  // namespace cycles
