// Compiler hints the kernels share.
#pragma once

// Asks GCC to unroll the loop that follows (clang unrolls small constant-trip loops by itself).
#if defined(__GNUC__) && !defined(__clang__)
#define TINYNET_UNROLL _Pragma("GCC unroll 16")
#define TINYNET_UNROLL_8 _Pragma("GCC unroll 8")
#define TINYNET_UNROLL_4 _Pragma("GCC unroll 4")
#define TINYNET_UNROLL_2 _Pragma("GCC unroll 2")
#define TINYNET_NO_UNROLL _Pragma("GCC unroll 1")
#else
#define TINYNET_UNROLL
#define TINYNET_UNROLL_8
#define TINYNET_UNROLL_4
#define TINYNET_UNROLL_2
#define TINYNET_NO_UNROLL
#endif

// Keeps a kernel loop out of its caller, where the caller's live values would push the loop's
// own out of registers.
#if defined(__GNUC__)
#define TINYNET_NOINLINE __attribute__((noinline))
#define TINYNET_ALWAYS_INLINE __attribute__((always_inline))
#else
#define TINYNET_NOINLINE
#define TINYNET_ALWAYS_INLINE
#endif

// Always inline in optimised builds only: the unrolled sparse forms (layers/dense/unrolled_rows.hpp,
// paired_columns.hpp) write out thousands of small steps, and at -O0 GCC gives every inlined copy's
// locals stack slots of their own (it shares none), so one 48-row unrolled 1x1 convolution took a
// 66 KB frame. Unoptimised, the steps stay calls with small frames.
#if defined(__GNUC__) && defined(__OPTIMIZE__)
#define TINYNET_INLINE_UNROLLED __attribute__((always_inline))
#else
#define TINYNET_INLINE_UNROLLED
#endif
