// The int8 dot products behind Conv2D and FullyConnected, and the choice of kernel by target.
//
// The activations are first widened to int16 into a small "patch" (one output pixel's receptive
// field, or one FullyConnected input row). On DSP cores it is stored in SXTB16 order: every group
// of four values x0 x1 x2 x3 is laid out as x0 x2 x1 x3, the order kernels/arm_dsp/dot.hpp
// multiplies in. The host's SSE2 kernel (kernels/x86_simd/dot.hpp) and the portable loops
// (kernels/portable/dot.hpp, also used in constant evaluation) read it in plain order, and so
// does the Helium (MVE) kernel (kernels/arm_mve/dot.hpp), chosen over the DSP one where both
// exist; integer sums do not depend on their order, so every path gives the same bytes.
#pragma once

#include <cstdint>
#include <type_traits>

#include "../core/target.hpp"
#include "arm_dsp/dot.hpp"
#include "arm_mve/dot.hpp"
#include "portable/dot.hpp"
#include "unroll.hpp"
#include "x86_simd/dot.hpp"

namespace tinynet::kernels {

// Whether patches use SXTB16 order: on DSP cores without MVE at run time; never in constant
// evaluation.
constexpr bool sxtb16_layout() {
  if (std::is_constant_evaluated()) return false;
  return TINYNET_ARM_DSP != 0 && TINYNET_ARM_MVE == 0;
}

// Where element j of a patch of Count values is stored (only full groups of four are permuted).
// Never folded with another Count's copy: arm-none-eabi-g++ 12.2 -O2 splits the permutation into
// a function part whose copies for two Counts look identical, and identical code folding
// (-fipa-icf) merged them although GCC had attached each copy's value range of j
// ([0, Count/4*4)) to it: the merged copy then permuted a longer patch wrongly (a 1x1 Conv2D with
// 8 input channels next to one with 4 gave wrong bytes on Cortex-M4/M7; the device image runs
// tests/cpp/in_place_network.hpp). Forcing the function inline instead costs resnet 5 % more
// instructions on Cortex-M4; no_icf costs nothing there but 484 bytes of flash.
#if defined(__GNUC__) && !defined(__clang__)
#define TINYNET_NO_ICF [[gnu::no_icf]]
#else
#define TINYNET_NO_ICF
#endif
template <int Count>
TINYNET_NO_ICF constexpr int patch_position(int j) {
  if (!sxtb16_layout() || j >= Count / 4 * 4) return j;
  const int in_group = j & 3;
  return (j & ~3) | (in_group == 1 ? 2 : in_group == 2 ? 1 : in_group);
}

// acc[r] += sum_i weights[r * Stride + i] * patch[i], i < Count, for Rows weight rows Stride apart.
template <int Count, int Rows, class Acc, int Stride = Count>
constexpr void dot_rows(const std::int16_t* patch, const std::int8_t* weights, Acc* acc) {
  if constexpr (std::is_same_v<Acc, std::int32_t>) {
    if (!std::is_constant_evaluated()) {
#if TINYNET_ARM_MVE
      arm_mve::dot_rows<Count, Rows, Stride>(patch, weights, acc);
      return;
#elif TINYNET_ARM_DSP
      arm_dsp::dot_rows<Count, Rows, Stride>(patch, weights, acc);
      return;
#elif TINYNET_HOST_SIMD
      if constexpr (host::dot_rows_applies<Count>) {
        host::dot_rows<Count, Rows, Stride>(patch, weights, acc);
        return;
      }
#endif
    }
  }
  portable::dot_rows<Count, Rows, Acc, Stride>(patch, weights, acc);
}

// Two patches (two output pixels) against two weight rows (two output channels):
// acc = {pixel 0 row 0, pixel 0 row 1, pixel 1 row 0, pixel 1 row 1}.
template <int Count>
constexpr void dot_2x2(const std::int16_t* patch0, const std::int16_t* patch1, const std::int8_t* weights,
                       std::int32_t* acc) {
#if TINYNET_ARM_MVE
  if (!std::is_constant_evaluated()) {
    arm_mve::dot_2x2<Count>(patch0, patch1, weights, acc);
    return;
  }
#elif TINYNET_ARM_DSP
  if (!std::is_constant_evaluated()) {
    arm_dsp::dot_2x2<Count>(patch0, patch1, weights, acc);
    return;
  }
#endif
  dot_rows<Count, 2>(patch0, weights, acc);
  dot_rows<Count, 2>(patch1, weights, acc + 2);
}

}  // namespace tinynet::kernels
