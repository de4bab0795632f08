// Helpers for the constant arrays (weights, biases, scales) that layers take by reference.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "int4.hpp"

namespace tinynet {

// Passed where a layer has no bias.
struct NoBias {};
inline constexpr NoBias no_bias{};

// Passed where float layers take no per-channel scales.
struct NoScales {};
inline constexpr NoScales no_scales{};

namespace detail {
template <class A>
struct array_traits {
  static constexpr int size = 0;
  using element = void;
};
template <class T, std::size_t N>
struct array_traits<T[N]> {
  static constexpr int size = static_cast<int>(N);
  using element = T;
};
template <class T, std::size_t N>
struct array_traits<std::array<T, N>> {
  static constexpr int size = static_cast<int>(N);
  using element = T;
};
template <std::size_t N>
struct array_traits<PackedInt4<N>> {  // int4 weights, packed two per byte (core/int4.hpp)
  static constexpr int size = static_cast<int>(N);
  using element = std::int8_t;
};
}  // namespace detail

// Number of elements of a flat constant array (C array or std::array); 0 for no_bias/no_scales.
template <const auto& Array>
inline constexpr int array_size = detail::array_traits<std::remove_cvref_t<decltype(Array)>>::size;

template <const auto& Array>
using array_element = typename detail::array_traits<std::remove_cvref_t<decltype(Array)>>::element;

template <const auto& Bias>
inline constexpr bool has_bias = !std::is_same_v<std::remove_cvref_t<decltype(Bias)>, NoBias>;

}  // namespace tinynet
