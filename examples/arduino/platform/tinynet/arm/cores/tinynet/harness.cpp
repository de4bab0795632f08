// tinynet's Cortex-M start-up code (targets/cortex-m/startup.cpp: vector table, Reset_Handler,
// fault handler, semihosting exit with main()'s status), compiled as part of the core. platform.txt
// puts targets/cortex-m on the include path (tinynet.harness.path).
#include "startup.cpp"
