// Sparse FullyConnected: the `unrolled` and `compressed` forms (and the automatic choice) give the
// same bytes as the dense kernel, and as a plain loop written here, for random pruned weights.
//
// Weights come from a constexpr generator (random_weights.hpp): each weight is kept with the given
// density and drawn from a small set of magnitudes so that many inputs share a weight value (the
// case the unrolled form sums before multiplying), with the odd -128 and long runs of zeros.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

#include <tinynet/tinynet.hpp>

#include "random_weights.hpp"
#include "nm_weights.hpp"
#include "sparse_forms.hpp"

using namespace tinynet;
using i8 = std::int8_t;

namespace sparse_test {

using test_random::random_weights, test_random::random_bias, test_random::scales, test_random::random_input;
using sparse_forms::check_forms_give, sparse_forms::run_layer, sparse_forms::varied;  // sparse_forms.hpp

// One layer configuration: shapes, quantization, activation, density.
// Pattern 10 N + M (24: 2:4): the weights pruned N:M along the inputs instead (nm_weights.hpp).
template <int Units, int Depth, int Batches, int DensityPercent, bool PerChannel, int InputZeroPoint, Activation Act,
          int Pattern = 0>
struct Case {
  static constexpr std::uint32_t seed = static_cast<std::uint32_t>(Units * 7919 + Depth * 31 + DensityPercent + Pattern * 101);
  static constexpr std::array<i8, Units * Depth> weights =
      Pattern != 0 ? nm_test::nm_weights<static_cast<std::size_t>(Units * Depth)>(Depth, Pattern / 10, Pattern % 10, seed)
                   : random_weights<Units * Depth>(DensityPercent, seed);
  static constexpr std::array<std::int32_t, Units> bias = random_bias<Units>(seed + 1);
  static constexpr std::array<float, PerChannel ? Units : 1> weight_scales = scales<PerChannel ? Units : 1>(0.01f);
  static constexpr Quant in_q{0.05f, InputZeroPoint};
  // Real multiplier about 1 / (4 * Depth): the outputs spread over the int8 range.
  static constexpr Quant out_q{0.05f * 0.01f * 4.0f * Depth / 16.0f, -7};
  struct in : Tensor<i8, Shape<Batches, Depth>, in_q> {};
  struct out : Tensor<i8, Shape<Batches, Units>, out_q> {};
  template <SparseForm Form>
  using layer = FullyConnected<in, out, weights, bias, weight_scales, FullyConnectedOptions{Act, Form}>;
  static constexpr int units = Units, depth = Depth, batches = Batches;
  static constexpr int input_zero_point = InputZeroPoint;
  static constexpr Activation activation = Act;
};

// TFLite's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, written again here.
constexpr std::int32_t high_mul(std::int32_t a, std::int32_t b) {
  if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t ab = std::int64_t{a} * b;
  const std::int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));  // truncating division
}
constexpr std::int32_t divide_by_pot(std::int32_t x, int exponent) {
  const std::int32_t mask = static_cast<std::int32_t>((std::int64_t{1} << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// The plain loop: acc = bias + sum w * (x - input zero point), requantized with the layer's
// multipliers (their derivation is tested elsewhere), clamped to the activation's range.
template <class C>
std::array<i8, C::batches * C::units> reference(const std::array<i8, C::batches * C::depth>& x) {
  using L = typename C::template layer<SparseForm::dense>;
  std::array<i8, C::batches * C::units> y{};
  const int lo = C::activation == Activation::relu ? (C::out_q.zero_point > -128 ? C::out_q.zero_point : -128) : -128;
  for (int b = 0; b < C::batches; ++b) {
    for (int o = 0; o < C::units; ++o) {
      std::int32_t acc = C::bias[static_cast<std::size_t>(o)];
      for (int i = 0; i < C::depth; ++i)
        acc += C::weights[static_cast<std::size_t>(o * C::depth + i)] * (x[static_cast<std::size_t>(b * C::depth + i)] - C::input_zero_point);
      const std::size_t m = L::per_channel ? static_cast<std::size_t>(o) : 0;
      const int shift = L::multipliers.shift[m];
      const std::int32_t shifted = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc) << (shift > 0 ? shift : 0));
      std::int32_t v = divide_by_pot(high_mul(shifted, L::multipliers.multiplier[m]), shift > 0 ? 0 : -shift);
      v += C::out_q.zero_point;
      v = v < lo ? lo : v > 127 ? 127 : v;
      y[static_cast<std::size_t>(b * C::units + o)] = static_cast<i8>(v);
    }
  }
  return y;
}

template <class Layer, class C>
std::array<i8, C::batches * C::units> run(const std::array<i8, C::batches * C::depth>& x) {
  return run_layer<Layer, C::batches * C::units>(x);
}

// Every form but `nm` gives the plain loop's bytes.
template <class C>
void check_forms() {
  CAPTURE(C::units);
  CAPTURE(C::depth);
  CAPTURE(C::batches);
  CAPTURE(C::template layer<SparseForm::dense>::nonzero_weights);
  for (std::uint32_t trial = 0; trial < 3; ++trial) {
    const auto x = random_input<C::batches * C::depth>(C::seed * 13 + trial);
    const auto expected = reference<C>(x);
    if (C::template layer<SparseForm::dense>::nonzero_weights > 2 * C::units) CHECK(varied(expected));
    check_forms_give<C, SparseForm::dense, SparseForm::unrolled, SparseForm::compressed, SparseForm::automatic>(x, expected);
  }
}

// Weights pruned N:M: the `nm` form runs, in less flash than the dense weights, with the plain
// loop's bytes; `automatic` picks Auto (core/sparsity.hpp).
template <class C, SparseForm Auto>
void check_nm() {
  using nm = typename C::template layer<SparseForm::nm>;
  static_assert(nm::sparse_form == SparseForm::nm);
  static_assert(nm::weight_bytes < C::template layer<SparseForm::dense>::weight_bytes);
  static_assert(C::template layer<SparseForm::automatic>::sparse_form == Auto);
  CAPTURE(C::depth);
  for (std::uint32_t trial = 0; trial < 2; ++trial) {
    const auto x = random_input<C::batches * C::depth>(C::seed * 13 + trial);
    const auto expected = reference<C>(x);
    CHECK(varied(expected));
    CHECK(run<nm, C>(x) == expected);  // (automatic runs the same code when it picks nm)
  }
}

// Every density of one shape and quantization.
template <int Units, int Depth, int Batches, bool PerChannel, int InputZeroPoint, Activation Act, int... Densities>
void check_densities() {
  (check_forms<Case<Units, Depth, Batches, Densities, PerChannel, InputZeroPoint, Act>>(), ...);
}

}  // namespace sparse_test

using namespace sparse_test;

TEST_CASE("sparse FullyConnected: per-tensor, batch 1, odd unit count, fused ReLU") {
  check_densities<13, 37, 1, false, 5, Activation::relu, 0, 5, 10, 25, 50, 100>();
}

TEST_CASE("sparse FullyConnected: per-channel, 3 batches, input depth > 512 (the dense kernel's blocked path)") {
  check_densities<7, 600, 3, true, -17, Activation::none, 0, 5, 10, 25, 50, 100>();
}

TEST_CASE("sparse FullyConnected: per-channel, 2 batches, 33 units, input zero point -128, ReLU") {
  check_densities<33, 64, 2, true, -128, Activation::relu, 0, 5, 10, 25, 50, 100>();
}

// Past UnrolledRows::group_terms terms the unrolled rows are written out in groups, a function
// each: 7 rows of about 300 (50 %) or 600 (100 %) non-zeros of 600 take several.
TEST_CASE("sparse FullyConnected: unrolled rows in groups past group_terms terms") {
  using half = Case<7, 600, 3, 50, true, -17, Activation::none>;
  using full = Case<7, 600, 3, 100, true, -17, Activation::none>;
  using half_rows = tinynet::kernels::UnrolledRows<half::weights, 7, 600>;
  using full_rows = tinynet::kernels::UnrolledRows<full::weights, 7, 600>;
  static_assert(half_rows::group_terms == 1024 && half_rows::groups >= 2 && half_rows::groups <= 4);
  static_assert(full_rows::groups == 7);
  check_forms<half>();
  check_forms<full>();
}

TEST_CASE("sparse FullyConnected: per-tensor, 4 batches, input zero point 127") {
  check_densities<9, 130, 4, false, 127, Activation::none, 5, 50>();
}

// ---- gaps wider than a one-byte step, empty rows -----------------------------------------------
namespace sparse_gaps {
// Row 0 empty; row 1 only its last column (two fillers of 255 before it); row 2 the first and the
// last column; row 3 columns 255 and 511 (steps of exactly 255, no filler).
constexpr std::array<i8, 4 * 600> make() {
  std::array<i8, 4 * 600> w{};
  w[1 * 600 + 599] = -128;
  w[2 * 600 + 0] = 3;
  w[2 * 600 + 599] = 3;
  w[3 * 600 + 255] = 127;
  w[3 * 600 + 511] = -1;
  return w;
}
inline constexpr std::array<i8, 4 * 600> weights = make();
inline constexpr std::int32_t bias[4] = {100, -100, 7, 0};
inline constexpr float scale[1] = {0.02f};
inline constexpr Quant in_q{0.1f, 11};
inline constexpr Quant out_q{0.5f, 3};
struct in : Tensor<i8, Shape<1, 600>, in_q> {};
struct out : Tensor<i8, Shape<1, 4>, out_q> {};
template <SparseForm F>
using layer = FullyConnected<in, out, weights, bias, scale, FullyConnectedOptions{Activation::none, F}>;
}  // namespace sparse_gaps

TEST_CASE("sparse FullyConnected: empty rows and column gaps wider than 255") {
  using compressed = sparse_gaps::layer<SparseForm::compressed>;
  using rows = compressed::compressed_rows;
  // Entries per row: none; 2 fillers + 1; 1 + 2 fillers + 1; 1 + 1 filler + 1 (no padding: a
  // row's first n % 4 entries run before its groups of four).
  CHECK(rows::counts == std::array<std::uint16_t, 4>{0, 3, 4, 3});
  // Row 1 (entries 0-2): steps 255, 255, 599 - 510. (Column 599: the column bytes are steps, not
  // columns.)
  static_assert(!rows::absolute);
  CHECK(rows::columns()[0] == 255);
  CHECK(rows::values()[0] == 0);
  CHECK(rows::columns()[1] == 255);
  CHECK(rows::columns()[2] == 89);
  CHECK(rows::values()[2] == -128);
  // Row 3 (entries 7-9): column 255 (a step of exactly 255), then 511: 256 columns on, one filler.
  CHECK((rows::columns()[7] == 255 && rows::values()[7] == 127));
  CHECK((rows::columns()[8] == 255 && rows::values()[8] == 0));
  CHECK((rows::columns()[9] == 1 && rows::values()[9] == -1));
  CHECK(compressed::nonzero_weights == 5);
  CHECK(rows::table_bytes == 2 * 10 + 2 * 4);

  std::array<i8, 600> x{};
  for (int i = 0; i < 600; ++i) x[static_cast<std::size_t>(i)] = static_cast<i8>((i * 91) % 256 - 128);
  std::array<i8, 4> dense{}, unrolled{}, packed{};
  sparse_gaps::layer<SparseForm::dense>::run(x.data(), dense.data());
  sparse_gaps::layer<SparseForm::unrolled>::run(x.data(), unrolled.data());
  compressed::run(x.data(), packed.data());
  CHECK(unrolled == dense);
  CHECK(packed == dense);
  // Row 0 has no weights: bias 100 - 0, times 0.1 * 0.02 / 0.5 = 0.4, plus 3.
  CHECK(dense[0] == 3);
}

// ---- columns below 256 stored as themselves ----------------------------------------------------
namespace sparse_absolute {
// 300 inputs, but no non-zero weight beyond column LastColumn: row 0 columns 7 and 200, row 1
// column LastColumn alone, row 2 columns 0-4.
template <int LastColumn>
constexpr std::array<i8, 3 * 300> make() {
  std::array<i8, 3 * 300> w{};
  w[7] = 5;
  w[200] = -3;
  w[300 + LastColumn] = -128;
  for (int c = 0; c < 5; ++c) w[static_cast<std::size_t>(600 + c)] = static_cast<i8>(c + 1);
  return w;
}
template <int LastColumn>
inline constexpr std::array<i8, 3 * 300> weights = make<LastColumn>();
inline constexpr std::int32_t bias[3] = {-50, 9, 1000};
inline constexpr float scale[1] = {0.01f};
inline constexpr Quant in_q{0.1f, -7};
inline constexpr Quant out_q{0.2f, 4};
struct in : Tensor<i8, Shape<1, 300>, in_q> {};
struct out : Tensor<i8, Shape<1, 3>, out_q> {};
template <int LastColumn, SparseForm F>
using layer = FullyConnected<in, out, weights<LastColumn>, bias, scale, FullyConnectedOptions{Activation::none, F}>;
}  // namespace sparse_absolute

TEST_CASE("sparse FullyConnected: column bytes are the columns themselves while no column passes 255") {
  using rows = sparse_absolute::layer<255, SparseForm::compressed>::compressed_rows;
  static_assert(rows::last_column == 255 && rows::absolute);
  CHECK(rows::counts == std::array<std::uint16_t, 3>{2, 1, 5});
  CHECK(rows::columns() == std::array<std::uint8_t, 8>{7, 200, 255, 0, 1, 2, 3, 4});
  CHECK(rows::values() == std::array<i8, 8>{5, -3, -128, 1, 2, 3, 4, 5});
  // One column further, the bytes are steps again: 7, 193, 256 in two (255 and a filler before it).
  using steps = sparse_absolute::layer<256, SparseForm::compressed>::compressed_rows;
  static_assert(steps::last_column == 256 && !steps::absolute);
  CHECK(steps::columns()[1] == 193);
  CHECK((steps::columns()[2] == 255 && steps::values()[2] == 0));
  CHECK((steps::columns()[3] == 1 && steps::values()[3] == -128));
  CHECK((steps::columns()[4] == 0 && steps::values()[4] == 1));  // row 2: column 0, then steps of 1
  CHECK(steps::columns()[5] == 1);

  for (std::uint32_t trial = 0; trial < 3; ++trial) {
    const auto x = random_input<300>(trial + 40);
    CHECK(run_layer<sparse_absolute::layer<255, SparseForm::compressed>, 3>(x) ==
          run_layer<sparse_absolute::layer<255, SparseForm::dense>, 3>(x));
    CHECK(run_layer<sparse_absolute::layer<256, SparseForm::compressed>, 3>(x) ==
          run_layer<sparse_absolute::layer<256, SparseForm::dense>, 3>(x));
  }
}

// ---- the automatic rule and the figures a layer exposes ----------------------------------------
TEST_CASE("sparse FullyConnected: the automatic rule") {
  using sparsity::choose;
  constexpr int cap = sparsity::unrolled_max_nonzeros;
  // Few non-zeros at a low density: unrolled.
  static_assert(choose(SparseForm::automatic, true, 10, 1000) == SparseForm::unrolled);
  static_assert(choose(SparseForm::automatic, true, cap, 100LL * cap) == SparseForm::unrolled);
  // Past the cap on unrolled multiply-accumulates, a sparse layer is compressed...
  static_assert(choose(SparseForm::automatic, true, cap + 1, 100LL * cap) == SparseForm::compressed);
  // ... and a dense one stays dense, whatever its size.
  static_assert(choose(SparseForm::automatic, true, 900, 1000) == SparseForm::dense);
  static_assert(choose(SparseForm::automatic, true, 1000LL * cap, 1000LL * cap) == SparseForm::dense);
  // The density limits, exactly at and just past them.
  constexpr auto u = sparsity::unrolled_max_density;
  static_assert(choose(SparseForm::automatic, true, u.num * 10, u.den * 10) == SparseForm::unrolled);
  static_assert(choose(SparseForm::automatic, true, u.num * 10 + 1, u.den * 10) != SparseForm::unrolled);
  constexpr auto c = sparsity::compressed_max_density;
  static_assert(choose(SparseForm::automatic, true, 2LL * c.num * cap, 2LL * c.den * cap) == SparseForm::compressed);
  static_assert(choose(SparseForm::automatic, true, 2LL * c.num * cap + 1, 2LL * c.den * cap) == SparseForm::dense);
  // A requested form is kept for int8; int16 and float layers always run dense.
  static_assert(choose(SparseForm::compressed, true, 1000, 1000) == SparseForm::compressed);
  static_assert(choose(SparseForm::unrolled, false, 1, 1000) == SparseForm::dense);
  static_assert(choose(SparseForm::automatic, false, 1, 1000) == SparseForm::dense);
  // All-zero weights: no work at all, unrolled.
  static_assert(choose(SparseForm::automatic, true, 0, 1000) == SparseForm::unrolled);
  // A build not for speed (-O0, -Os) never unrolls by itself: compressed up to its density, else
  // dense; a requested unrolled stays.
  static_assert(choose(SparseForm::automatic, true, 10, 1000, u, false) == SparseForm::compressed);
  static_assert(choose(SparseForm::automatic, true, 0, 1000, u, false) == SparseForm::compressed);
  static_assert(choose(SparseForm::automatic, true, 300, 1000, sparsity::convolution_unrolled_max_density, false) ==
                SparseForm::dense);
  static_assert(choose(SparseForm::unrolled, true, 10, 1000, u, false) == SparseForm::unrolled);
  using sparsity::LayerKind;
  static_assert(choose(LayerKind::depthwise, SparseForm::automatic, true, 10, 1000, {}, false) == SparseForm::dense);
  static_assert(choose(LayerKind::conv, SparseForm::automatic, true, 895, 4096, {true, true, 512}, false) ==
                SparseForm::nm);
  // The library's layers pass sparsity::speed_build (each optimization level:
  // tests/conformance/test_sparse_conv_forms.py, with tests/cpp/sparse_build_goal.cpp).
}

TEST_CASE("sparse FullyConnected: nm, 2:4 and 1:4 along the inputs") {
  check_nm<Case<13, 76, 2, 0, true, -5, Activation::relu, 24>, SparseForm::nm>();     // 19 spans: a padding span
  check_nm<Case<6, 64, 3, 0, false, 100, Activation::none, 24>, SparseForm::nm>();    // per-tensor, 3 batches
  check_nm<Case<9, 600, 1, 0, true, -128, Activation::none, 24>, SparseForm::nm>();   // depth > 512, 150 spans
  check_nm<Case<5, 402, 1, 0, true, 7, Activation::none, 14>, nm_test::unrolled_if_for_speed(SparseForm::nm)>(); // 1:4: unrolled wins; 51 spans of 8 (a last of 2)
  // 1:4 over 602 inputs: 76 spans of up to 16 slots, a pair table past the stack's budget: dense
  static_assert(Case<5, 602, 1, 0, true, 7, Activation::none, 14>::layer<SparseForm::nm>::sparse_form == SparseForm::dense);
}

TEST_CASE("sparse FullyConnected and convolutions: the automatic rule with the nm form") {
  using sparsity::choose;
  using sparsity::LayerKind;
  constexpr auto conv = LayerKind::conv, fc = LayerKind::fully_connected, dw = LayerKind::depthwise;
  constexpr SparseForm a = SparseForm::automatic;
  // 2:4 (half the weights, a pair per four): nm, where the generic rule says dense.
  static_assert(choose(conv, a, true, 2048, 4096, {true, true, 1024}) == SparseForm::nm);
  static_assert(choose(fc, a, true, 2048, 4096, {true, true, 1024}) == SparseForm::nm);
  // 1:4 (two weights per pair of 8): nm for a convolution, unrolled for a FullyConnected.
  static_assert(choose(conv, a, true, 1024, 4096, {true, true, 512}) == SparseForm::nm);
  static_assert(choose(fc, a, true, 1024, 4096, {true, true, 512}) == SparseForm::unrolled);
  // Fewer than 7/4 weights per pair: unrolled; past unrolled's cap: nm.
  static_assert(choose(conv, a, true, 895, 4096, {true, true, 512}) == SparseForm::unrolled);
  static_assert(choose(conv, a, true, 896, 4096, {true, true, 512}) == SparseForm::nm);
  static_assert(choose(fc, a, true, 8192, 65536, {true, true, 4096}) == SparseForm::nm);
  // Fits but does not pay: the generic rule; does not fit: requested nm runs dense; never depthwise.
  static_assert(choose(conv, a, true, 3000, 4096, {true, false, 1500}) == SparseForm::dense);
  static_assert(choose(conv, SparseForm::nm, true, 3000, 4096, {true, false, 1500}) == SparseForm::nm);
  static_assert(choose(conv, SparseForm::nm, true, 3000, 4096, {}) == SparseForm::dense);
  static_assert(choose(dw, SparseForm::nm, true, 2048, 4096, {true, true, 1024}) == SparseForm::dense);
  static_assert(choose(dw, a, true, 2048, 4096, {true, true, 1024}) == SparseForm::dense);
  static_assert(choose(fc, SparseForm::nm, false, 2048, 4096, {true, true, 1024}) == SparseForm::dense);
  // A build for size unrolls a small depthwise layer (40 B per channel + 8 per non-zero against
  // 2 per weight + 16 per channel + 1,536: 32 channels of 9 taps, 60 non-zeros), not a wide one
  // (256 channels, 460), nor one past unrolled's density (40 %), nor one without sparse kernels
  // (int16, float, hybrid), nor without optimization (-O0: neither goal).
  static_assert(choose(dw, a, true, 60, 288, {}, false, true, 32) == SparseForm::unrolled);
  static_assert(choose(dw, a, true, 60, 288, {}, false, false, 32) == SparseForm::dense);
  static_assert(choose(dw, a, true, 460, 2304, {}, false, true, 256) == SparseForm::dense);
  static_assert(choose(dw, a, true, 130, 288, {}, false, true, 32) == SparseForm::dense);
  static_assert(choose(dw, a, false, 60, 288, {}, false, true, 32) == SparseForm::dense);
  static_assert(sparsity::depthwise_unrolls_smaller(60, 288, 32) && !sparsity::depthwise_unrolls_smaller(460, 2304, 256));
}

namespace sparse_figures {
using C10 = Case<33, 64, 2, 10, true, -128, Activation::relu>;
using C100 = Case<33, 64, 2, 100, true, -128, Activation::relu>;
constexpr int count(const std::array<i8, 33 * 64>& w, int begin, int end) {
  int n = 0;
  for (int i = begin; i < end; ++i) n += w[static_cast<std::size_t>(i)] != 0;
  return n;
}
// Entries of the compressed form, counted independently: the depth is 64, so there are no
// fillers and no padding: one entry per non-zero weight.
constexpr int compressed_entries(const std::array<i8, 33 * 64>& w) {
  int n = 0;
  for (int o = 0; o < 33; ++o) n += count(w, o * 64, o * 64 + 64);
  return n;
}
}  // namespace sparse_figures

TEST_CASE("sparse FullyConnected: nonzero_weights, weight_bytes, the automatic form of the test layers") {
  using namespace sparse_figures;
  using dense = C10::layer<SparseForm::dense>;
  using unrolled = C10::layer<SparseForm::unrolled>;
  using compressed = C10::layer<SparseForm::compressed>;
  constexpr int nonzeros = count(C10::weights, 0, 33 * 64);
  static_assert(nonzeros > 33 * 64 / 20 && nonzeros < 33 * 64 / 5, "the generator's density is about 10 %");
  static_assert(dense::nonzero_weights == nonzeros && compressed::nonzero_weights == nonzeros);
  // Per-channel: folded bias (33 values, int16 when all fit: core/channel_plan.hpp) and the short
  // output stage the kernels read: an int32 multiplier, an int32 rounding word and a byte of shift
  // per channel, the table padded to 4 bytes.
  static_assert(dense::short_stage);
  constexpr std::size_t common = 33 * sizeof(dense::folded_bias[0]) + (9 * 33 + 3) / 4 * 4;
  static_assert(dense::weight_bytes == 33 * 64 + common);
  static_assert(unrolled::weight_bytes == common);  // the weights are instructions
  static_assert(compressed::weight_bytes == 2 * compressed_entries(C10::weights) + 2 * 33 + common);
  // 10 % of 2112 weights: few enough to unroll; all 2112 non-zero: dense.
  static_assert(C10::layer<SparseForm::automatic>::sparse_form == nm_test::unrolled_if_for_speed(SparseForm::compressed));
  static_assert(C100::layer<SparseForm::automatic>::sparse_form == SparseForm::dense);
  // All zero (an N:M pattern with no pairs at all: nm where unrolled is not taken).
  static_assert(Case<7, 600, 3, 0, true, -17, Activation::none>::layer<SparseForm::automatic>::sparse_form ==
                nm_test::unrolled_if_for_speed(SparseForm::nm));
}

// The sparse forms' output stage for several pixels of a channel (ChannelPlan::requantize_each:
// with the short stage, 2 * bias + 2 * dot) against the plain requantize(bias + dot).
namespace sparse_stage {
inline constexpr Quant in_q{0.5f, 3};
inline constexpr Quant out_q{0.25f, -2};
struct in : Tensor<i8, Shape<1, 4>, in_q> {};
struct out : Tensor<i8, Shape<1, 3>, out_q> {};
inline constexpr i8 w[12] = {1, 0, -1, 2, 0, 3, 0, 0, -4, 0, 5, 0};
inline constexpr std::int32_t bias[3] = {7, -9, 0};
inline constexpr float scales[3] = {0.75f, 1.5f, 2.0f};  // real multipliers 1.5-4: no right shift
using wide = FullyConnected<in, out, w, bias, scales, FullyConnectedOptions{.sparse_form = SparseForm::dense}>;

// Every output of requantize_each against requantize, for dots and biases spread up to about twice
// the accumulator that channel 0 first clamps at (found by doubling), so that the outputs cover
// the range; far below where the short stage would stop applying (|2 * acc| < 2^31).
template <class Plan>
void check_requantize_each(int channels) {
  std::int32_t magnitude = 16;
  while (magnitude < (1 << 24) && Plan::requantize(magnitude, 0) < 127) magnitude *= 2;
  magnitude *= 2;
  std::uint32_t state = 2024;
  const auto next = [&state, magnitude] {
    state = state * 1103515245u + 12345u;
    return static_cast<std::int32_t>(static_cast<std::int64_t>(state >> 1) % (2 * static_cast<std::int64_t>(magnitude)) - magnitude);
  };
  std::array<typename Plan::output_element, 64> a{}, b{}, c{};
  typename Plan::output_element* const to[3] = {a.data(), b.data(), c.data()};
  int outputs_seen[256] = {};
  for (int trial = 0; trial < 3000; ++trial) {
    const int channel = trial % channels;
    const std::int32_t bias = next() / 4, d0 = next() / 2, d1 = next() / 2, d2 = next() / 2;
    Plan::requantize_each(bias, channel, to, d0, d1, d2);
    CHECK(a[static_cast<std::size_t>(channel)] == Plan::requantize(bias + d0, channel));
    CHECK(b[static_cast<std::size_t>(channel)] == Plan::requantize(bias + d1, channel));
    CHECK(c[static_cast<std::size_t>(channel)] == Plan::requantize(bias + d2, channel));
    ++outputs_seen[a[static_cast<std::size_t>(channel)] + 128];
  }
  // The outputs spread over the range (not one clamped value for every trial).
  int distinct = 0;
  for (int seen : outputs_seen) distinct += seen > 0;
  CHECK(distinct > 20);
}
}  // namespace sparse_stage

TEST_CASE("sparse output stage: requantize_each is requantize(bias + dot) for each pixel, with and without the short stage") {
  using short_plan = sparse_figures::C10::layer<SparseForm::dense>::plan;
  static_assert(short_plan::short_stage);
  sparse_stage::check_requantize_each<short_plan>(33);
  using wide_plan = sparse_stage::wide::plan;
  static_assert(!wide_plan::short_stage);
  sparse_stage::check_requantize_each<wide_plan>(3);
}

namespace sparse_other_types {
inline constexpr Quant q16{0.001f, 0};
struct in16 : Tensor<std::int16_t, Shape<1, 4>, q16> {};
struct out16 : Tensor<std::int16_t, Shape<1, 2>, q16> {};
inline constexpr i8 w[8] = {0, 3, 0, 0, 0, 0, -2, 0};
inline constexpr std::int64_t b16[2] = {5, -5};
inline constexpr float one[1] = {1.0f};
using layer16 = FullyConnected<in16, out16, w, b16, one, FullyConnectedOptions{Activation::none, SparseForm::unrolled}>;
struct inf : Tensor<float, Shape<1, 4>> {};
struct outf : Tensor<float, Shape<1, 2>> {};
inline constexpr float wf[8] = {0, 3, 0, 0, 0, 0, -2, 0};
inline constexpr float bf[2] = {0.5f, 0};
using layerf = FullyConnected<inf, outf, wf, bf, no_scales, FullyConnectedOptions{Activation::none, SparseForm::compressed}>;
}  // namespace sparse_other_types

TEST_CASE("sparse FullyConnected: int16 (16x8) and float layers run dense whatever the request") {
  using namespace sparse_other_types;
  static_assert(layer16::sparse_form == SparseForm::dense && layerf::sparse_form == SparseForm::dense);
  static_assert(layer16::nonzero_weights == 2 && layerf::nonzero_weights == 2);
  std::array<float, 2> y{};
  const std::array<float, 4> x{1, 2, 3, 4};
  layerf::run(x.data(), y.data());
  CHECK(y == std::array<float, 2>{6.5f, -6.0f});
}

// ---- constant evaluation ------------------------------------------------------------------------
namespace sparse_network {
using C = Case<13, 37, 1, 25, false, 5, Activation::relu>;
struct hidden : Tensor<i8, Shape<1, 13>, C::out_q> {};
inline constexpr std::array<i8, 13 * 5> w2 = random_weights<13 * 5>(30, 99);
inline constexpr std::int32_t b2[5] = {1, 2, 3, 4, 5};
inline constexpr float s2[1] = {0.02f};
inline constexpr Quant q2{0.3f, 1};
struct y : Tensor<i8, Shape<1, 5>, q2> {};
template <SparseForm F>
using net = Network<Inputs<C::in>, Outputs<y>,
                    FullyConnected<C::in, hidden, C::weights, C::bias, C::weight_scales, FullyConnectedOptions{Activation::relu, F}>,
                    FullyConnected<hidden, y, w2, b2, s2, FullyConnectedOptions{Activation::none, F}>>;
inline constexpr std::array<i8, 37> x = [] {
  std::array<i8, 37> v{};
  for (int i = 0; i < 37; ++i) v[static_cast<std::size_t>(i)] = static_cast<i8>(i * 7 - 100);
  return v;
}();
// 2:4 weights for the nm form (the second layer's 13 inputs: spans of 4, a last of 1).
using N = Case<13, 37, 1, 0, false, 5, Activation::relu, 24>;
inline constexpr auto nm_w2 = nm_test::nm_weights<13 * 5>(13, 2, 4, 98);
template <SparseForm F>
using nm_net = Network<Inputs<N::in>, Outputs<y>,
                       FullyConnected<N::in, hidden, N::weights, N::bias, N::weight_scales, FullyConnectedOptions{Activation::relu, F}>,
                       FullyConnected<hidden, y, nm_w2, b2, s2, FullyConnectedOptions{Activation::none, F}>>;
}  // namespace sparse_network

TEST_CASE("sparse FullyConnected: every form in constant evaluation (Network::evaluate)") {
  using namespace sparse_network;
  constexpr auto dense = net<SparseForm::dense>::evaluate(x);
  static_assert(net<SparseForm::unrolled>::evaluate(x) == dense);
  static_assert(net<SparseForm::compressed>::evaluate(x) == dense);
  static_assert(net<SparseForm::automatic>::evaluate(x) == dense);
  static_assert(nm_net<SparseForm::nm>::evaluate(x) == nm_net<SparseForm::dense>::evaluate(x));
  // ... and at run time.
  static tinynet::Instance<net<SparseForm::compressed>> instance;
  std::copy(x.begin(), x.end(), instance.input<0>().begin());
  instance.invoke();
  CHECK(std::equal(dense.begin(), dense.end(), instance.output<0>().begin()));
}
