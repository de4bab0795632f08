// 4-bit weights: TFLite's INT4 tensor type (TensorType 17), two values per byte, the low nibble
// first, each a two's complement value in [-8, 7] (TFLM's tensor_utils::UnpackDenseInt4IntoInt8
// reads them so; a row may start in the middle of a byte: the whole tensor is packed as one run).
//
// TFLM computes an int4 FullyConnected, Conv2D or DepthwiseConv2D exactly as the int8 layer with
// the unpacked weights. tinynet keeps either form:
//   unpack_int4<N>(bytes)   the int8 weights, unpacked by the compiler (a std::array): the layer is
//                           the int8 layer, same code, same flash as int8 weights;
//   packed_int4<N>(bytes)   a PackedInt4: the packed bytes (each nibble's sign bit flipped), which
//                           stay in flash at two weights per byte; FullyConnected, Conv2D and
//                           DepthwiseConv2D given one unpack in their inner loops (kernels/int4_dot.hpp).
// Indexing a PackedInt4 gives the int8 value, so everything the compiler derives from the weights
// (folded bias, sparsity) reads both forms alike.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tinynet {

// Nibble `high` (0: bits 0-3, 1: bits 4-7) of `byte` as a signed value in [-8, 7].
constexpr std::int8_t int4_value(std::uint8_t byte, int high) {
  const int nibble = (high ? byte >> 4 : byte) & 0xF;
  return static_cast<std::int8_t>(nibble >= 8 ? nibble - 16 : nibble);
}

// The nibbles as a PackedInt4 stores them: TFLite's with the sign bit flipped (offset binary:
// stored u = value + 8, in 0..15), which the kernels multiply without sign extension
// (kernels/int4_dot.hpp); flipping the bits of a stored byte back gives TFLite's byte.
inline constexpr std::uint8_t int4_offset_flip = 0x88;
constexpr std::int8_t stored_int4_value(std::uint8_t stored, int high) {
  return int4_value(static_cast<std::uint8_t>(stored ^ int4_offset_flip), high);
}

// N int4 values packed two per byte (TFLite's order, offset binary: see above), indexable as int8.
template <std::size_t N>
struct PackedInt4 {
  static constexpr std::size_t count = N;
  std::array<std::uint8_t, (N + 1) / 2> packed{};
  constexpr std::int8_t operator[](std::size_t i) const { return stored_int4_value(packed[i / 2], static_cast<int>(i % 2)); }
};

template <class T>
inline constexpr bool is_packed_int4 = false;
template <std::size_t N>
inline constexpr bool is_packed_int4<PackedInt4<N>> = true;

// The packed form of N values from their bytes (as a generated header holds them).
template <std::size_t N, std::size_t Bytes>
constexpr PackedInt4<N> packed_int4(const std::uint8_t (&bytes)[Bytes]) {
  static_assert(Bytes == (N + 1) / 2, "tinynet: N int4 values take (N + 1) / 2 bytes");
  PackedInt4<N> out{};
  for (std::size_t i = 0; i < Bytes; ++i) out.packed[i] = static_cast<std::uint8_t>(bytes[i] ^ int4_offset_flip);
  return out;
}

// The N values as int8, unpacked by the compiler.
template <std::size_t N, std::size_t Bytes>
constexpr std::array<std::int8_t, N> unpack_int4(const std::uint8_t (&bytes)[Bytes]) {
  static_assert(Bytes == (N + 1) / 2, "tinynet: N int4 values take (N + 1) / 2 bytes");
  std::array<std::int8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = int4_value(bytes[i / 2], static_cast<int>(i % 2));
  return out;
}

}  // namespace tinynet
