// Arduino.h of tinynet's stub core: the part of the Arduino API a sketch that runs a network
// needs, on a bare-metal Cortex-M under QEMU. Serial writes to the semihosting console (QEMU's
// stdout with -semihosting-config ...,chardev=ID -chardev stdio,id=ID); delay() only advances the
// clock millis() reads, since nothing here waits for real time. Not a real board's core: see
// examples/arduino/README.md.
#pragma once

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HIGH 0x1
#define LOW 0x0
#define INPUT 0x0
#define OUTPUT 0x1
#define LED_BUILTIN 13

#define DEC 10
#define HEX 16
#define OCT 8
#define BIN 2

#ifdef __cplusplus
extern "C" {
#endif
void setup(void);
void loop(void);

unsigned long millis(void);
unsigned long micros(void);
void delay(unsigned long ms);
void delayMicroseconds(unsigned int us);

// No pins on the stub board: these do nothing, and digitalRead() reads LOW.
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t value);
int digitalRead(uint8_t pin);
#ifdef __cplusplus
}

// Serial over semihosting, with the print()/println() overloads of Arduino's Print class. Text is
// collected up to a newline (or a full buffer) and then written in one semihosting call.
class SemihostingSerial {
 public:
  void begin(unsigned long) {}
  void begin(unsigned long, uint8_t) {}
  void end() { flush(); }
  explicit operator bool() const { return true; }
  int available() { return 0; }
  int read() { return -1; }
  void flush();

  size_t write(uint8_t c);
  size_t write(const char* text);
  size_t write(const uint8_t* data, size_t size);

  size_t print(const char* text) { return write(text); }
  size_t print(char c) { return write(static_cast<uint8_t>(c)); }
  size_t print(unsigned char value, int base = DEC) { return print(static_cast<unsigned long>(value), base); }
  size_t print(int value, int base = DEC) { return print(static_cast<long>(value), base); }
  size_t print(unsigned int value, int base = DEC) { return print(static_cast<unsigned long>(value), base); }
  size_t print(long value, int base = DEC);
  size_t print(unsigned long value, int base = DEC);
  size_t print(long long value, int base = DEC);
  size_t print(unsigned long long value, int base = DEC);
  size_t print(double value, int digits = 2);

  size_t println() { return write('\n'); }
  template <typename T>
  size_t println(const T& value) {
    const size_t n = print(value);
    return n + println();
  }
  template <typename T>
  size_t println(const T& value, int format) {
    const size_t n = print(value, format);
    return n + println();
  }

 private:
  size_t print_unsigned(unsigned long long value, int base);
  char line_[96];
  size_t used_ = 0;
};

extern SemihostingSerial Serial;
#endif
