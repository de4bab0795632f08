// memory_regions: one network's arena over two RAMs, the hottest tensors in the small fast one.
//
// MLPerf Tiny's kws_ref_model needs an 8,496-byte arena. Here only 8 KB of fast internal SRAM are
// given to it; the rest goes to slow external RAM (on QEMU's mps2-an500 Cortex-M7 board: the
// 16 MB PSRAM at 0x60000000, where the linker puts the section .tinynet_external). The compiler
// ranks the tensors by bytes accessed per byte (tinynet::RegionPlan) and puts the hottest in the
// fast region. The program runs the network over the two regions and in one ordinary arena, checks
// that both give the same bytes, and prints where the bytes and the accesses went.
//
// Host:   cmake -S examples -B build/examples && cmake --build build/examples --target memory_regions
// Device: targets/cortex-m/build.py --cpu cortex-m7 -I include -I targets/cortex-m -I <folder of kws_model.hpp>
//             -o regions.elf examples/memory_regions/main.cpp
//             -Wl,--section-start=.tinynet_external=0x60000000
//         targets/cortex-m/run.py regions.elf
//
// QEMU runs every memory at the same speed (it models no wait states), so the instruction counts
// printed on the device are the same for both placements; the access bytes per region are what a
// board with a slow external RAM pays for. Exit status 1 if the two runs differ.
#include <array>
#include <cstddef>
#include <cstdint>

#include <tinynet/tinynet.hpp>

#include "kws_model.hpp"

#if defined(__arm__)
#include "cycles.hpp"
#include "semihost.hpp"
#define EXTERNAL_RAM __attribute__((section(".tinynet_external")))
static void print(const char* text) { semihost::write(text); }
#else
#include <cstdio>
#define EXTERNAL_RAM
static void print(const char* text) { std::fputs(text, stdout); }
#endif

static void print_number(std::uint64_t value) {
  char text[24];
  std::size_t n = 0;
  do {
    text[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  char reversed[24];
  for (std::size_t i = 0; i < n; ++i) reversed[i] = text[n - 1 - i];
  reversed[n] = '\0';
  print(reversed);
}

using net = kws::network;
using plan = tinynet::RegionPlan<net, tinynet::Region<8 * 1024>, tinynet::Region<1024 * 1024>>;
static_assert(plan::bytes<0> <= 8 * 1024);

alignas(16) static std::byte internal_sram[plan::bytes<0>];
alignas(16) EXTERNAL_RAM static std::byte external_ram[plan::bytes<1>];
static tinynet::InstanceInRegions<net, plan> split{{internal_sram, external_ram}};
static tinynet::Instance<net> whole;  // for comparison: one arena in internal RAM

// A deterministic input: 490 int8 MFCC-like values.
static constexpr auto features = [] {
  std::array<std::int8_t, 490> v{};
  std::uint32_t state = 12345;
  for (auto& x : v) {
    state = state * 1664525u + 1013904223u;
    x = static_cast<std::int8_t>(static_cast<int>((state >> 24) % 120) - 60);
  }
  return v;
}();

template <class Instance>
static std::uint64_t run(Instance& instance) {
  for (std::size_t i = 0; i < features.size(); ++i) instance.input()[i] = features[i];
#if defined(__arm__)
  cycles::start();
  const std::uint32_t before = cycles::now();
  instance.invoke();
  return cycles::instructions(before, cycles::now());
#else
  instance.invoke();
  return 0;
#endif
}

#if defined(__arm__)
extern "C" int app_main() {
#else
int main() {
#endif
  const std::uint64_t split_instructions = run(split);
  const std::uint64_t whole_instructions = run(whole);
  bool same = true;
  for (std::size_t i = 0; i < 12; ++i) same = same && split.output()[i] == whole.output()[i];

  print("kws_ref_model: arena ");
  print_number(net::arena_bytes);
  print(" bytes in one region, or\n  fast internal RAM: ");
  print_number(plan::bytes<0>);
  print(" bytes, ");
  print_number(plan::access_bytes<0>);
  print(" bytes accessed per inference\n  external RAM:      ");
  print_number(plan::bytes<1>);
  print(" bytes, ");
  print_number(plan::access_bytes<1>);
  print(" bytes accessed per inference\n");
  print("  input tensor in region ");
  print_number(plan::region_of<net::input_t<0>>);
  print("\n");
  if (split_instructions != 0) {
    print("  instructions: ");
    print_number(split_instructions);
    print(" over two regions, ");
    print_number(whole_instructions);
    print(" in one arena\n");
  }
  print(same ? "outputs: the same bytes in both layouts\n" : "outputs: DIFFER\n");
  return same ? 0 : 1;
}
