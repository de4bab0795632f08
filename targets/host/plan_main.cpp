// tinynet plan printer: prints the arena plan the compiler computed for a generated network, so
// that `tinynet report` draws the plan the device will use rather than a second estimate of it
// (scripts/tinynet_py/report.py, compiled_arena_plan()).
//
//   g++ -std=c++20 -I include -I <folder of the header and of plan_names.hpp>
//       -DTINYNET_MODEL_HEADER='"model.hpp"' -DTINYNET_MODEL_NAMESPACE=kws
//       targets/host/plan_main.cpp -o plan && ./plan
//
// plan_names.hpp (written by the generator) lists TINYNET_PLAN_TENSOR(t<k>, k) for every activation
// tensor t<k> of the header, k being the tensor's index in the model file. Output, one record a line:
//   arena_bytes N
//   op_count N
//   tensor INDEX BYTES FIRST LAST SHARES_WITH OFFSET      (every tensor, in net::tensor_index order)
//   name MODEL_INDEX INDEX                               (which model tensor each one is)
// Steps: graph inputs are written at step 0, op k at step k + 1; graph outputs live to op_count + 1.
#include <cstddef>
#include <cstdio>

#include "../runner_model.hpp"

int main() {
  std::printf("arena_bytes %zu\n", net::arena_bytes);
  std::printf("op_count %zu\n", net::op_count);
  const auto& life = net::arena_lifetimes;
  for (std::size_t i = 0; i < net::tensor_count; ++i)
    std::printf("tensor %zu %zu %d %d %d %zu\n", i, life.bytes[i], life.first[i], life.last[i],
                life.shares_with[i], net::arena_plan.offset[i]);
#define TINYNET_PLAN_TENSOR(type, model_index) \
  std::printf("name %d %zu\n", model_index, net::tensor_index<TINYNET_MODEL_NAMESPACE::type>);
#include "plan_names.hpp"
#undef TINYNET_PLAN_TENSOR
  return 0;
}
