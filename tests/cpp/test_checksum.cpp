// Flash integrity (core/checksum.hpp): the compile-time CRC-32 of a network's constant tables, the
// same value recomputed from memory, and a corrupted copy of a table detected.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

// The check value of CRC-32/ISO-HDLC: CRC of the ASCII digits "123456789".
inline constexpr char check_digits[9] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
static_assert(table_crc32<check_digits> == 0xCBF43926u);

namespace checked {
inline constexpr Quant in_q{0.5f, -3};
inline constexpr Quant hidden_q{0.25f, 10};
inline constexpr Quant out_q{0.125f, -128};
struct x : Tensor<i8, Shape<1, 4, 4, 2>, in_q> {};
struct c : Tensor<i8, Shape<1, 4, 4, 3>, hidden_q> {};
struct d : Tensor<i8, Shape<1, 4, 4, 3>, hidden_q> {};
struct f : Tensor<i8, Shape<1, 3>, out_q> {};
inline constexpr i8 conv_w[3 * 3 * 3 * 2] = {1,  -2, 3,  4, -5, 6,  7, -8, 9,  -10, 11, 12, 13, -14,
                                             15, 16, -17, 18, 19, -20, 21, 22, -23, 24, 25, -26, 27,
                                             -1, 2,  -3, -4, 5,  -6, -7, 8,  -9, 10, -11, -12, -13,
                                             14, -15, -16, 17, -18, -19, 20, -21, -22, 23, -24, -25, 26, -27};
inline constexpr std::int32_t conv_b[3] = {100, -200, 300};
inline constexpr float conv_s[3] = {0.01f, 0.02f, 0.03f};
inline constexpr i8 dw_w[3 * 3 * 3] = {1, 2, 3, -4, -5, -6, 7, 8, 9, -1, -2, -3, 4, 5, 6, -7, -8, -9, 0, 1, 0, 1, 0, 1, 0, 1, 0};
inline constexpr std::int32_t dw_b[3] = {-5, 5, 50};
inline constexpr float dw_s[1] = {0.05f};
inline constexpr i8 fc_w[3 * 48] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -13, -14, -15, -16, -17, -18, -19, -20, -21, -22, -23, -24,
    3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4,
    -3, 3, -8, 3, -2, 7, -9, 5, -0, 2, -8, 8, -4, 1, -9, 7, -1, 6, -9, 3, -9, 9, -3, 7,
    1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 127, -128, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    -7, 7, -7, 7, 6, -6, 6, -6, 5, -5, 5, -5, 4, -4, 4, -4, 3, -3, 3, -3, 2, -2, 2, -2};
inline constexpr std::int32_t fc_b[3] = {7, -7, 0};
inline constexpr float fc_s[1] = {0.003f};
using conv = Conv2D<x, c, conv_w, conv_b, conv_s,
                    Conv2DOptions{.kernel_h = 3, .kernel_w = 3, .padding = Padding::same, .activation = Activation::relu}>;
using dw = DepthwiseConv2D<c, d, dw_w, dw_b, dw_s,
                           DepthwiseConv2DOptions{.kernel_h = 3, .kernel_w = 3, .depth_multiplier = 1, .padding = Padding::same}>;
struct flat : Tensor<i8, Shape<1, 48>, hidden_q> {};
using reshape = Reshape<d, flat>;
using fc = FullyConnected<flat, f, fc_w, fc_b, fc_s>;
using net = Network<Inputs<x>, Outputs<f>, conv, dw, reshape, fc>;

// Computed by the compiler; the tables are the weights and the derived tables of each layer.
static_assert(net::weights_checksum == weights_checksum<net>);
static_assert(constant_table_count<net> >= 3 * 3);
}  // namespace checked

// Four channels: the layers' struct tables (multipliers, output stages) have no padding; three
// channels above: they do. Either way only their members' bytes are checksummed.
namespace four {
inline constexpr Quant q{0.5f, 1};
struct x : Tensor<i8, Shape<1, 8>, q> {};
struct y : Tensor<i8, Shape<1, 4>, q> {};
inline constexpr i8 w[32] = {1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, -5, -6, -7, -8,
                             9, 9, 9, 9, 9, 9, 9, 9, -9, 9, -9, 9, -9, 9, -9, 9};
inline constexpr std::int32_t b[4] = {1, 2, 3, 4};
inline constexpr float s[4] = {0.01f, 0.02f, 0.03f, 0.04f};
using net = Network<Inputs<x>, Outputs<y>, FullyConnected<x, y, w, b, s>>;
static_assert(net::weights_checksum == weights_checksum<net>);
}  // namespace four

namespace float_net {
inline constexpr float w[6] = {1, 2, 3, 4, 5, 6};
inline constexpr float b[2] = {0.5f, -0.5f};
using net = Sequential<seq::Input<float, Shape<1, 3>>, seq::Dense<w, b>>;
static_assert(constant_table_count<net> == 2);  // a float layer: its weights and its bias
}  // namespace float_net

// Sparse FullyConnected layers: `compressed` checksums its entries (values and column bytes) and
// its per-row entry counts instead of the dense weights it no longer keeps; `unrolled` keeps its
// weights in code.
namespace sparse {
inline constexpr Quant q{0.5f, 1};
struct x : Tensor<i8, Shape<1, 8>, q> {};
struct y : Tensor<i8, Shape<1, 4>, q> {};
inline constexpr i8 w[32] = {0, 2, 0, 0, 0, 0, 7, 0, -1, 0, 0, 0, 0, 0, 0, 0,
                             0, 0, 0, 9, 0, 0, 0, 0, 0, 0, -9, 0, 0, 0, 0, 3};
inline constexpr std::int32_t b[4] = {1, 2, 3, 4};
inline constexpr float s[1] = {0.01f};
template <SparseForm Form>
using net = Network<Inputs<x>, Outputs<y>, FullyConnected<x, y, w, b, s, FullyConnectedOptions{.sparse_form = Form}>>;
// dense: weights + folded bias + multipliers (+ its output stage); compressed: entries and counts
// instead of the weights; unrolled: the derived tables only.
static_assert(constant_table_count<net<SparseForm::compressed>> == constant_table_count<net<SparseForm::dense>> + 1);
static_assert(constant_table_count<net<SparseForm::unrolled>> == constant_table_count<net<SparseForm::dense>> - 1);
static_assert(net<SparseForm::compressed>::weights_checksum != net<SparseForm::dense>::weights_checksum);
}  // namespace sparse

TEST_CASE("checksum: a compressed sparse layer's tables are checked, and a flipped bit in them is seen") {
  using net = sparse::net<SparseForm::compressed>;
  CHECK(verify_weights<net>());
  CHECK(verify_weights<sparse::net<SparseForm::unrolled>>());
  const auto spans = constant_spans<net>();
  std::vector<std::vector<unsigned char>> copies;
  for (const ConstantSpan& span : spans) {
    const auto* bytes = static_cast<const unsigned char*>(span.data);
    copies.emplace_back(bytes, bytes + span.bytes);
  }
  auto copied = spans;
  for (std::size_t k = 0; k < spans.size(); ++k) copied[k] = ConstantSpan{copies[k].data(), copies[k].size()};
  REQUIRE(weights_checksum_of(copied) == net::weights_checksum);
  for (std::size_t k = 0; k < copies.size(); ++k) {
    copies[k][0] ^= 0x10;
    CHECK(weights_checksum_of(copied) != net::weights_checksum);
    copies[k][0] ^= 0x10;
  }
}

TEST_CASE("checksum: the runtime CRC-32 equals the compile-time one") {
  CHECK(crc32(check_digits, sizeof check_digits) == 0xCBF43926u);
  CHECK(crc32(checked::conv_w, sizeof checked::conv_w) == table_crc32<checked::conv_w>);
  CHECK(crc32(nullptr, 0) == 0u);
}

TEST_CASE("checksum: verify_weights passes on an intact network") {
  CHECK(verify_weights<checked::net>());
  CHECK(verify_weights<float_net::net>());
  CHECK(verify_weights<four::net>());
  const auto spans = constant_spans<checked::net>();
  CHECK(weights_checksum_of(spans) == checked::net::weights_checksum);
  // The weights the user passed are the first table of each weighted layer.
  CHECK(spans[0].data == static_cast<const void*>(checked::conv_w));
  CHECK(spans[0].bytes == sizeof checked::conv_w);
}

TEST_CASE("checksum: one corrupted byte in a copy of any table is detected") {
  const auto spans = constant_spans<checked::net>();
  // Copy every table, then flip one bit at a time in each: every flip changes the checksum.
  std::vector<std::vector<unsigned char>> copies;
  for (const ConstantSpan& s : spans) {
    const auto* bytes = static_cast<const unsigned char*>(s.data);
    copies.emplace_back(bytes, bytes + s.bytes);
  }
  auto copied_spans = spans;
  for (std::size_t k = 0; k < spans.size(); ++k) copied_spans[k] = ConstantSpan{copies[k].data(), copies[k].size()};
  REQUIRE(weights_checksum_of(copied_spans) == checked::net::weights_checksum);
  int detected = 0, flips = 0;
  for (std::size_t k = 0; k < copies.size(); ++k) {
    for (std::size_t i = 0; i < copies[k].size(); i += 5) {
      const unsigned char bit = static_cast<unsigned char>(1u << (i % 8));
      copies[k][i] ^= bit;
      detected += weights_checksum_of(copied_spans) != checked::net::weights_checksum;
      ++flips;
      copies[k][i] ^= bit;
    }
  }
  CHECK(flips > 60);
  CHECK(detected == flips);
  CHECK(weights_checksum_of(copied_spans) == checked::net::weights_checksum);
}

// Element-wise ops: a constant operand's array, the int8 lookup tables of HardSwish and Elu, and a
// constant divisor's reciprocals (a struct of two arrays) are checksummed, in op order.
namespace elementwise {
inline constexpr Quant q{0.05f, -3};
inline constexpr i8 factor_values[4] = {10, -20, 30, 40};
struct x : Tensor<i8, Shape<2, 4>, q> {};
struct factor : ConstantTensor<i8, Shape<4>, factor_values, q> {};
struct scaled : Tensor<i8, Shape<2, 4>, q> {};
struct swished : Tensor<i8, Shape<2, 4>, q> {};
struct divided : Tensor<i8, Shape<2, 4>, q> {};
struct y : Tensor<i8, Shape<2, 4>, q> {};
using mul = Mul<x, factor, scaled>;
using swish = HardSwish<scaled, swished>;
using div = Div<swished, factor, divided>;
using elu = Elu<divided, y>;
using net = Network<Inputs<x>, Outputs<y>, mul, swish, div, elu>;
// factor; the HardSwish table; factor and the divisor's two arrays; the Elu table.
static_assert(constant_table_count<net> == 6);
}  // namespace elementwise

TEST_CASE("checksum: an element-wise network's constant operands and tables") {
  const auto spans = constant_spans<elementwise::net>();
  CHECK(verify_weights<elementwise::net>());
  CHECK(spans[0].data == static_cast<const void*>(elementwise::factor_values));
  CHECK(spans[1].data == static_cast<const void*>(elementwise::swish::lookup_table.data()));
  CHECK(spans[1].bytes == 256);
  CHECK(spans[3].data == static_cast<const void*>(elementwise::div::divisor_reciprocals.multiplier.data()));
  CHECK(spans[3].bytes == 16);
  CHECK(spans[4].bytes == 4);
  CHECK(spans[5].data == static_cast<const void*>(elementwise::elu::lookup_table.data()));
  // A flipped bit in a copy of the divisor's reciprocals is seen.
  std::array<std::int32_t, 4> copy{};
  std::memcpy(copy.data(), spans[3].data, sizeof copy);
  auto copied = spans;
  copied[3] = ConstantSpan{copy.data(), sizeof copy};
  REQUIRE(weights_checksum_of(copied) == elementwise::net::weights_checksum);
  copy[2] ^= 1 << 7;
  CHECK(weights_checksum_of(copied) != elementwise::net::weights_checksum);
}
