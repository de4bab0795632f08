// ARM semihosting (the "bkpt 0xAB" calls of Arm's semihosting specification, v2), as QEMU 7.2
// implements them with -semihosting-config enable=on,target=native[,chardev=ID]: console output,
// host files and the exit status. Plus printf-free formatting of integers and hex, so an image
// needs no newlib stdio.
//
//   semihost::print("instructions: ", n, " at ", semihost::hex(address), "\n");
//   semihost::exit(0);   // QEMU's own exit status becomes 0
//
// Header-only: nothing here needs semihost.cpp (which only retargets newlib's stdio, for programs
// that want printf anyway).
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

namespace semihost {

// Operation numbers (Arm semihosting specification, "Semihosting operations").
enum : int {
  sys_open = 0x01,
  sys_close = 0x02,
  sys_writec = 0x03,  // one character, argument: its address
  sys_write0 = 0x04,  // a NUL-terminated string, argument: its address
  sys_write = 0x05,
  sys_read = 0x06,
  sys_exit_extended = 0x20,
};

// r0 = operation, r1 = argument (usually a parameter block); the result comes back in r0.
// On M-profile the trap is BKPT 0xAB (no SVC variant).
inline int call(int operation, const void* argument) {
  register int r0 asm("r0") = operation;
  register const void* r1 asm("r1") = argument;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

// Console: a string (SYS_WRITE0) or one character (SYS_WRITEC). With QEMU's
// -semihosting-config ...,chardev=ID -chardev stdio,id=ID this is QEMU's stdout.
inline void write(const char* text) { call(sys_write0, text); }
inline void putc(char c) { call(sys_writec, &c); }

// Host files, relative to QEMU's working directory. mode: 0 "r", 1 "rb", 4 "w", 5 "wb", 8 "a".
// Returns a handle, or -1 on error.
inline int open(const char* path, int mode) {
  std::size_t length = 0;
  while (path[length] != '\0') ++length;
  const std::uintptr_t block[3] = {reinterpret_cast<std::uintptr_t>(path), static_cast<std::uintptr_t>(mode), length};
  return call(sys_open, block);
}
inline void close(int handle) {
  const std::uintptr_t block[1] = {static_cast<std::uintptr_t>(handle)};
  call(sys_close, block);
}
// Both return the number of bytes transferred (the calls themselves return the bytes NOT transferred).
inline std::size_t read(int handle, void* data, std::size_t bytes) {
  const std::uintptr_t block[3] = {static_cast<std::uintptr_t>(handle), reinterpret_cast<std::uintptr_t>(data), bytes};
  return bytes - static_cast<std::size_t>(call(sys_read, block));
}
inline std::size_t write(int handle, const void* data, std::size_t bytes) {
  const std::uintptr_t block[3] = {static_cast<std::uintptr_t>(handle), reinterpret_cast<std::uintptr_t>(data), bytes};
  return bytes - static_cast<std::size_t>(call(sys_write, block));
}

// A whole host file of known size, as the runners, the test images and the examples move tensors:
// read_file() fills exactly `bytes` bytes and refuses a file that is shorter or longer;
// read_prefix() fills them from the start of a file that may go on (several tensors back to back,
// as the Cortex-M runner's steps read them) and refuses only a shorter one.
enum class FileStatus : int { ok = 0, cannot_open, wrong_size };
enum class FileRest : bool { refused, allowed };
inline FileStatus read_start(const char* path, void* data, std::size_t bytes, FileRest rest) {
  const int handle = open(path, 1);  // "rb"
  if (handle < 0) return FileStatus::cannot_open;
  unsigned char extra;
  const bool filled = read(handle, data, bytes) == bytes &&
                      (rest == FileRest::allowed || read(handle, &extra, 1) == 0);
  close(handle);
  return filled ? FileStatus::ok : FileStatus::wrong_size;
}
inline FileStatus read_file(const char* path, void* data, std::size_t bytes) {
  return read_start(path, data, bytes, FileRest::refused);
}
inline FileStatus read_prefix(const char* path, void* data, std::size_t bytes) {
  return read_start(path, data, bytes, FileRest::allowed);
}
inline FileStatus write_file(const char* path, const void* data, std::size_t bytes) {
  const int handle = open(path, 5);  // "wb"
  if (handle < 0) return FileStatus::cannot_open;
  const bool complete = write(handle, data, bytes) == bytes;
  close(handle);
  return complete ? FileStatus::ok : FileStatus::wrong_size;
}
// The same for anything with data() and size_bytes() (std::span, tinynet's tensor views).
template <class Bytes>
  requires requires(Bytes b) { b.data(); b.size_bytes(); }
FileStatus read_file(const char* path, Bytes bytes) { return read_file(path, bytes.data(), bytes.size_bytes()); }
template <class Bytes>
  requires requires(Bytes b) { b.data(); b.size_bytes(); }
FileStatus read_prefix(const char* path, Bytes bytes) { return read_prefix(path, bytes.data(), bytes.size_bytes()); }
template <class Bytes>
  requires requires(Bytes b) { b.data(); b.size_bytes(); }
FileStatus write_file(const char* path, Bytes bytes) { return write_file(path, bytes.data(), bytes.size_bytes()); }

// SYS_EXIT_EXTENDED with the block {ADP_Stopped_ApplicationExit = 0x20026, status}: QEMU exits
// with `status` as its own exit status (0..255).
[[noreturn]] inline void exit(int status) {
  const std::uintptr_t block[2] = {0x20026, static_cast<std::uintptr_t>(status)};
  for (;;) call(sys_exit_extended, block);
}

// ---------------------------------------------------------------------------------------------
// Formatting without printf.

// Decimal text of an unsigned value into the end of `buffer`; returns where the text starts.
// Only 32-bit divisions by 10 (no __aeabi_uldivmod): above 2^32 the value is divided as four
// 16-bit digits, each step's dividend staying below 10 * 2^16.
[[gnu::noinline]] inline const char* decimal(std::uint64_t value, char (&buffer)[24]) {
  char* p = buffer + sizeof(buffer) - 1;
  *p = '\0';
  if (value > 0xFFFFFFFFu) {
    std::uint32_t digits[4] = {static_cast<std::uint32_t>(value >> 48), static_cast<std::uint32_t>(value >> 32) & 0xFFFFu,
                               static_cast<std::uint32_t>(value >> 16) & 0xFFFFu, static_cast<std::uint32_t>(value) & 0xFFFFu};
    while (digits[0] != 0 || digits[1] != 0) {
      std::uint32_t remainder = 0;
      for (auto& d : digits) {
        const std::uint32_t current = (remainder << 16) | d;
        d = current / 10;
        remainder = current % 10;
      }
      *--p = static_cast<char>('0' + remainder);
    }
    value = (digits[2] << 16) | digits[3];
  }
  auto small = static_cast<std::uint32_t>(value);
  do {
    *--p = static_cast<char>('0' + small % 10);
    small /= 10;
  } while (small != 0);
  return p;
}

// print()'s argument for hexadecimal: "0x" then `digits` digits (0: as few as needed).
struct Hex {
  std::uint32_t value;
  int digits;
};
constexpr Hex hex(std::uint32_t value, int digits = 0) { return {value, digits}; }

// Collects text in a small buffer and hands it to a sink when full and when done; print() and
// format_to() are built on it. The work is done out of line, once per image, not per call.
class Writer {
 public:
  using Sink = void (*)(void* context, const char* text, std::size_t length);
  Writer(Sink sink, void* context) : sink_(sink), context_(context) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer() { flush(); }

  void put(char c) {
    if (used_ == capacity) flush();
    buffer_[used_++] = c;
  }
  [[gnu::noinline]] void put(const char* text) {
    while (*text != '\0') put(*text++);
  }
  void put(bool value) { put(value ? "true" : "false"); }
  // char is a character; every other integer type (int8_t too) is a number.
  template <std::integral T>
    requires(!std::same_as<T, char> && !std::same_as<T, bool>)
  void put(T value) {
    if constexpr (std::signed_integral<T>)
      put_signed(value);
    else
      put_unsigned(value);
  }
  // No floating point (it would otherwise convert to bool).
  template <std::floating_point T>
  void put(T) = delete;
  [[gnu::noinline]] void put(Hex h) {
    put("0x");
    int digits = h.digits;
    if (digits <= 0) {
      digits = 1;
      while (digits < 8 && (h.value >> (4 * digits)) != 0) ++digits;
    }
    for (int i = digits - 1; i >= 0; --i) put("0123456789abcdef"[(h.value >> (4 * i)) & 0xF]);
  }
  [[gnu::noinline]] void put_unsigned(std::uint64_t value) {
    char text[24];
    put(decimal(value, text));
  }
  [[gnu::noinline]] void put_signed(std::int64_t value) {
    if (value < 0) put('-');
    put_unsigned(value < 0 ? 0 - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value));
  }
  [[gnu::noinline]] void flush() {
    if (used_ == 0) return;
    buffer_[used_] = '\0';
    sink_(context_, buffer_, used_);
    used_ = 0;
  }

 private:
  static constexpr std::size_t capacity = 80;
  Sink sink_;
  void* context_;
  char buffer_[capacity + 1];
  std::size_t used_ = 0;
};

// Prints its arguments in order on the console: strings, characters, integers, bools, hex(v).
template <typename... Args>
void print(const Args&... args) {
  Writer out{[](void*, const char* text, std::size_t) { write(text); }, nullptr};
  (out.put(args), ...);
}

// Formats into `buffer` (always NUL-terminated, cut to fit); returns the length written.
template <std::size_t N, typename... Args>
std::size_t format_to(char (&buffer)[N], const Args&... args) {
  static_assert(N > 0);
  struct Target {
    char* data;
    std::size_t length;
  } target{buffer, 0};
  buffer[0] = '\0';
  {
    Writer out{[](void* context, const char* text, std::size_t count) {
                 auto& t = *static_cast<Target*>(context);
                 for (std::size_t i = 0; i < count && t.length + 1 < N; ++i) t.data[t.length++] = text[i];
                 t.data[t.length] = '\0';
               },
               &target};
    (out.put(args), ...);
  }
  return target.length;
}

}  // namespace semihost
