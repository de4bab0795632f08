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
