// Bare-metal start-up for tinynet's Cortex-M QEMU machines (cortex-m-facts.md, "Running a
// bare-metal program"): the vector table, Reset_Handler and one fault handler.
//
// Reset_Handler: enable the FPU (if compiled for one), copy .data, zero .bss, enable the
// configurable fault exceptions and set the stack limit (where the CPU has them), paint the free
// stack (stack.hpp), run the init arrays, call main() and exit through semihosting with main's
// return value as QEMU's exit status.
// Any other exception prints what happened and exits with 100 + its exception number:
// 102 NMI, 103 HardFault, 104 MemManage, 105 BusFault, 106 UsageFault, 107 SecureFault,
// 111 SVCall, 112 DebugMonitor, 114 PendSV, 115 SysTick, 116 and up: interrupts.
// 99: main returned, but the stack had been used down to its last word (an overflow, probably).
// Static destructors are never run (the program ends in SYS_EXIT_EXTENDED).
#include <cstdint>

#include "semihost.hpp"
#include "stack.hpp"

extern "C" {
// From the linker script.
extern std::uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern std::uint32_t __stack_guard_start[], __stack_guard_end[];
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
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)
  // SHCSR (0xE000ED24) bits 16, 17, 18 (and 19 on ARMv8-M): MemManage, BusFault, UsageFault
  // (SecureFault) get their own exception numbers, hence exit codes, instead of HardFault's.
  std::uint32_t enable = 0x7u << 16;
#if defined(__ARM_ARCH_8M_MAIN__)
  enable |= 1u << 19;
#endif
  *reinterpret_cast<volatile std::uint32_t*>(0xE000ED24u) |= enable;
#endif
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
  // A stack guard with the MPU (PMSAv7, ARMv7-M ARM B3.5) where the linker script asks for one
  // and the CPU has an MPU (MPU_TYPE 0xE000ED90, DREGION bits 15:8): region 0 covers the guard
  // (a power of two >= 32 bytes, aligned to its size), no access (RASR AP = 0b000), not executable
  // (XN, bit 28), SIZE = log2(bytes) - 1 (bits 5:1), enabled (bit 0). MPU_CTRL: ENABLE (bit 0) +
  // PRIVDEFENA (bit 2): everything else keeps the default memory map. Pushing into the guard
  // raises MemManage (exit 104).
  const auto reg = [](std::uintptr_t address) -> volatile std::uint32_t& {
    return *reinterpret_cast<volatile std::uint32_t*>(address);
  };
  const auto guard = reinterpret_cast<std::uintptr_t>(__stack_guard_start);
  const std::uint32_t guard_bytes = reinterpret_cast<std::uintptr_t>(__stack_guard_end) - guard;
  if (guard_bytes >= 32 && (guard_bytes & (guard_bytes - 1)) == 0 && (guard & (guard_bytes - 1)) == 0 &&
      (reg(0xE000ED90u) & 0xFF00u) != 0) {
    reg(0xE000ED98u) = 0;                                                                   // MPU_RNR: region 0
    reg(0xE000ED9Cu) = guard;                                                               // MPU_RBAR
    reg(0xE000EDA0u) = (1u << 28) | ((31u - __builtin_clz(guard_bytes) - 1u) << 1) | 1u;  // MPU_RASR
    reg(0xE000ED94u) = (1u << 2) | 1u;                                                      // MPU_CTRL
    asm volatile("dsb\n isb" ::: "memory");
  }
#endif
#if defined(__ARM_ARCH_8M_MAIN__)
  // MSPLIM: pushing below the stack region raises a UsageFault (STKOF) instead of writing past it.
  asm volatile("msr msplim, %0" ::"r"(__stack_bottom));
#endif
  stack::paint();
  for (auto* f = __preinit_array_start; f < __preinit_array_end; ++f) (*f)();
  for (auto* f = __init_array_start; f < __init_array_end; ++f) (*f)();
  const int status = tinynet_main();
  if (__stack_bottom[0] != stack::paint_pattern) {
    // Without a stack limit register (all but ARMv8-M) an overflow may go unnoticed: say so.
    semihost::print("tinynet harness: main returned ", status, ", but the stack was used down to its last word (",
                    stack::size(), " bytes): a stack overflow? (build.py --stack-size)\n");
    semihost::exit(99);
  }
  semihost::exit(status);
}

// Every exception but reset: hand the stacked frame (MSP or PSP, per EXC_RETURN bit 2) to
// tinynet_fault, on a fresh stack: MSP goes back to the top of the stack region, since the
// program will not resume and its stack may be exhausted (a stack overflow). ARMv6-M
// instructions only, so it assembles for every CPU.
extern "C" __attribute__((naked)) void Fault_Handler() {
  asm volatile(
      "  mov r1, lr\n"
      "  movs r2, #4\n"
      "  mrs r0, msp\n"
      "  tst r1, r2\n"
      "  beq 1f\n"
      "  mrs r0, psp\n"
      "1:\n"
      "  ldr r2, =__stack_top\n"
      "  msr msp, r2\n"
      "  bl tinynet_fault\n"
      "  .ltorg\n");
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

// frame: r0, r1, r2, r3, r12, lr, pc, xPSR of the interrupted code, if it is in the stack.
extern "C" [[noreturn]] void tinynet_fault(const std::uint32_t* frame, std::uint32_t) {
  std::uint32_t ipsr;
  asm volatile("mrs %0, ipsr" : "=r"(ipsr));
  const std::uint32_t number = ipsr & 0x1FFu;
  semihost::print("tinynet harness: ", exception_name(number), " (exception ", number, ")");
  if (frame >= __stack_bottom && frame + 8 <= __stack_top)
    semihost::print(" at pc=", semihost::hex(frame[6], 8), " lr=", semihost::hex(frame[5], 8));
  else
    semihost::print(" with sp=", semihost::hex(reinterpret_cast<std::uintptr_t>(frame), 8),
                    " outside the stack: a stack overflow (build.py --stack-size)");
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)
  // CFSR (0xE000ED28): MemManage/Bus/UsageFault status; HFSR (0xE000ED2C); MMFAR (0xE000ED34),
  // BFAR (0xE000ED38): the faulting addresses, where CFSR says they are valid.
  const auto reg = [](std::uintptr_t address) { return *reinterpret_cast<volatile std::uint32_t*>(address); };
  semihost::print(" cfsr=", semihost::hex(reg(0xE000ED28u), 8), " hfsr=", semihost::hex(reg(0xE000ED2Cu), 8),
                  " mmfar=", semihost::hex(reg(0xE000ED34u), 8), " bfar=", semihost::hex(reg(0xE000ED38u), 8));
#endif
  semihost::print("\n");
  semihost::exit(static_cast<int>(100 + (number < 155 ? number : 155)));
}

// Peak stack bytes (stack.hpp), with C linkage for the generated runners.
extern "C" std::uint32_t tinynet_stack_peak() { return static_cast<std::uint32_t>(stack::peak()); }
