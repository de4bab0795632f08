// The generated network a runner in targets/ is built for (targets/host/run_main.cpp,
// targets/host/bench_main.cpp, targets/cortex-m/run_main.cpp), named by two macros on the compiler's
// command line:
//   -DTINYNET_MODEL_HEADER='"model.hpp"'   the header `tinynet convert` wrote (found on the -I path)
//   -DTINYNET_MODEL_NAMESPACE=kws          its namespace, which holds the type `network`
// The runners then read and write every input and output of `net` by iterating
// net::input_t<I> and net::output_t<I> at compile time.
#pragma once

#if !defined(TINYNET_MODEL_HEADER) || !defined(TINYNET_MODEL_NAMESPACE)
#error "tinynet: define TINYNET_MODEL_HEADER (e.g. -DTINYNET_MODEL_HEADER='\"model.hpp\"') and TINYNET_MODEL_NAMESPACE"
#endif

#include TINYNET_MODEL_HEADER

using net = TINYNET_MODEL_NAMESPACE::network;
