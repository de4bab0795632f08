// print() for the examples that run both on the host and on a Cortex-M under QEMU (cascade,
// streaming, vibration): its arguments in order, strings and integers (no floating point: print
// fixed-point integers instead). On the host it writes to stdout with stdio; on the device it is
// targets/cortex-m/semihost.hpp's print (semihosting, no printf, no heap). print_error() writes to
// stderr on the host and to the same console on the device. read_file() fills a tensor from a
// file of exactly its size (stdio on the host, semihosting on the device).
//
//   print("arena: ", Net::arena_bytes, " bytes\n");
//   if (read_file(path, instance.input()) != FileStatus::ok) ...
#pragma once

#if defined(__arm__)
#include "semihost.hpp"
template <class... Args>
inline void print(const Args&... args) { semihost::print(args...); }
template <class... Args>
inline void print_error(const Args&... args) { semihost::print(args...); }
using semihost::FileStatus;
using semihost::read_file;
#else
#include <concepts>
#include <cstddef>
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

// semihost::read_file's contract on the host: exactly the span's bytes, neither fewer nor more.
enum class FileStatus : int { ok = 0, cannot_open, wrong_size };
template <class Bytes>
inline FileStatus read_file(const char* path, Bytes bytes) {
  std::FILE* file = std::fopen(path, "rb");
  if (file == nullptr) return FileStatus::cannot_open;
  const std::size_t count = std::fread(bytes.data(), 1, bytes.size_bytes(), file);
  const bool longer = std::fgetc(file) != EOF;
  std::fclose(file);
  return count == bytes.size_bytes() && !longer ? FileStatus::ok : FileStatus::wrong_size;
}
#endif
