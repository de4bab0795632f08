// ResizeBilinear, SpaceToBatchNd, BatchToSpaceNd, L2Normalization, LogSoftmax (issue 12): the
// int8 edges, with expected values worked out by hand in the comments from TFLM's formulas (the
// tables an op reads are written here as the generator would write them). The byte-for-byte
// comparison with TFLM itself is the tflm-ops conformance suite.
#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;

namespace spatial_bilinear {
inline constexpr Quant q{0.5f, 0};
// One row, width 2 -> 4. Default: scale_10 = (2048 + 2) / 4 = 512, x * 512 / 1024 gives
// {lower, upper} = {0,0} {0,1} {1,1} {1,1} (upper clamped to 1) and fractions 0, 512, 0, 512.
inline constexpr std::int32_t one_row[] = {0, 0};
inline constexpr std::int32_t no_fraction[] = {0};
inline constexpr std::int32_t cols[] = {0, 0, 0, 1, 1, 1, 1, 1};
inline constexpr std::int32_t col_fractions[] = {0, 512, 0, 512};
// half_pixel_centers: x * 512 + 256 - 512 = -256, 256, 768, 1280 -> lower 0, 0, 0, 1 (C's
// division truncates -256 / 1024 to 0), upper 0, 1, 1, 1; fractions -256, 256, 768, 256.
inline constexpr std::int32_t half_cols[] = {0, 0, 0, 1, 0, 1, 1, 1};
inline constexpr std::int32_t half_col_fractions[] = {-256, 256, 768, 256};
struct x : Tensor<i8, Shape<1, 1, 2, 2>, q> {};
struct y : Tensor<i8, Shape<1, 1, 4, 2>, q> {};
using wide = ResizeBilinear<x, y, one_row, no_fraction, cols, col_fractions>;
using wide_half = ResizeBilinear<x, y, one_row, no_fraction, half_cols, half_col_fractions>;
// 2x2 -> 3x3 with align_corners: scale_10 = (1024 + 1) / 2 = 512; {0,0} {0,1} {1,1}, 0, 512, 0.
inline constexpr std::int32_t three[] = {0, 0, 0, 1, 1, 1};
inline constexpr std::int32_t three_fractions[] = {0, 512, 0};
struct x22 : Tensor<i8, Shape<1, 2, 2, 1>, q> {};
struct y33 : Tensor<i8, Shape<1, 3, 3, 1>, q> {};
using grow = ResizeBilinear<x22, y33, three, three_fractions, three, three_fractions>;
inline constexpr float float_fractions[] = {0.0f, 0.5f, 0.0f, 0.5f};
inline constexpr float no_float_fraction[] = {0.0f};
struct fx : Tensor<float, Shape<1, 1, 2, 1>> {};
struct fy : Tensor<float, Shape<1, 1, 4, 1>> {};
using fwide = ResizeBilinear<fx, fy, one_row, no_float_fraction, cols, float_fractions>;
}  // namespace spatial_bilinear

// The tables are in flash: 12 bytes per output row and column (lower, upper, fraction), as the
// generator's flash estimate counts them.
static_assert(spatial_bilinear::wide::weight_bytes == 12 * (1 + 4) && spatial_bilinear::grow::weight_bytes == 12 * (3 + 3));

TEST_CASE("ResizeBilinear int8 rounds half away from zero in 1/2^20 (TFLM's default rounding)") {
  // channel 0: -128, 127; channel 1: -1, 1
  const std::array<i8, 4> in{-128, -1, 127, 1};
  std::array<i8, 8> out{};
  spatial_bilinear::wide::run(in.data(), out.data());
  // x = 1, channel 0: (-128 + 127) * 512 * 1024 = -2^19; (-2^19 - 2^19) / 2^20 = -1.
  // x = 1, channel 1: (-1 + 1) * ... = 0; (0 - 2^19) / 2^20 truncates to 0.
  CHECK(out == std::array<i8, 8>{-128, -1, -1, 0, 127, 1, 127, 1});
  spatial_bilinear::wide_half::run(in.data(), out.data());
  // x = 0: both taps on column 0, weights 1280 and -256 add to 1024: -128 and -1 exactly.
  // x = 1: (-128 * 768 + 127 * 256) * 1024 / 2^20 = -64.25 -> -64;  (-768 + 256) / 1024 = -0.5 -> -1
  // x = 2: (-128 * 256 + 127 * 768) / 1024 = 63.25 -> 63;           (-256 + 768) / 1024 = 0.5 -> 1
  // x = 3: column 1 only (upper clamped): 127, 1
  CHECK(out == std::array<i8, 8>{-128, -1, -64, -1, 63, 1, 127, 1});
}

TEST_CASE("ResizeBilinear int8 in two dimensions: every mid-point of -128/127 is -0.5 -> -1") {
  const std::array<i8, 4> in{-128, 127, 127, -128};
  std::array<i8, 9> out{};
  spatial_bilinear::grow::run(in.data(), out.data());
  // edges: (-128 + 127) * 512 * 1024 = -2^19 -> -1; centre: -2 * 512 * 512 = -2^19 -> -1
  CHECK(out == std::array<i8, 9>{-128, -1, 127, -1, -1, -1, 127, -1, -128});
}

TEST_CASE("ResizeBilinear float follows TFLM's expression, +0.0f included") {
  const std::array<float, 2> in{1.0f, 2.0f};
  std::array<float, 4> out{};
  spatial_bilinear::fwide::run(in.data(), out.data());
  CHECK(out == std::array<float, 4>{1.0f, 1.5f, 2.0f, 2.0f});
  const std::array<float, 2> negative_zero{-0.0f, -0.0f};
  spatial_bilinear::fwide::run(negative_zero.data(), out.data());
  // -0 * 1 * 1 + -0 * 0 * 1 + ... = -0.0f; TFLM adds its rounding_offset 0.0f: +0.0f
  for (float v : out) CHECK(std::bit_cast<std::uint32_t>(v) == 0u);
}

namespace spatial_space_batch {
inline constexpr Quant zp100{0.02f, 100};
// 3-D [1, 2, 1] padded by 1 and 1 to 4 rows, block 2: output batch k holds padded rows k, k + 2.
struct x3 : Tensor<i8, Shape<1, 2, 1>, zp100> {};
struct y3 : Tensor<i8, Shape<2, 2, 1>, zp100> {};
using pad3 = SpaceToBatchNd<x3, y3, SpaceBatchOptions{.block_h = 2, .top = 1, .bottom = 1}>;
// 4-D [1, 2, 2, 1], block 2x2, no padding: batch (sh * 2 + sw) is pixel (sh, sw).
struct x4 : Tensor<i8, Shape<1, 2, 2, 1>, zp100> {};
struct y4 : Tensor<i8, Shape<4, 1, 1, 1>, zp100> {};
using s2b = SpaceToBatchNd<x4, y4, SpaceBatchOptions{.block_h = 2, .block_w = 2}>;
using b2s = BatchToSpaceNd<y4, x4, SpaceBatchOptions{.block_h = 2, .block_w = 2}>;
// Batch to space with crops: [4, 1, 2, 1] block 2x2 -> [1, 2, 4, 1], crop 1 left and 2 right -> [1, 2, 1, 1].
struct xb : Tensor<i8, Shape<4, 1, 2, 1>, zp100> {};
struct yb : Tensor<i8, Shape<1, 2, 1, 1>, zp100> {};
using crop = BatchToSpaceNd<xb, yb, SpaceBatchOptions{.block_h = 2, .block_w = 2, .left = 1, .right = 2}>;
}  // namespace spatial_space_batch

TEST_CASE("SpaceToBatchNd pads with raw 0, not the zero point (TFLM's unset output_offset)") {
  const std::array<i8, 2> in{-128, 127};
  std::array<i8, 4> out{};
  out.fill(55);
  spatial_space_batch::pad3::run(in.data(), out.data());
  // padded rows: [0, -128, 127, 0]; batch 0 takes rows 0 and 2, batch 1 rows 1 and 3
  CHECK(out == std::array<i8, 4>{0, 127, -128, 0});
}

TEST_CASE("SpaceToBatchNd and BatchToSpaceNd undo each other; crops keep the middle") {
  const std::array<i8, 4> pixels{1, 2, 3, 4};  // (0,0) (0,1) (1,0) (1,1)
  std::array<i8, 4> batches{}, back{};
  spatial_space_batch::s2b::run(pixels.data(), batches.data());
  CHECK(batches == std::array<i8, 4>{1, 2, 3, 4});  // batch sh * 2 + sw = pixel (sh, sw)
  spatial_space_batch::b2s::run(batches.data(), back.data());
  CHECK(back == pixels);
  // batch b = (sh * 2 + sw), pixel w: output (sh, 2 * w + sw); full rows [a0 b0 a1 b1], [c0 d0 c1 d1]
  const std::array<i8, 8> in{-128, 10, 127, 11, -1, 12, 0, 13};  // batches a, b, c, d; 2 pixels each
  std::array<i8, 2> out{};
  spatial_space_batch::crop::run(in.data(), out.data());
  CHECK(out == std::array<i8, 2>{127, 0});  // column 1 of each row: b0 = 127, d0 = 0
}

namespace spatial_l2 {
inline constexpr Quant in0{0.1f, 0};
inline constexpr Quant in127{0.1f, 127};
inline constexpr Quant odd_out{0.3f, 5};  // never read: TFLM writes in 1/128
struct x : Tensor<i8, Shape<4, 2>, in0> {};
struct y : Tensor<i8, Shape<4, 2>, odd_out> {};
struct x127 : Tensor<i8, Shape<2, 2>, in127> {};
struct y127 : Tensor<i8, Shape<2, 2>, odd_out> {};
struct fx : Tensor<float, Shape<3, 2>> {};
using norm = L2Normalization<x, y>;
using norm127 = L2Normalization<x127, y127>;
using fnorm = L2Normalization<fx, fx>;
}  // namespace spatial_l2

TEST_CASE("L2Normalization int8 writes x / ||x|| in 1/128, clamped, whatever the output quantization") {
  const std::array<i8, 8> in{3, 4, -3, 4, 1, 0, 0, -1};
  std::array<i8, 8> out{};
  spatial_l2::norm::run(in.data(), out.data());
  // 3/5 * 128 = 76.8 -> 77, 4/5 * 128 = 102.4 -> 102; 1/1 * 128 = 128 -> 127; -128 stays
  CHECK(out == std::array<i8, 8>{77, 102, -77, 102, 127, 0, 0, -128});
  // zero point 127: a row all at 127 gives zeros; (-128 - 127) = -255 alone -> -128, 0 -> 0
  const std::array<i8, 4> in127{127, 127, -128, 127};
  std::array<i8, 4> out127{};
  spatial_l2::norm127::run(in127.data(), out127.data());
  CHECK(out127 == std::array<i8, 4>{0, 0, -128, 0});
}

TEST_CASE("L2Normalization float divides by max(norm, 1e-6f)") {
  const std::array<float, 6> in{3.0f, 4.0f, 0.0f, 0.0f, 1e-7f, 0.0f};
  std::array<float, 6> out{};
  spatial_l2::fnorm::run(in.data(), out.data());
  CHECK(out[0] == 3.0f / 5.0f);
  CHECK(out[1] == 4.0f / 5.0f);
  CHECK((out[2] == 0.0f && out[3] == 0.0f));
  CHECK(out[4] == 1e-7f / 1e-6f);  // sqrt(1e-14) = 1e-7 is below epsilon
}

namespace spatial_log_softmax {
inline constexpr Quant one{1.0f, 0};
inline constexpr Quant tenth{0.1f, 0};
inline constexpr Quant fixed_out{16.0f / 256, 127};
struct x1 : Tensor<i8, Shape<3, 2>, one> {};
struct y1 : Tensor<i8, Shape<3, 2>, fixed_out> {};
struct x4 : Tensor<i8, Shape<1, 4>, tenth> {};
struct y4 : Tensor<i8, Shape<1, 4>, fixed_out> {};
using pairs = LogSoftmax<x1, y1>;
using four = LogSoftmax<x4, y4>;
}  // namespace spatial_log_softmax

TEST_CASE("LogSoftmax int8: round(log_softmax * 16) + 127, -128 far below the maximum") {
  // scale 1: [127, 126] -> -log(1 + e^-1) = -0.313 -> -5.01 -> 122; -1.313 -> -21.01 -> 106
  //          [127, -128] -> a difference of -255 is below diff_min: -128; the maximum: log(1) -> 127
  //          [-128, -128] -> log(1/2) = -0.693 -> -11.09 -> 116
  const std::array<i8, 6> in{127, 126, 127, -128, -128, -128};
  std::array<i8, 6> out{};
  spatial_log_softmax::pairs::run(in.data(), out.data());
  CHECK(out == std::array<i8, 6>{122, 106, 127, -128, 116, 116});
  // scale 0.1, four equal values: log(1/4) = -1.386 -> -22.18 -> 105
  const std::array<i8, 4> equal{-7, -7, -7, -7};
  std::array<i8, 4> out4{};
  spatial_log_softmax::four::run(equal.data(), out4.data());
  CHECK(out4 == std::array<i8, 4>{105, 105, 105, 105});
}
