// DepthwiseConv2D alone on Cortex-M4 (QEMU, instructions as bench counts them): kws's depthwise
// geometry (25x5x64, 3x3 SAME), vww's first (48x48x8) and a stride-2 one (24x24x32 -> 12x12x32),
// ReLU into an output zero point of -128 as in the models, random weights. Checks the bytes
// against the layer's reference loops (pixel<false>: TFLM's formula, requantize_exact) and prints
// the instructions of run(). docs/performance.md's depthwise figures per technique:
//
//   targets/cortex-m/build.py --cpu cortex-m4 -I include -o build/depthwise_m4.elf bench/depthwise_m4.cpp
//   targets/cortex-m/run.py --cpu cortex-m4 build/depthwise_m4.elf
#include <array>
#include <cstdint>
#include <tinynet/tinynet.hpp>
#include "cycles.hpp"
#include "semihost.hpp"
#include "../tests/cpp/in_place_network.hpp"
using in_place_net::pseudo_random; using in_place_net::biases;
inline constexpr tinynet::Quant qi{0.05f, -3}, qo{0.08f, -128};
template <int H, int W, int C, int S, int OH, int OW> struct L {
  struct in : tinynet::Tensor<std::int8_t, tinynet::Shape<1, H, W, C>, qi> {};
  struct out : tinynet::Tensor<std::int8_t, tinynet::Shape<1, OH, OW, C>, qo> {};
  static constexpr auto w = pseudo_random<9 * C>(C + S);
  static constexpr auto b = biases<C>(40);
  static constexpr float sc[] = {0.004f};
  using layer = tinynet::DepthwiseConv2D<in, out, w, b, sc, tinynet::DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .stride_h = S, .stride_w = S, .padding = tinynet::Padding::same, .activation = tinynet::Activation::relu}>;
  static constexpr auto x = pseudo_random<H * W * C>(7);
};
using kws = L<25, 5, 64, 1, 25, 5>;
using vww = L<48, 48, 8, 1, 48, 48>;
using vww2 = L<24, 24, 32, 2, 12, 12>;
template <class T> static void one(const char* name, bool& ok) {
  static std::array<std::int8_t, T::in::size> x; static std::array<std::int8_t, T::out::size> y;
  std::array<std::int8_t, T::out::size> ref{};
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = T::x[i];
  // reference: the portable loops (run in constant evaluation would be too slow for kws); use pixel<>
  for (int oy = 0; oy < T::layer::out_h; ++oy) for (int ox = 0; ox < T::layer::out_w; ++ox)
    T::layer::template pixel<false>(x.data(), ref.data() + (oy * T::layer::out_w + ox) * T::layer::out_c, oy * T::layer::s_h - T::layer::pad_h, ox * T::layer::s_w - T::layer::pad_w);
  const auto t0 = cycles::start();
  T::layer::run(x.data(), y.data());
  const auto t1 = cycles::stop();
  char text[24];
  semihost::write(name); semihost::write(" instructions: ");
  semihost::write(semihost::decimal(cycles::instructions(t0, t1), text));
  bool same = ref == y; ok = ok && same;
  semihost::write(same ? " same\n" : " DIFFERENT\n");
}
extern "C" int app_main() { bool ok = true; one<kws>("kws", ok); one<vww>("vww", ok); one<vww2>("vww_s2", ok); return ok ? 0 : 1; }
