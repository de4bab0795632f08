// tinynet.h: the root header for Arduino and PlatformIO sketches. It is the same as
// <tinynet/tinynet.hpp>; it exists because the Arduino build only finds a library by a header at
// the root of the library's src/ folder, and only once that header is included does
// <tinynet/tinynet.hpp> (and a generated model header) resolve. Include it first in a sketch.
//
// Some Arduino cores (AVR's, for one) define min, max, abs and round as function-like macros,
// which break the standard headers tinynet uses: they are set aside while tinynet is included and
// restored afterwards, so the sketch sees them as its core defines them.
#pragma once

#pragma push_macro("min")
#pragma push_macro("max")
#pragma push_macro("abs")
#pragma push_macro("round")
#undef min
#undef max
#undef abs
#undef round

#include <tinynet/tinynet.hpp>

#pragma pop_macro("round")
#pragma pop_macro("abs")
#pragma pop_macro("max")
#pragma pop_macro("min")
