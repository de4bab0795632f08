// A program that must fail in a known way: the harness turns each fault into its own exit status
// (startup.cpp), which tests/cortex-m/CMakeLists.txt checks with run.py --expect-exit.
// Build with one of:
//   -DTINYNET_FAULT_UDF       an undefined instruction: UsageFault 106 (HardFault 103 on ARMv6-M)
//   -DTINYNET_FAULT_OVERFLOW  unbounded recursion: MemManage 104 on ARMv7-M (MPU guard below the
//                             stack), UsageFault 106 on ARMv8-M (MSPLIM), HardFault 103 on ARMv6-M
#include <cstdint>

__attribute__((noinline)) int recurse(int n) {
  volatile char pad[256];
  pad[0] = static_cast<char>(n);
  return recurse(n + 1) + pad[0];
}

int main() {
#if defined(TINYNET_FAULT_UDF)
  asm volatile("udf #0");
  return 0;
#elif defined(TINYNET_FAULT_OVERFLOW)
  return recurse(0);
#else
#error "define TINYNET_FAULT_UDF or TINYNET_FAULT_OVERFLOW"
#endif
}
