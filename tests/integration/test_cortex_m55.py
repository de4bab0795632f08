"""The Cortex-M55 target (mps3-an547): QEMU runs Helium (MVE) code, and the harness counts
instructions there (targets/cortex-m/README.md, "Cortex-M55 and Helium"). The golden models run
through the Helium kernels in tests/conformance/test_determinism.py."""

import shutil
import subprocess

import pytest

from tinynet_py import cortex_m

pytestmark = pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                                reason="arm-none-eabi-g++ or qemu-system-arm not installed")

PROGRAM = r"""
#include <arm_mve.h>
#include <cstdint>
#include "cycles.hpp"
#include "semihost.hpp"

static std::int8_t a[64], b[64];
static volatile std::uint32_t seed = 12345;   // read at run time: the compiler cannot fold the sums

int main() {
  std::uint32_t s = seed;
  for (int i = 0; i < 64; ++i) {
    s = s * 1103515245u + 12345u;
    a[i] = static_cast<std::int8_t>(s >> 24);
    s = s * 1103515245u + 12345u;
    b[i] = static_cast<std::int8_t>(s >> 24);
  }
  a[0] = -128, b[0] = -128, a[1] = 127, b[1] = -128;   // the extreme products
  std::int32_t scalar = 0;
  for (int i = 0; i < 64; ++i) scalar += a[i] * b[i];
  std::int32_t vector = 0;
  for (int i = 0; i < 64; i += 16) vector = vmladavaq_s8(vector, vld1q_s8(a + i), vld1q_s8(b + i));
  std::uint32_t n = 100000;
  const auto t0 = cycles::start();
  asm volatile("1: subs %0, #1\n nop\n nop\n bne 1b" : "+r"(n));
  const auto t1 = cycles::stop();
  semihost::print("scalar ", scalar, " mve ", vector, " loop ", cycles::to_instructions(cycles::elapsed(t0, t1)), "\n");
  return scalar == vector ? 0 : 1;
}
"""


def test_helium_dot_product_and_instruction_count(tmp_path):
    source = tmp_path / "mve.cpp"
    source.write_text(PROGRAM)
    elf = str(tmp_path / "mve.elf")
    cortex_m.build([str(source)], elf, "cortex-m55")
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", "-m", "armv8.1-m.main", elf],
                                 capture_output=True, text=True, check=True).stdout
    assert "vmlava.s8" in disassembly and "vldrb" in disassembly     # really MVE code
    status, output = cortex_m.run(elf, "cortex-m55", timeout=60)
    assert status == 0, output
    fields = output.split()
    # The scalar sum, computed by the test on the host from the same generator, is the MVE sum too.
    s, a, b = 12345, [], []
    for _ in range(64):
        s = (s * 1103515245 + 12345) % 2**32
        a.append((s >> 24) - 256 * ((s >> 24) >= 128))
        s = (s * 1103515245 + 12345) % 2**32
        b.append((s >> 24) - 256 * ((s >> 24) >= 128))
    a[0], b[0], a[1], b[1] = -128, -128, 127, -128
    want = sum(x * y for x, y in zip(a, b))
    assert fields[fields.index("scalar") + 1] == fields[fields.index("mve") + 1] == str(want)
    # 100 000 passes of 4 instructions, plus the few the compiler puts between the timer reads.
    assert 400_000 < int(fields[fields.index("loop") + 1]) <= 400_010
