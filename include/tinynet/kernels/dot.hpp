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

#include <array>
#include <cstddef>
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

// patch[patch_position<Count>(j)] = src[j], j < Count: Count int8 values widened into a patch (or
// into Count values of a longer patch starting at a multiple of four), four per SXTB16 pair on DSP
// cores. Aligned: patch is 4-byte aligned (arm_dsp::widen_sxtb16).
template <int Count, bool Aligned = false>
constexpr void widen_patch(const std::int8_t* src, std::int16_t* patch) {
#if TINYNET_ARM_DSP
  if (sxtb16_layout()) {
    arm_dsp::widen_sxtb16<Count, Aligned>(src, patch);
    return;
  }
#endif
  for (int j = 0; j < Count; ++j) patch[patch_position<Count>(j)] = src[j];
}

// Whether dot_rows<Count, 4, ..., Stride> has a kernel of its own (arm_dsp::dot_4rows: DSP cores
// without MVE, optimised builds); elsewhere two rows per pass do as well or better.
#if TINYNET_ARM_DSP && !TINYNET_ARM_MVE && defined(__OPTIMIZE__)
template <int Count, int Stride>
inline constexpr bool four_rows_apply = Count >= 4 && 3 * Stride <= 4000;
#else
template <int Count, int Stride>
inline constexpr bool four_rows_apply = false;
#endif

// acc[r] += sum_i weights[r * Stride + i] * patch[i], i < Count, for Rows weight rows Stride apart.
template <int Count, int Rows, class Acc, int Stride = Count>
constexpr void dot_rows(const std::int16_t* patch, const std::int8_t* weights, Acc* acc) {
  if constexpr (std::is_same_v<Acc, std::int32_t>) {
    if (!std::is_constant_evaluated()) {
#if TINYNET_ARM_MVE
      arm_mve::dot_rows<Count, Rows, Stride>(patch, weights, acc);
      return;
#elif TINYNET_ARM_DSP
      if constexpr (Rows == 4 && four_rows_apply<Count, Stride>) {
        arm_dsp::dot_4rows<Count, Stride>(patch, weights, acc);
        return;
      }
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

// Whether dot_rows_int8<Count, ...> has a DSP kernel (DSP cores without MVE, optimised builds):
// rows at any distance.
#if TINYNET_ARM_DSP && !TINYNET_ARM_MVE && defined(__OPTIMIZE__)
template <int Count>
inline constexpr bool int8_rows_apply = Count >= 4;
#else
template <int Count>
inline constexpr bool int8_rows_apply = false;
#endif

// acc[r] += sum_i weights[r * Stride + i] * input[i], i < Count, r < Rows: the int8 input row read
// in place, without a patch, on DSP cores only (int8_rows_apply; at run time: constant evaluation
// and other cores widen the row into a patch). Each word of four inputs is split by two SXTB16
// shared by the rows (arm_dsp::dot_4rows over int8, four rows per pass): 23 instructions per 16
// multiply-accumulates against the patch's 21, for no stack.
template <int Count, int Rows, int Stride = Count>
inline void dot_rows_int8([[maybe_unused]] const std::int8_t* input, [[maybe_unused]] const std::int8_t* weights,
                          [[maybe_unused]] std::int32_t* acc) {
  static_assert(int8_rows_apply<Count>, "tinynet: dot_rows_int8 has a kernel on DSP cores only (FullyConnected::input_in_place)");
#if TINYNET_ARM_DSP && !TINYNET_ARM_MVE && defined(__OPTIMIZE__)
  if constexpr (Rows == 4)
    arm_dsp::dot_4rows<Count, Stride, std::int8_t>(input, weights, acc);
  else
    arm_dsp::dot_rows<Count, Rows, Stride, std::int8_t>(input, weights, acc);
#endif
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

// ---- Weight rows widened to int16 by the compiler (DSP cores without MVE) -----------------
// A layer whose patch meets its weights many times (Conv2D: once per pixel pair) may keep a second
// copy of its rows, widened to int16 pairs in the DSP kernel's order, so that its inner loop
// needs no SXTB16 and fits a four-channel x two-pixel register block (arm_dsp::dot_4x2_wide).
// The copy takes twice the bytes of the rows it covers: a layer gets it only when that is at most
// TINYNET_WIDE_WEIGHT_BYTES (default 16 KiB; define it to 0 to keep every layer at int8).
#ifndef TINYNET_WIDE_WEIGHT_BYTES
#define TINYNET_WIDE_WEIGHT_BYTES 16384
#endif
// The number of four-row blocks a layer of Rows rows of Count weights widens (0: none).
template <int Count, int Rows>
inline constexpr int wide_blocks =
    (TINYNET_ARM_DSP != 0 && TINYNET_ARM_MVE == 0 && Count >= 8 && Count <= 2000 && Rows >= 4 &&
     static_cast<long long>(Rows / 4) * (Count / 4) * 32 <= static_cast<long long>(TINYNET_WIDE_WEIGHT_BYTES))
        ? Rows / 4
        : 0;

// Blocks x (Count / 4) x 8 words: block b (rows 4b..4b+3), group g (weights 4g..4g+3 of a row):
// the four rows' (w[4g], w[4g+2]) pairs, then their (w[4g+1], w[4g+3]) pairs, low halfword first,
// matching the SXTB16 order of the patch (x0 x2 | x1 x3).
template <int Count, int Blocks, class W>
constexpr std::array<std::uint32_t, static_cast<std::size_t>(Blocks * (Count / 4) * 8)> widen_rows(const W& weights) {
  constexpr int groups = Count / 4;
  std::array<std::uint32_t, static_cast<std::size_t>(Blocks * groups * 8)> out{};
  const auto pair = [&](int row, int i) {
    const auto lo = static_cast<std::uint16_t>(static_cast<std::int16_t>(weights[row * Count + i]));
    const auto hi = static_cast<std::uint16_t>(static_cast<std::int16_t>(weights[row * Count + i + 2]));
    return static_cast<std::uint32_t>(lo) | (static_cast<std::uint32_t>(hi) << 16);
  };
  for (int b = 0; b < Blocks; ++b)
    for (int g = 0; g < groups; ++g)
      for (int h = 0; h < 2; ++h)
        for (int r = 0; r < 4; ++r)
          out[static_cast<std::size_t>(((b * groups + g) * 2 + h) * 4 + r)] = pair(4 * b + r, 4 * g + h);
  return out;
}
template <const auto& Weights, int Count, int Blocks>
inline constexpr auto wide_rows = widen_rows<Count, Blocks>(Weights);

// The last Rows % 4 rows, which a widened layer does not widen, as int8: its kernels read them
// from here, so that in an optimised build the layer's int8 rows need not be in flash beside
// their widened copy (a layer of 63 channels would otherwise keep all 63 rows for the last 3).
template <int Count, int Rows, class W>
constexpr std::array<std::int8_t, static_cast<std::size_t>(Rows % 4 * Count)> unwidened_rows(const W& weights) {
  std::array<std::int8_t, static_cast<std::size_t>(Rows % 4 * Count)> out{};
  for (int i = 0; i < Rows % 4 * Count; ++i) out[static_cast<std::size_t>(i)] = weights[(Rows - Rows % 4) * Count + i];
  return out;
}
template <const auto& Weights, int Count, int Rows>
inline constexpr auto tail_rows = unwidened_rows<Count, Rows>(Weights);
// Likewise the last Count % 4 weights of every widened row (row r's at r * (Count % 4)), which
// the widened groups of four do not hold: the DSP kernel reads them from here.
template <int Count, int Blocks, class W>
constexpr std::array<std::int8_t, static_cast<std::size_t>(Blocks * 4 * (Count % 4))> unwidened_columns(const W& weights) {
  constexpr int rest = Count % 4;
  std::array<std::int8_t, static_cast<std::size_t>(Blocks * 4 * rest)> out{};
  for (int r = 0; r < Blocks * 4; ++r)
    for (int j = 0; j < rest; ++j) out[static_cast<std::size_t>(r * rest + j)] = weights[r * Count + Count - rest + j];
  return out;
}
template <const auto& Weights, int Count, int Blocks>
inline constexpr auto tail_columns = unwidened_columns<Count, Blocks>(Weights);

// Two patches (patch1 = patch0 + Count: one array) against four rows (rows Count apart from
// `weights`) whose widened block is `wide` and whose last Count % 4 weights are `columns` (four
// rows of Count % 4, tail_columns): acc = {pixel 0 rows 0..3, pixel 1 rows 0..3}. The DSP kernel
// where wide_blocks is not 0, at run time, in optimised builds (at -O0 GCC keeps r7 as the frame
// pointer and cannot give the assembly its thirteen registers): it reads `wide` and `columns`
// only, so the int8 rows need not be in flash; the plain dot products over `weights` otherwise.
template <int Count>
constexpr void dot_4x2_wide(const std::int16_t* patch0, [[maybe_unused]] const std::uint32_t* wide,
                            [[maybe_unused]] const std::int8_t* columns, const std::int8_t* weights, std::int32_t* acc) {
#if TINYNET_ARM_DSP && !TINYNET_ARM_MVE && defined(__OPTIMIZE__)
  if constexpr (Count >= 8 && Count <= 2000) {
    if (!std::is_constant_evaluated()) {
      arm_dsp::dot_4x2_wide<Count>(patch0, wide, columns, acc);
      return;
    }
  }
#endif
  std::int32_t rows0[4] = {acc[0], acc[1], acc[2], acc[3]}, rows1[4] = {acc[4], acc[5], acc[6], acc[7]};
  dot_rows<Count, 4>(patch0, weights, rows0);
  dot_rows<Count, 4>(patch0 + Count, weights, rows1);
  for (int r = 0; r < 4; ++r) acc[r] = rows0[r], acc[4 + r] = rows1[r];
}

}  // namespace tinynet::kernels
