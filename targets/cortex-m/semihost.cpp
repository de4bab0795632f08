// newlib's system calls over semihosting, for programs that use <cstdio> (printf, puts) or
// malloc after all: stdout and stderr go to the semihosting console, exit() ends QEMU with its
// status, and the heap is RAM after .bss (__heap_start..__heap_end, linker script).
//
// The harness itself needs none of these. Each is its own section (-ffunction-sections), so
// --gc-sections keeps only what the program references: a program without stdio or malloc links
// none of them (tests/cortex-m checks that such an image holds no malloc, free or operator new).
// Files are not supported here (use semihost::open/read/write directly).
#include <cerrno>
#include <cstddef>
#include <cstdint>

#include <sys/stat.h>

#include "semihost.hpp"

extern "C" {
extern char __heap_start[], __heap_end[];

int _write(int fd, const char* data, int length) {
  if (fd != 1 && fd != 2) {
    errno = EBADF;
    return -1;
  }
  // SYS_WRITE0 wants NUL-terminated text: send it in chunks.
  char chunk[65];
  for (int done = 0; done < length;) {
    int n = 0;
    while (n < 64 && done < length) chunk[n++] = data[done++];
    chunk[n] = '\0';
    semihost::write(chunk);
  }
  return length;
}

int _read(int fd, char*, int) {
  if (fd == 0) return 0;  // stdin: always at end of file
  errno = EBADF;
  return -1;
}

int _close(int) {
  errno = EBADF;
  return -1;
}

long _lseek(int, long, int) {
  errno = ESPIPE;
  return -1;
}

int _fstat(int fd, struct stat* status) {
  if (fd < 0 || fd > 2) {
    errno = EBADF;
    return -1;
  }
  status->st_mode = S_IFCHR;  // a terminal: stdio buffers it by lines
  return 0;
}

int _isatty(int fd) { return fd >= 0 && fd <= 2; }

void* _sbrk(std::ptrdiff_t increment) {
  static char* brk = __heap_start;
  if (increment > __heap_end - brk || increment < __heap_start - brk) {
    errno = ENOMEM;
    return reinterpret_cast<void*>(-1);
  }
  char* previous = brk;
  brk += increment;
  return previous;
}

[[noreturn]] void _exit(int status) { semihost::exit(status); }

int _kill(int, int) {
  errno = EINVAL;
  return -1;
}

int _getpid() { return 1; }
}
