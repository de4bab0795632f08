// main() of tinynet's stub core: setup(), then loop() TINYNET_ARDUINO_LOOPS times (boards.txt's
// build.loops), then return 0, which the harness's Reset_Handler (harness.cpp) turns into QEMU's
// exit status through semihosting. A real board's main() calls loop() forever.
#include "Arduino.h"

#ifndef TINYNET_ARDUINO_LOOPS
#define TINYNET_ARDUINO_LOOPS 16
#endif

namespace {
unsigned long clock_us = 0;  // advanced by delay(), since no time passes on the stub board
}

extern "C" {
unsigned long millis(void) { return clock_us / 1000; }
unsigned long micros(void) { return clock_us; }
void delay(unsigned long ms) { clock_us += ms * 1000; }
void delayMicroseconds(unsigned int us) { clock_us += us; }
void pinMode(uint8_t, uint8_t) {}
void digitalWrite(uint8_t, uint8_t) {}
int digitalRead(uint8_t) { return LOW; }
}

// The program: platform.txt links it with -u tinynet_arduino_main, which brings this file, and so
// main(), into the image.
extern "C" int tinynet_arduino_main() {
  setup();
  for (long i = 0; i < TINYNET_ARDUINO_LOOPS; ++i) loop();
  Serial.flush();
  return 0;
}

int main() { return tinynet_arduino_main(); }
