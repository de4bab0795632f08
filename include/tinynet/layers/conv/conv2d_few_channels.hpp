// Conv2D with few input channels (the first layer of vww, resnet, kws) on DSP cores: the
// compile-time plan. A kernel row of k_w taps x in_c channels (9 values for 3x3x3) is not a whole
// number of words, so the general patch path copies it byte by byte. Here the patch is laid out in
// an order of its own: each kernel row's whole words first (widened by SXTB16 straight from the
// image), then every row's last row_values % 4 values ("tails"), then zeros up to a multiple of
// four. The weights are rearranged into the same order by the compiler (zero where the patch is
// padding) and widened to int16 pairs for the 4x2 block (kernels/dot.hpp, wide_rows), so the dot
// product has no remainder loop. The kernel: kernels/arm_dsp/conv_few_channels.hpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tinynet::detail {

template <int KH, int KW, int CIn>
struct FewChannelsLayout {
  static constexpr int kernel_h = KH;
  static constexpr int row_values = KW * CIn;
  static constexpr int row_words = row_values / 4;   // whole words per kernel row
  static constexpr int row_tail = row_values % 4;    // values of a row after them
  static constexpr int head = KH * row_words * 4;    // the rows' whole words, row after row
  static constexpr int count = head + (KH * row_tail + 3) / 4 * 4;
  // The position in a kernel's KH x KW x CIn values of the patch's j-th value; -1 for padding.
  static constexpr int source(int j) {
    constexpr int word_values = row_words > 0 ? row_words * 4 : 1, tail = row_tail > 0 ? row_tail : 1;  // (no division by 0)
    if (j < head) return j / word_values * row_values + j % word_values;
    const int t = j - head;
    if (t >= KH * row_tail) return -1;
    return t / tail * row_values + row_words * 4 + t % tail;
  }
};

// OutC filters of Count values (OHWI) in the layout's order, zero at its padding.
template <class Layout, int OutC, class W>
constexpr std::array<std::int8_t, static_cast<std::size_t>(OutC * Layout::count)> few_channels_weights(const W& weights) {
  std::array<std::int8_t, static_cast<std::size_t>(OutC * Layout::count)> out{};
  constexpr int per_filter = Layout::kernel_h * Layout::row_values;
  for (int c = 0; c < OutC; ++c)
    for (int j = 0; j < Layout::count; ++j) {
      const int s = Layout::source(j);
      out[static_cast<std::size_t>(c * Layout::count + j)] = s < 0 ? std::int8_t{0} : static_cast<std::int8_t>(weights[c * per_filter + s]);
    }
  return out;
}
template <const auto& Weights, class Layout, int OutC>
inline constexpr auto few_channels_rows = few_channels_weights<Layout, OutC>(Weights);

}  // namespace tinynet::detail
