// classify: tinynet in an Arduino sketch. The network is the sine model of examples/hello_world
// (sine_int8.tflite), converted into sine_model.h by `scripts/tinynet convert` (scripts/arduino-library
// does it when it makes the library zip). Every loop() runs one inference on the next of 16 points
// over one period and prints, over Serial, the int8 input and output and their real values, and the
// half of the period the network puts the point in (its sign): the "class".
//
// tinynet.h first: it is the header by which the Arduino build finds the library, and it puts the
// library's folder on the include path for the model header.
#include <tinynet.h>

#include "sine_model.h"

using net = sine::network;
static_assert(net::arena_bytes <= 256, "the arena is planned at compile time: a RAM budget check");

static tinynet::Instance<net> instance;  // the arena, in .bss: no constructor runs, no heap
static int step = 0;

// real -> int8 with the input tensor's quantization; int8 -> real with the output's.
static std::int8_t quantize_input(float x) {
  using in = net::input_t<0>;
  const long q = lroundf(x / in::scale) + in::zero_point;
  return static_cast<std::int8_t>(q < -128 ? -128 : (q > 127 ? 127 : q));
}

static float dequantize_output(std::int8_t q) {
  using out = net::output_t<0>;
  return static_cast<float>(q - out::zero_point) * out::scale;
}

void setup() {
  Serial.begin(115200);
  Serial.print("tinynet sine model: arena ");
  Serial.print(static_cast<unsigned long>(net::arena_bytes));
  Serial.print(" bytes, ");
  Serial.print(static_cast<unsigned long>(net::macs));
  Serial.println(" MACs per inference");
}

void loop() {
  const float x = 6.2831853f * static_cast<float>(step) / 16.0f;
  const std::int8_t q_in = quantize_input(x);
  instance.input()[0] = q_in;
  instance.invoke();
  const std::int8_t q_out = instance.output()[0];
  const float y = dequantize_output(q_out);

  Serial.print("step ");
  Serial.print(step);
  Serial.print(": x=");
  Serial.print(x, 3);
  Serial.print(" q_in=");
  Serial.print(static_cast<int>(q_in));
  Serial.print(" q_out=");
  Serial.print(static_cast<int>(q_out));
  Serial.print(" y=");
  Serial.print(y, 3);
  Serial.println(y >= 0.0f ? " class=upper" : " class=lower");

  step = (step + 1) % 16;
  delay(100);
}
