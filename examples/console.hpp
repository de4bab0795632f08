// print() for the examples that run both on the host and on a Cortex-M under QEMU (cascade,
// streaming, vibration): its arguments in order, strings and integers (no floating point: print
// fixed-point integers instead). On the host it writes to stdout with stdio; on the device it is
// targets/cortex-m/semihost.hpp's print (semihosting, no printf, no heap). print_error() writes to
// stderr on the host and to the same console on the device.
//
//   print("arena: ", Net::arena_bytes, " bytes\n");
#pragma once

#if defined(__arm__)
#include "semihost.hpp"
template <class... Args>
inline void print(const Args&... args) { semihost::print(args...); }
template <class... Args>
inline void print_error(const Args&... args) { semihost::print(args...); }
#else
#include <concepts>
#include <cstdio>
inline void print_one(std::FILE* stream, const char* text) { std::fputs(text, stream); }
inline void print_one(std::FILE* stream, std::signed_integral auto value) {
  std::fprintf(stream, "%lld", static_cast<long long>(value));
}
inline void print_one(std::FILE* stream, std::unsigned_integral auto value) {
  std::fprintf(stream, "%llu", static_cast<unsigned long long>(value));
}
template <class... Args>
inline void print(const Args&... args) { (print_one(stdout, args), ...); }
template <class... Args>
inline void print_error(const Args&... args) { (print_one(stderr, args), ...); }
#endif
