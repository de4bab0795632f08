"""The Cortex-M4 cycle estimate (targets/cortex-m/m4_cycles.py and its QEMU plugin insn_profile.c):
its timing rules against cycle counts derived by hand from Arm's Cortex-M4 Technical Reference
Manual for a hand-written assembly function, the instruction count of its plugin against the
timer's, and `tinynet bench --target cortex-m4` printing it."""

import re
import shutil
import subprocess

import pytest

from conftest import run_tinynet, shared_path
from tinynet_py import cortex_m

cycles = cortex_m.M4_CYCLES
needs_arm = pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")
                                    and (shutil.which("cc") or shutil.which("gcc"))),
                               reason="arm-none-eabi-g++, qemu-system-arm or a host C compiler not installed")

# tn_kernel(source, n, destination), n >= 1. Cycles of each instruction by the TRM (DDI 0439,
# "Instruction set summary" and its load/store notes; P = 2 for a taken branch):
KERNEL = r"""
#include "cycles.hpp"
#include "semihost.hpp"
#include <cstdint>

extern "C" void tn_kernel(const std::int32_t* source, std::uint32_t n, std::int32_t* destination);
asm(R"(
  .syntax unified
  .thumb
  .text
  .global tn_kernel
  .type tn_kernel, %function
  .p2align 2
  .thumb_func
tn_kernel:
  push {r4, r5, lr}        @ 1 + N = 4
  movs r3, #0              @ 1
1:
  ldmia r0!, {r4, r5}      @ 1 + N = 3
  ldr r12, [r0]            @ 2: after an LDM, no pipelining
  ldr r4, [r0, #4]         @ 1: pipelined after a single load that did not load its base
  str r4, [r2, r3]         @ 1: register offset (2), pipelined after the load
  add r3, r3, #4           @ 1
  str r5, [r2, r3]         @ 3: register offset (2) + 1, its address register written just before
  mla r5, r4, r5, r12      @ 1
  str r5, [r2, #0]         @ 1: immediate offset
  adds r3, #4              @ 1
  subs r1, #1              @ 1
  bne 1b                   @ 1 + P = 3 taken (n - 1 times), 1 not taken
  cmp r1, #0               @ 1
  beq 2f                   @ 1 + P = 3 (taken)
  nop                      @ never runs
2:
  pop {r4, r5, pc}         @ 1 + N + P = 6
  .size tn_kernel, . - tn_kernel
)");

static std::int32_t source[64] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
static std::int32_t destination[64];

int main() {
  const auto t0 = cycles::start();
  tn_kernel(source, TN_PASSES, destination);
  const auto t1 = cycles::stop();
  semihost::print("instructions: ", cycles::to_instructions(cycles::elapsed(t0, t1)), "\n");
  return 0;
}
"""


def kernel_cycles_by_hand(n):
    """Sum of the per-instruction figures in KERNEL's comments."""
    loop = 3 + 2 + 1 + 1 + 1 + 3 + 1 + 1 + 1 + 1      # the loop body without its branch: 15
    return (4 + 1) + n * loop + (n - 1) * 3 + 1 + (1 + 3) + 6


def kernel_symbol_range(elf):
    out = subprocess.run(["arm-none-eabi-nm", "-S", elf], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if fields[-1] == "tn_kernel":
            start = int(fields[0], 16) & ~1
            return start, start + int(fields[1], 16)
    raise AssertionError("tn_kernel not in the ELF")


@needs_arm
@pytest.mark.parametrize("n", [1, 12])
def test_estimate_matches_the_trm_by_hand(tmp_path, n):
    source = tmp_path / "kernel.cpp"
    source.write_text(KERNEL)
    elf = str(tmp_path / "kernel.elf")
    cortex_m.build([str(source)], elf, "cortex-m4", extra_flags=[f"-DTN_PASSES={n}"])
    result = cortex_m.estimate_m4_cycles(elf, cache_dir=str(tmp_path))
    assert result["exit_status"] == 0, result["output"]
    # The plugin counts the timer's instructions: the ones between its two reads.
    timer = int(result["output"].split("instructions:")[1].split()[0])
    assert result["window"] == result["instructions"] == timer
    start, end = kernel_symbol_range(elf)
    inside = {a: c for a, c in result["by_address"].items() if start <= a < end}
    assert sum(inside.values()) == kernel_cycles_by_hand(n)
    # 2 + 11 per pass + 3 instructions; the NOP never runs.
    executed = cycles.disassemble(elf)
    profile = cortex_m.M4_CYCLES.profile(elf, cache_dir=str(tmp_path))[3]
    assert sum(profile[a][0] for a in inside) == 2 + 11 * n + 3
    assert not [a for a in inside if executed[a].mnemonic == "nop"]


def instruction(address, size, mnemonic, operands):
    return cycles.Instruction(address, size, mnemonic, operands)


def test_load_pipelining_needs_an_independent_address():
    """LDR r1,[r0]; LDR r2,[r1]: the second load's base is the first one's result, so it does not
    pipeline (2 + 2), whereas LDR r1,[r0]; LDR r2,[r3] does (2 + 1). Entered by a jump, a load
    has no load before it to pipeline with."""
    dependent = {0: instruction(0, 2, "ldr", "r1, [r0, #0]"), 2: instruction(2, 2, "ldr", "r2, [r1, #0]")}
    independent = {0: instruction(0, 2, "ldr", "r1, [r0, #0]"), 2: instruction(2, 2, "ldr.w", "r2, [r3], #4")}
    once = {0: (1, 0, 0), 2: (1, 0, 0)}
    assert cycles.estimate(dependent, once)["cycles"] == 4
    assert cycles.estimate(independent, once)["cycles"] == 3
    assert cycles.estimate(independent, {0: (1, 0, 0), 2: (3, 0, 2)})["cycles"] == 2 + 1 + 2 * 2


def test_mnemonic_classes():
    expect = {"bls.n": "branch", "bne.w": "branch", "bl": "branch", "cbnz": "branch", "lsls": "alu",
              "teq": "alu", "movs": "alu", "ldrsb.w": "load", "ldrbeq": "load", "ldrd": "load_store_double",
              "strh.w": "store", "pop": "load_store_multiple", "ldmia.w": "load_store_multiple",
              "smlad": "multiply", "smlabb": "multiply", "smull": "multiply", "mla": "multiply",
              "sxtb16": "simd", "sxtab16": "simd", "ssat": "simd", "qadd": "simd", "sdiv": "divide",
              "ite": "it", "vmla.f32": "fp_mac", "vldr": "fp_load_store", "vpush": "fp_multiple",
              "vdiv.f32": "fp_divide", "vcvt.s32.f32": "fp", "tbb": "table_branch"}
    assert {m: cycles.mnemonic_class(m) for m in expect} == expect


def test_register_lists_and_taken_branches():
    """PUSH {r4-r7, lr}: 1 + 5; POP {r4-r7, pc}: 1 + 5 + P; a conditional branch: 1, + P each
    time it is taken."""
    code = {0: instruction(0, 2, "push", "{r4, r5, r6, r7, lr}"), 2: instruction(2, 2, "pop", "{r4-r7, pc}"),
            4: instruction(4, 2, "bne.n", "0 <f>")}
    result = cycles.estimate(code, {0: (1, 0, 0), 2: (1, 1, 0), 4: (10, 9, 0)})
    assert result["by_address"] == {0: 6, 2: 6 + cycles.P, 4: 10 + 9 * cycles.P}
    assert result["taken_branches"] == 10


@needs_arm
def test_bench_prints_the_cycles_estimate():
    model = shared_path("models", "tflm-examples", "hello_world_int8.tflite")
    result = run_tinynet("bench", model, "--target", "cortex-m4")
    assert result.returncode == 0, result.stderr
    figures = {m.group(1): int(m.group(2).replace(",", ""))
               for m in re.finditer(r"^(\w+) +([0-9,]+)$", result.stdout, re.MULTILINE)}
    # Every instruction takes at least a cycle, a load two unless pipelined, a taken branch 1 + P.
    assert figures["cycles_estimate"] > figures["instructions"] > 0
    classes = dict((k, int(v.replace(",", ""))) for k, v in
                   re.findall(r"(\w+) ([0-9,]+)", result.stdout.split("by instruction class")[1].splitlines()[1]))
    executed = sum(v for k, v in classes.items() if k not in ("registers_moved_by_multiple", "taken_branches",
                                                              "pipelined_loads_stores", "address_stalls"))
    assert executed == figures["instructions"]
    assert classes["multiply"] >= 288 // 2     # hello_world's 288 MACs, two per SMLAD at most
