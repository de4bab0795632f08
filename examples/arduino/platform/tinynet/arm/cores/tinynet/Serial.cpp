// Serial of tinynet's stub core (Arduino.h): semihosting console output.
#include "Arduino.h"

#include "semihost.hpp"

SemihostingSerial Serial;

void SemihostingSerial::flush() {
  if (used_ == 0) return;
  line_[used_] = '\0';
  semihost::write(line_);
  used_ = 0;
}

size_t SemihostingSerial::write(uint8_t c) {
  if (c == '\0') return 0;  // SYS_WRITE0 ends at a NUL: it cannot be sent
  line_[used_++] = static_cast<char>(c);
  if (c == '\n' || used_ + 1 == sizeof(line_)) flush();
  return 1;
}

size_t SemihostingSerial::write(const char* text) {
  size_t n = 0;
  while (*text != '\0') n += write(static_cast<uint8_t>(*text++));
  return n;
}

size_t SemihostingSerial::write(const uint8_t* data, size_t size) {
  size_t n = 0;
  for (size_t i = 0; i < size; ++i) n += write(data[i]);
  return n;
}

size_t SemihostingSerial::print_unsigned(unsigned long long value, int base) {
  if (base < 2 || base > 16) base = 10;
  char digits[65];
  int count = 0;
  do {
    digits[count++] = "0123456789ABCDEF"[value % static_cast<unsigned>(base)];
    value /= static_cast<unsigned>(base);
  } while (value != 0);
  size_t n = 0;
  while (count > 0) n += write(static_cast<uint8_t>(digits[--count]));
  return n;
}

size_t SemihostingSerial::print(unsigned long long value, int base) { return print_unsigned(value, base); }
size_t SemihostingSerial::print(unsigned long value, int base) { return print_unsigned(value, base); }
size_t SemihostingSerial::print(long value, int base) { return print(static_cast<long long>(value), base); }

// As Arduino's Print: a minus sign only in base 10; other bases print the two's complement.
size_t SemihostingSerial::print(long long value, int base) {
  if (base != 10) return print_unsigned(static_cast<unsigned long>(value), base);
  if (value >= 0) return print_unsigned(static_cast<unsigned long long>(value), 10);
  return write('-') + print_unsigned(0ull - static_cast<unsigned long long>(value), 10);
}

// `digits` decimals, rounded half away from zero, as Arduino's Print::print(double, int) does.
size_t SemihostingSerial::print(double value, int digits) {
  if (isnan(value)) return write("nan");
  if (isinf(value)) return write("inf");
  if (value > 4294967040.0 || value < -4294967040.0) return write("ovf");
  size_t n = 0;
  if (value < 0.0) {
    n += write('-');
    value = -value;
  }
  double rounding = 0.5;
  for (int i = 0; i < digits; ++i) rounding /= 10.0;
  value += rounding;
  const auto whole = static_cast<unsigned long>(value);
  n += print_unsigned(whole, 10);
  double rest = value - static_cast<double>(whole);
  if (digits > 0) n += write('.');
  for (int i = 0; i < digits; ++i) {
    rest *= 10.0;
    const auto digit = static_cast<unsigned>(rest);
    n += write(static_cast<uint8_t>('0' + digit));
    rest -= digit;
  }
  return n;
}
