// ARM semihosting calls (bkpt 0xAB), as QEMU implements them with
// -semihosting-config enable=on,target=native: console output, host files and the exit status.
#pragma once

#include <cstddef>
#include <cstdint>

namespace semihost {

enum : int {
  sys_open = 0x01,
  sys_close = 0x02,
  sys_write0 = 0x04,
  sys_write = 0x05,
  sys_read = 0x06,
  sys_exit_extended = 0x20,
};

inline int call(int operation, const void* argument) {
  register int r0 asm("r0") = operation;
  register const void* r1 asm("r1") = argument;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

inline void write(const char* text) { call(sys_write0, text); }

// Opens a host file relative to QEMU's working directory; mode 1 = "rb", 5 = "wb". -1 on error.
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
// Both return the number of bytes transferred.
inline std::size_t read(int handle, void* data, std::size_t bytes) {
  const std::uintptr_t block[3] = {static_cast<std::uintptr_t>(handle), reinterpret_cast<std::uintptr_t>(data), bytes};
  return bytes - static_cast<std::size_t>(call(sys_read, block));
}
inline std::size_t write(int handle, const void* data, std::size_t bytes) {
  const std::uintptr_t block[3] = {static_cast<std::uintptr_t>(handle), reinterpret_cast<std::uintptr_t>(data), bytes};
  return bytes - static_cast<std::size_t>(call(sys_write, block));
}

// SYS_EXIT_EXTENDED with ADP_Stopped_ApplicationExit and a status: QEMU exits with that status.
[[noreturn]] inline void exit(int status) {
  const std::uintptr_t block[2] = {0x20026, static_cast<std::uintptr_t>(status)};
  for (;;) call(sys_exit_extended, block);
}

// Decimal text of an unsigned value, without printf.
inline const char* decimal(std::uint64_t value, char (&buffer)[24]) {
  char* p = buffer + sizeof(buffer) - 1;
  *p = '\0';
  do {
    *--p = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  return p;
}

}  // namespace semihost
