// Minimal bare-metal start-up for the Cortex-M QEMU machines: the vector table, Reset_Handler
// (copy .data, zero .bss, enable the FPU, paint the stack, run init arrays, call app_main, exit
// through semihosting with main's status) and fault handlers that exit with status 100 + n.
#include <cstdint>

#include "semihost.hpp"

extern "C" {
extern std::uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern std::uint32_t __stack_bottom[], __stack_top[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
// The program's entry point (ISO C++ forbids calling main itself).
int app_main();
[[noreturn]] void Reset_Handler();
}

namespace {
[[noreturn]] void fault(int number) {
  semihost::write("fault\n");
  semihost::exit(100 + number);
}
}  // namespace

extern "C" {
[[noreturn]] void NMI_Handler() { fault(2); }
[[noreturn]] void HardFault_Handler() { fault(3); }
[[noreturn]] void MemManage_Handler() { fault(4); }
[[noreturn]] void BusFault_Handler() { fault(5); }
[[noreturn]] void UsageFault_Handler() { fault(6); }
[[noreturn]] void Default_Handler() { fault(0); }

// Word 0: initial stack pointer; word 1: reset; then the exception handlers.
__attribute__((section(".vectors"), used)) const void* const vector_table[16] = {
    __stack_top,
    reinterpret_cast<const void*>(&Reset_Handler),
    reinterpret_cast<const void*>(&NMI_Handler),
    reinterpret_cast<const void*>(&HardFault_Handler),
    reinterpret_cast<const void*>(&MemManage_Handler),
    reinterpret_cast<const void*>(&BusFault_Handler),
    reinterpret_cast<const void*>(&UsageFault_Handler),
    nullptr, nullptr, nullptr, nullptr,
    reinterpret_cast<const void*>(&Default_Handler),  // SVCall
    reinterpret_cast<const void*>(&Default_Handler),  // DebugMonitor
    nullptr,
    reinterpret_cast<const void*>(&Default_Handler),  // PendSV
    reinterpret_cast<const void*>(&Default_Handler),  // SysTick
};

// The stack-paint pattern; tinynet_stack_peak() scans for the deepest overwritten word.
constexpr std::uint32_t stack_paint = 0xA5A5A5A5u;

__attribute__((noinline)) std::uint32_t tinynet_stack_peak() {
  const std::uint32_t* p = __stack_bottom;
  while (p < __stack_top && *p == stack_paint) ++p;
  return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(__stack_top) - reinterpret_cast<std::uintptr_t>(p));
}

[[noreturn]] void Reset_Handler() {
  for (std::uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;) *dst++ = *src++;
  for (std::uint32_t* dst = __bss_start; dst < __bss_end;) *dst++ = 0;
#if defined(__ARM_FP)
  // CPACR: full access to coprocessors 10 and 11 (the FPU).
  *reinterpret_cast<volatile std::uint32_t*>(0xE000ED88u) |= 0xFu << 20;
  asm volatile("dsb\n isb" ::: "memory");
#endif
  // Paint the stack below the current frame (256 bytes of margin for this function).
  std::uint32_t* sp;
  asm volatile("mov %0, sp" : "=r"(sp));
  for (std::uint32_t* p = __stack_bottom; p < sp - 64; ++p) *p = stack_paint;
  for (auto* f = __init_array_start; f < __init_array_end; ++f) (*f)();
  semihost::exit(app_main());
}
}
