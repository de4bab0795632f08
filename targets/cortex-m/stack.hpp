// Peak stack use, measured by painting: Reset_Handler fills the stack below its own frame with a
// pattern; after a run, the lowest word that no longer holds the pattern marks the deepest point
// the stack reached (cortex-m-facts.md: this agrees with -fstack-usage frame sizes). Exact to the
// word unless the program itself stored the pattern at the deepest point.
//
//   stack::paint();                 // optional: forget everything used so far (above SP stays)
//   run_the_network();
//   semihost::print("stack: ", stack::peak(), " bytes\n");
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" {
// The stack region from the linker script: [__stack_bottom, __stack_top), growing down. It sits at
// the start of RAM, so an overflow leaves RAM and faults instead of overwriting data.
extern std::uint32_t __stack_bottom[];
extern std::uint32_t __stack_top[];
}

namespace stack {

inline constexpr std::uint32_t paint_pattern = 0xA5A5A5A5u;

// Bytes reserved for the stack (STACK_SIZE in the linker script).
inline std::size_t size() {
  return static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(__stack_top) -
                                  reinterpret_cast<std::uintptr_t>(__stack_bottom));
}

// Paints every word from the bottom of the stack up to the current stack pointer (exclusive).
// Written in assembly: a C++ loop may become a memset call, whose own frame lies below SP.
__attribute__((always_inline)) inline void paint() {
  std::uint32_t* p = __stack_bottom;
  std::uint32_t* sp;
  asm volatile(
      "  mov %[sp], sp\n"
      "1:\n"
      "  cmp %[p], %[sp]\n"
      "  bhs 2f\n"
      "  stmia %[p]!, {%[v]}\n"  // *p++ = pattern (Thumb-1 encodable: low registers)
      "  b 1b\n"
      "2:\n"
      : [p] "+l"(p), [sp] "=&l"(sp)
      : [v] "l"(paint_pattern)
      : "cc", "memory");
}

// Deepest stack use in bytes since reset (or since the last paint()), counted from the top.
inline std::size_t peak() {
  const std::uint32_t* p = __stack_bottom;
  while (p < __stack_top && *p == paint_pattern) ++p;
  return static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(__stack_top) -
                                  reinterpret_cast<std::uintptr_t>(p));
}

// Bytes in use right now (from the top to the stack pointer).
inline std::size_t current() {
  std::uintptr_t sp;
  asm volatile("mov %0, sp" : "=l"(sp));
  return static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(__stack_top) - sp);
}

}  // namespace stack
