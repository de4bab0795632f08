// What the target CPU offers, as seen by the preprocessor.
//
// TINYNET_ARM_DSP is 1 on cores with Arm's DSP extension (Cortex-M4, M7, M33, M55: SMLAD,
// SXTB16, SMMULR, SSAT), where the kernels use those instructions; 0 elsewhere (host, M0+, M3),
// where the portable code runs. Both give the same bytes.
//
// TINYNET_ARM_MVE is 1 on cores with integer Helium (MVE: Cortex-M55, M85), where the int8 dot
// products of Conv2D and FullyConnected use kernels/arm_mve; those cores have the DSP extension
// too, which the other kernels keep using.
#pragma once

#include <cstddef>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define TINYNET_ARM_DSP 1
#else
#define TINYNET_ARM_DSP 0
#endif

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#define TINYNET_ARM_MVE 1
#else
#define TINYNET_ARM_MVE 0
#endif

// TINYNET_PASS_STACK_BYTES: the stack a sparse layer's pass may take for its inputs packed side
// by side (the paired columns of `unrolled` and `compressed`, the pair tables of `nm`:
// layers/dense/sparse_rows.hpp, nm_rows.hpp). It sets how many output pixels a sparse Conv2D
// runs per pass (four, two or one), nothing else: not the form a layer takes, not the arena.
// 4096 bytes by default; 2048 on ARMv6-M (Cortex-M0 and M0+ boards have 16-32 KB of RAM, the
// micro:bit a 4 KB stack). Define it (the same in every file) to trade stack for speed.
#ifndef TINYNET_PASS_STACK_BYTES
#if defined(__ARM_ARCH_6M__)
#define TINYNET_PASS_STACK_BYTES 2048
#else
#define TINYNET_PASS_STACK_BYTES 4096
#endif
#endif

namespace tinynet {
inline constexpr std::size_t pass_stack_bytes = TINYNET_PASS_STACK_BYTES;
}  // namespace tinynet
