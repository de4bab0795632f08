// The constant tables an op's kernels read, as a list of references: what an op's
// constant_tables() returns, and what core/checksum.hpp walks (any op, no per-op code there).
#pragma once

namespace tinynet {

template <const auto&... Tables>
struct ConstantTables {};

}  // namespace tinynet
