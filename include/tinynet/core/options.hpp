// Enumerations shared by many ops (TFLite's Padding and fused ActivationFunctionType).
#pragma once

namespace tinynet {

enum class Padding { same, valid };

// Fused activations. For int8/int16 the fused activation only narrows the clamp range.
enum class Activation { none, relu, relu6, relu_n1_to_1 };

}  // namespace tinynet
