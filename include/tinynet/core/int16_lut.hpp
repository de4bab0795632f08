// TFLM's int16 lookup tables with interpolation (internal/common.h): gen_lut<float, int16_t, int16_t>
// samples a function at 512 steps of an input range plus the range's end (513 entries), each
// sample lowered by half the error that linear interpolation makes at the step's midpoint, all in
// float arithmetic as TFLM does at Prepare time; here the compiler does it. LUTLookup reads the
// sample its high 9 bits select and interpolates over the low 7.
#pragma once

#include <array>
#include <cstdint>

#include "quantize_multiplier.hpp"

namespace tinynet::detail {

using Int16Lut = std::array<std::int16_t, 513>;

constexpr float round_float(float value) {  // TfLiteRound(float) = std::round
  return static_cast<float>(round_half_away(static_cast<double>(value)));
}

template <class Func>
constexpr Int16Lut gen_lut_int16(Func func, float input_min, float input_max, float output_min, float output_max) {
  constexpr int steps = 512;
  const float step = (input_max - input_min) / steps;
  const float half_step = step / 2;
  const float scaling_inv = 65536.0f / (output_max - output_min);
  const auto clamp = [](float v) {
    return static_cast<std::int16_t>(v < -32768.0f ? -32768.0f : (v > 32767.0f ? 32767.0f : v));
  };
  Int16Lut lut{};
  for (int i = 0; i < steps; ++i) {
    const float val = func(input_min + static_cast<float>(i) * step);
    const float val_midpoint = func(input_min + static_cast<float>(i) * step + half_step);
    const float val_next = func(input_min + static_cast<float>(i + 1) * step);
    const float sample = round_float(val * scaling_inv);
    const float midpoint_interpolated = round_float((val_next * scaling_inv + round_float(val * scaling_inv)) / 2);
    const float midpoint = round_float(val_midpoint * scaling_inv);
    const float bias = round_float((midpoint_interpolated - midpoint) / 2);
    lut[static_cast<std::size_t>(i)] = clamp(sample - bias);
  }
  lut[steps] = clamp(round_float(func(input_max) * scaling_inv));
  return lut;
}

constexpr std::int16_t lut_lookup(std::int16_t value, const Int16Lut& lut) {
  const auto index = static_cast<std::uint16_t>(256 + (value >> 7));
  const auto offset = static_cast<std::int16_t>(value & 0x7f);
  const std::int16_t base = lut[index];
  const auto slope = static_cast<std::int16_t>(lut[index + 1] - lut[index]);
  const int delta = (slope * offset + 64) >> 7;
  return static_cast<std::int16_t>(base + delta);
}

}  // namespace tinynet::detail
