// Bare-metal start-up for tinynet's Cortex-M QEMU machines (cortex-m-facts.md, "Running a
// bare-metal program"): the vector table, Reset_Handler and one fault handler.
//
// Reset_Handler: enable the FPU (if compiled for one), copy .data, zero .bss, set the stack limit
// (ARMv8-M), paint the free stack (stack.hpp), run the init arrays, call main() and exit through
// semihosting with main's return value as QEMU's exit status.
// Any other exception prints what happened and exits with 100 + its exception number:
// 102 NMI, 103 HardFault, 104 MemManage, 105 BusFault, 106 UsageFault, 107 SecureFault,
// 111 SVCall, 112 DebugMonitor, 114 PendSV, 115 SysTick, 116 and up: interrupts.
// Static destructors are never run (the program ends in SYS_EXIT_EXTENDED).
#include <cstdint>

#include "semihost.hpp"
#include "stack.hpp"

extern "C" {
// From the linker script.
extern std::uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern void (*__preinit_array_start[])();
extern void (*__preinit_array_end[])();
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();

// The program's main(). ISO C++ forbids calling main, so it is reached through another name
// bound to the same symbol.
int tinynet_main() asm("main");
// Earlier programs define app_main() instead of main(): the weak main() below runs it.
int app_main() __attribute__((weak));

[[noreturn]] void Reset_Handler();
void Fault_Handler();
[[noreturn]] void tinynet_fault(const std::uint32_t* frame, std::uint32_t exc_return);
std::uint32_t tinynet_stack_peak();
}

// Used only when the program defines no main() of its own.
extern "C" __attribute__((weak)) int tinynet_default_main() asm("main");
extern "C" int tinynet_default_main() {
  if (app_main != nullptr) return app_main();
  semihost::write("tinynet harness: the program defines no main()\n");
  return 254;
}

// The vector table, first in flash (linker script: KEEP(*(.vectors))). Word 0: initial SP,
// word 1: reset; words 2..15: the system exceptions (ARMv7-M/ARMv8-M ARM, "The vector table").
// No interrupt is ever enabled, so no interrupt vectors follow.
extern "C" __attribute__((section(".vectors"), used)) const void* const tinynet_vector_table[16] = {
    __stack_top,
    reinterpret_cast<const void*>(&Reset_Handler),
    reinterpret_cast<const void*>(&Fault_Handler),  // 2 NMI
    reinterpret_cast<const void*>(&Fault_Handler),  // 3 HardFault
    reinterpret_cast<const void*>(&Fault_Handler),  // 4 MemManage
    reinterpret_cast<const void*>(&Fault_Handler),  // 5 BusFault
    reinterpret_cast<const void*>(&Fault_Handler),  // 6 UsageFault
    reinterpret_cast<const void*>(&Fault_Handler),  // 7 SecureFault (ARMv8-M)
    nullptr,
    nullptr,
    nullptr,
    reinterpret_cast<const void*>(&Fault_Handler),  // 11 SVCall
    reinterpret_cast<const void*>(&Fault_Handler),  // 12 DebugMonitor
    nullptr,
    reinterpret_cast<const void*>(&Fault_Handler),  // 14 PendSV
    reinterpret_cast<const void*>(&Fault_Handler),  // 15 SysTick
};

extern "C" [[noreturn]] void Reset_Handler() {
#if defined(__ARM_FP)
  // First, before any compiled code might touch an FP register: CPACR (0xE000ED88) bits 20..23 =
  // full access to coprocessors 10 and 11, the FPU; dsb + isb so the next instruction sees it.
  *reinterpret_cast<volatile std::uint32_t*>(0xE000ED88u) |= 0xFu << 20;
  asm volatile("dsb\n isb" ::: "memory");
#endif
  // The empty asm statements keep GCC from turning these loops into memcpy/memset calls: the
  // harness needs no libc.
  for (std::uint32_t *src = __data_load, *dst = __data_start; dst < __data_end; ++src, ++dst) {
    *dst = *src;
    asm("" : "+r"(dst));
  }
  for (std::uint32_t* dst = __bss_start; dst < __bss_end; ++dst) {
    *dst = 0;
    asm("" : "+r"(dst));
  }
#if defined(__ARM_ARCH_8M_MAIN__)
  // MSPLIM: pushing below the stack region raises a UsageFault (STKOF) instead of writing past it.
  asm volatile("msr msplim, %0" ::"r"(__stack_bottom));
#endif
  stack::paint();
  for (auto* f = __preinit_array_start; f < __preinit_array_end; ++f) (*f)();
  for (auto* f = __init_array_start; f < __init_array_end; ++f) (*f)();
  semihost::exit(tinynet_main());
}

// Every exception but reset: hand the stacked frame (MSP or PSP, per EXC_RETURN bit 2) to
// tinynet_fault. ARMv6-M instructions only, so it assembles for every CPU.
extern "C" __attribute__((naked)) void Fault_Handler() {
  asm volatile(
      "  mov r1, lr\n"
      "  movs r2, #4\n"
      "  mrs r0, msp\n"
      "  tst r1, r2\n"
      "  beq 1f\n"
      "  mrs r0, psp\n"
      "1:\n"
      "  bl tinynet_fault\n");
}

namespace {
const char* exception_name(std::uint32_t number) {
  switch (number) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    case 7: return "SecureFault";
    case 11: return "SVCall";
    case 12: return "DebugMonitor";
    case 14: return "PendSV";
    case 15: return "SysTick";
    default: return number >= 16 ? "interrupt" : "reserved exception";
  }
}
}  // namespace

// frame: r0, r1, r2, r3, r12, lr, pc, xPSR of the interrupted code.
extern "C" [[noreturn]] void tinynet_fault(const std::uint32_t* frame, std::uint32_t) {
  std::uint32_t ipsr;
  asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  const std::uint32_t number = ipsr & 0x1FFu;
  semihost::print("tinynet harness: ", exception_name(number), " (exception ", number, ") at pc=",
                  semihost::hex(frame[6], 8), " lr=", semihost::hex(frame[5], 8));
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)
  // CFSR (0xE000ED28): MemManage/Bus/UsageFault status; HFSR (0xE000ED2C); BFAR (0xE000ED38).
  const auto reg = [](std::uintptr_t address) { return *reinterpret_cast<volatile std::uint32_t*>(address); };
  semihost::print(" cfsr=", semihost::hex(reg(0xE000ED28u), 8), " hfsr=", semihost::hex(reg(0xE000ED2Cu), 8),
                  " bfar=", semihost::hex(reg(0xE000ED38u), 8));
#endif
  semihost::print("\n");
  semihost::exit(static_cast<int>(100 + (number < 155 ? number : 155)));
}

// Peak stack bytes (stack.hpp), with C linkage for the generated runners.
extern "C" std::uint32_t tinynet_stack_peak() { return static_cast<std::uint32_t>(stack::peak()); }
