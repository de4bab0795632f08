// The constant tables an op's kernels read, as a list of references: what an op's
// constant_tables() returns, and what core/checksum.hpp walks (any op, no per-op code there).
#pragma once

namespace tinynet {

template <const auto&... Tables>
struct ConstantTables {};

// The tables of A, then those of B.
template <const auto&... A, const auto&... B>
constexpr ConstantTables<A..., B...> operator+(ConstantTables<A...>, ConstantTables<B...>) {
  return {};
}

}  // namespace tinynet
