#!/usr/bin/python3
"""A Cortex-M4 cycle estimate for a measured stretch of code: how often every instruction ran
(QEMU with the insn_profile.c plugin, between the last two reads of the timer that cycles.hpp
reads) weighted by the instruction timings of Arm's Cortex-M4 Technical Reference Manual
(DDI 0439, "Instruction set summary" and its load/store pairing notes). An estimate: QEMU runs
no pipeline; the rules below are the TRM's, applied to the executed instruction stream.
Python 3 standard library only (plus a host C compiler for the plugin and arm-none-eabi-objdump).

  m4_cycles.py app.elf [--cwd DIR] [--json]     run app.elf on mps2-an386 and print the estimate

The model (docs/performance.md, "Cycles"): zero-wait-state memory, no cache, no interrupts, no
bus contention;
  - data processing, multiplies and MACs (MUL, MLA, SMLAL, SMLAD, ...), DSP/SIMD, saturation,
    extends, IT, NOP: 1 cycle; SDIV/UDIV 2..12 (early termination; counted as 7)
  - LDR/LDRB/LDRH/LDRSB/LDRSH (single loads): 2 cycles, 1 when it directly follows a single load
    whose loaded register is not one of its address registers (pipelined neighbours)
  - STR/STRB/STRH with an immediate offset: 1 (the write buffer); with a register offset: 2, or 1
    when pipelined after a single load as above
  - LDRD/STRD: 1 + 2; LDM/STM/PUSH/POP: 1 + N (N registers in the list)
  - any load or store whose address register was written by the instruction just before it (a
    data-processing one: there is no forwarding path) 1 more
  - every taken branch or other write to the PC (B, BL, BX, CBZ, POP {pc}, LDR pc, ...): P more,
    the pipeline refill, 1 to 3 cycles in the TRM: counted as 2 (TBB/TBH: 2 + P)
  - FPU: VLDR/VSTR 2, VLDM/VSTM/VPUSH/VPOP 1 + N, VMLA/VFMA and relatives 3, VDIV/VSQRT 14,
    other VFP 1
Not modelled: wait states, unaligned 32-bit instruction fetches, IT-block instructions that fail
their condition (counted as if executed), divide operand values.
"""

import argparse
import collections
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGIN_SOURCE = os.path.join(HERE, "insn_profile.c")
TIMER_VALUE = 0x40002004   # CMSDK dual timer 1 VALUE on mps2-an386: cycles.hpp reads it around the measured code
MACHINE = "mps2-an386"
P = 2                      # pipeline refill after a taken branch: 1..3 in the TRM
DIVIDE = 7                 # SDIV/UDIV: 2..12 in the TRM, by operand values

CONDITIONS = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al"}
REGISTER_NAMES = {f"r{i}": i for i in range(16)} | {"sb": 9, "sl": 10, "fp": 11, "ip": 12, "sp": 13, "lr": 14,
                                                    "pc": 15}
PC = 15

# Instruction classes: (name, regular expression of the mnemonic without condition and qualifiers).
CLASSES = [
    ("load", r"ldr(b|h|sb|sh|ex|exb|exh|t|bt|ht|sbt|sht)?"),
    ("store", r"str(b|h|ex|exb|exh|t|bt|ht)?"),
    ("load_store_double", r"(ldr|str)d"),
    ("load_store_multiple", r"(ldm|stm)(ia|db|fd|ea)?|push|pop"),
    ("branch", r"b|bl|blx|bx|cbn?z"),
    ("table_branch", r"tb[bh]"),
    ("multiply", r"mul|mla|mls|[su]mull|[su]mlal|umaal|smul(bb|bt|tb|tt|wb|wt)|smla(bb|bt|tb|tt|wb|wt)"
                 r"|smlal(bb|bt|tb|tt|d|dx)|smlsl(d|dx)|smmulr?|smmlar?|smmlsr?|smuadx?|smusdx?|smladx?|smlsdx?"),
    ("divide", r"[su]div"),
    ("simd", r"[su]xt(a)?b16|[su]xtab16|(s|u|q|sh|uq|uh)(add|sub)(16|8)|(s|u|q|sh|uq|uh)(asx|sax)"
             r"|[su]sat(16)?|qd?(add|sub)|sel|pkh(bt|tb)|usada?8"),
    ("it", r"it[te]{0,3}"),
    ("fp_load_store", r"vldr|vstr"),
    ("fp_multiple", r"vldm(ia|db)?|vstm(ia|db)?|vpush|vpop"),
    ("fp_mac", r"vn?ml[as]|vf?n?m[as]|vfn?m[as]"),
    ("fp_divide", r"vdiv|vsqrt"),
    ("fp", r"v[a-z]+"),
]
_CLASS_RE = [(name, re.compile(f"^(?:{pattern})s?$")) for name, pattern in CLASSES]
MEMORY = {"load", "store", "load_store_double", "load_store_multiple", "table_branch", "fp_load_store",
          "fp_multiple"}
# Classes with no register result that could feed an address (branches, compares are "alu" but
# have no destination: see _destinations).
NOT_DATA_PROCESSING = MEMORY | {"branch", "it"}


Instruction = collections.namedtuple("Instruction", "address size mnemonic operands")


def _classify_base(base):
    for name, pattern in _CLASS_RE:
        if pattern.match(base):
            return name
    return None


def mnemonic_class(mnemonic):
    """The class of an objdump mnemonic ('ldr.w', 'bne.n', 'vmul.f32', 'smlad', 'addeq')."""
    base = mnemonic.lower().split(".")[0]
    found = _classify_base(base)
    if found is None and base[-2:] in CONDITIONS and len(base) > 2:
        found = _classify_base(base[:-2])
    return found or "alu"


def _registers(text):
    """Core registers named in an operand text, expanding ranges ({r4-r7})."""
    found = []
    for m in re.finditer(r"\b(r1[0-5]|r[0-9]|sb|sl|fp|ip|sp|lr|pc)\b(?:\s*-\s*(r1[0-5]|r[0-9]|sb|sl|fp|ip|lr|pc)\b)?", text):
        first = REGISTER_NAMES[m.group(1)]
        last = REGISTER_NAMES[m.group(2)] if m.group(2) else first
        found.extend(range(first, last + 1))
    return found


def _fp_register_count(text):
    """Single-precision registers in a VFP register list ({s16-s19}: 4, {d8-d9}: 4)."""
    count = 0
    for m in re.finditer(r"\b([sd])(\d+)\b(?:\s*-\s*[sd](\d+))?", text):
        n = int(m.group(3) or m.group(2)) - int(m.group(2)) + 1
        count += n * (2 if m.group(1) == "d" else 1)
    return count


def _operands(instruction):
    return instruction.operands.split(";")[0].split("@")[0].strip().lower()


def address_registers(instruction):
    """The registers a load or store computes its address from (those inside [...]; SP for
    PUSH/POP; the base of LDM/STM)."""
    kind = mnemonic_class(instruction.mnemonic)
    ops = _operands(instruction)
    base = instruction.mnemonic.lower().split(".")[0]
    if kind in ("load_store_multiple", "fp_multiple"):
        if base.startswith(("push", "pop", "vpush", "vpop")):
            return {13}
        return set(_registers(ops.split(",")[0]))
    m = re.search(r"\[([^\]]*)\]", ops)
    return set(_registers(m.group(1))) if m else set()


def register_offset(instruction):
    """True for [Rn, Rm] / [Rn, Rm, lsl #k] addressing."""
    m = re.search(r"\[([^\]]*)\]", _operands(instruction))
    return bool(m) and len(_registers(m.group(1))) > 1


def destinations(instruction):
    """The core registers an instruction writes (as far as the address-dependency rule needs)."""
    kind = mnemonic_class(instruction.mnemonic)
    base = instruction.mnemonic.lower().split(".")[0]
    ops = _operands(instruction)
    if kind in ("branch", "it", "table_branch", "store", "fp_load_store", "fp_multiple", "fp_divide"):
        return set()
    if kind == "load_store_multiple":
        if base.startswith("pop") or base.startswith("ldm"):
            return set(_registers(ops[ops.find("{"):] if "{" in ops else ""))
        return set()
    if re.match(r"^(cmp|cmn|tst|teq)", base):
        return set()
    head = ops.split("[")[0] if kind in ("load", "load_store_double") else ops
    regs = _registers(head)
    if not regs:
        return set()
    if kind == "load_store_double" or re.match(r"^([su]mull|[su]mlal|umaal|smlal|smlsl)", base):
        return set(regs[:2])
    return {regs[0]}


def single_load(kind, instruction):
    return kind == "load" and PC not in destinations(instruction)


def disassemble(elf, objdump="arm-none-eabi-objdump"):
    """{address: Instruction} of every instruction in the ELF's executable sections."""
    proc = subprocess.run([objdump, "-d", elf], capture_output=True, text=True, check=True)
    instructions = {}
    line_re = re.compile(r"^\s*([0-9a-f]+):\s+([0-9a-f]{4})(?: ([0-9a-f]{4}))?\s+(\S+)\s*(.*)$")
    for line in proc.stdout.splitlines():
        m = line_re.match(line)
        if not m or m.group(4).startswith("."):
            continue
        address = int(m.group(1), 16)
        instructions[address] = Instruction(address, 4 if m.group(3) else 2, m.group(4), m.group(5))
    return instructions


def base_cycles(kind, instruction):
    """Cycles of one execution before the neighbour rules and the branch refill (TRM table)."""
    ops = _operands(instruction)
    if kind == "load":
        return 2
    if kind == "store":
        return 2 if register_offset(instruction) else 1
    if kind == "load_store_double":
        return 3
    if kind == "load_store_multiple":
        return 1 + len(_registers(ops[ops.find("{"):]))
    if kind == "table_branch":
        return 2
    if kind == "divide":
        return DIVIDE
    if kind == "fp_load_store":
        return 2
    if kind == "fp_multiple":
        return 1 + _fp_register_count(ops[ops.find("{"):])
    if kind == "fp_mac":
        return 3
    if kind == "fp_divide":
        return 14
    return 1


def estimate(instructions, counts):
    """The cycle estimate of a profile. instructions: {address: Instruction} (disassemble());
    counts: {address: (executions, taken exits, jumped-in entries)}. Returns a dict: cycles,
    instructions, per-class executions ('classes'), the neighbour-rule effects
    ('pipelined_loads_stores', 'address_stalls', 'taken_branches') and per-address cycles
    ('by_address')."""
    classes = collections.Counter()
    by_address = {}
    pipelined = stalls = taken_total = total_instructions = 0
    ordered = sorted(instructions)
    previous = {a: b for b, a in zip(ordered, ordered[1:]) if b + instructions[b].size == a}
    for address, (count, taken, entered) in counts.items():
        instruction = instructions.get(address)
        if instruction is None:
            raise ValueError(f"no instruction at {address:#x} in the disassembly")
        kind = mnemonic_class(instruction.mnemonic)
        cycles = base_cycles(kind, instruction) * count + P * taken
        classes[kind] += count
        if kind == "load_store_multiple":
            classes["registers_moved_by_multiple"] += count * (base_cycles(kind, instruction) - 1)
        taken_total += taken
        total_instructions += count
        before = instructions.get(previous.get(address))
        sequential = count - entered   # executions that followed the instruction before in memory
        if before is not None and sequential > 0 and kind in MEMORY:
            before_kind = mnemonic_class(before.mnemonic)
            used = address_registers(instruction)
            if (single_load(before_kind, before) and (kind == "load" or (kind == "store" and register_offset(instruction)))
                    and not destinations(before) & used):
                cycles -= sequential
                pipelined += sequential
            elif before_kind not in NOT_DATA_PROCESSING and destinations(before) & used:
                cycles += sequential
                stalls += sequential
        by_address[address] = cycles
    return {"cycles": sum(by_address.values()), "instructions": total_instructions, "classes": dict(classes),
            "pipelined_loads_stores": pipelined, "address_stalls": stalls, "taken_branches": taken_total,
            "by_address": by_address}


# ---- running a program under QEMU with the plugin ----------------------------------------------

def plugin_path(cache_dir=None, cc=None):
    """insn_profile.so, compiled with the host C compiler once per source version."""
    with open(PLUGIN_SOURCE, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    cache_dir = cache_dir or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                                          "tinynet")
    path = os.path.join(cache_dir, f"insn_profile-{digest}.so")
    if not os.path.exists(path):
        cc = cc or os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc:
            raise RuntimeError("no host C compiler (cc) to build the QEMU plugin insn_profile.c")
        os.makedirs(cache_dir, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"   # a name of this process: others may build it at once
        proc = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", tmp, PLUGIN_SOURCE],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"building insn_profile.c failed: {proc.stderr.strip()[-2000:]}")
        os.replace(tmp, path)
    return path


def profile(elf, cwd=None, cache_dir=None, timeout=1200, qemu="qemu-system-arm"):
    """Runs the ELF on mps2-an386 with the plugin; returns (exit status, program output, window
    instruction count, {address: (count, taken, entered)})."""
    spec = importlib.util.spec_from_file_location("tinynet_cortex_m_run", os.path.join(HERE, "run.py"))
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    plugin = plugin_path(cache_dir)
    with tempfile.TemporaryDirectory(prefix="tinynet-m4-cycles-") as work:
        out = os.path.join(work, "profile.txt")
        command = run.qemu_command(elf, MACHINE, qemu, ["-plugin", f"{plugin},marker={TIMER_VALUE:#x},out={out}"])
        proc = subprocess.run(command, capture_output=True, text=True, cwd=cwd or work, timeout=timeout,
                              stdin=subprocess.DEVNULL)
        if not os.path.exists(out):
            raise RuntimeError(f"QEMU wrote no profile (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
        counts, window = {}, 0
        with open(out) as f:
            for line in f:
                fields = line.split()
                if fields[0] == "window":
                    window = int(fields[1])
                else:
                    counts[int(fields[0], 16)] = tuple(int(v) for v in fields[1:4])
    return proc.returncode, proc.stdout + proc.stderr, window, counts


def estimate_elf(elf, cwd=None, cache_dir=None):
    """profile() + estimate(): the estimate dict plus 'window' (instructions the plugin counted)
    and 'exit_status'."""
    status, output, window, counts = profile(elf, cwd, cache_dir)
    if window == 0:
        detail = f"it exited with {status}: {output.strip()[-300:]}" if status != 0 else "nothing to estimate"
        raise RuntimeError(f"the program read the timer fewer than twice ({detail})")
    result = estimate(disassemble(elf), counts)
    result.update(window=window, exit_status=status, output=output)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("elf")
    parser.add_argument("--cwd", help="QEMU's working directory (semihosting files)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = estimate_elf(args.elf, args.cwd)
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as error:
        print(f"m4_cycles.py: {error}", file=sys.stderr)
        return 1
    del result["by_address"], result["output"]
    if args.json:
        print(json.dumps(result))
    else:
        print(f"cycles estimate: {result['cycles']:,} for {result['instructions']:,} instructions "
              f"({result['cycles'] / max(result['instructions'], 1):.2f} per instruction)")
        for key in ("taken_branches", "pipelined_loads_stores", "address_stalls"):
            print(f"  {key}: {result[key]:,}")
        for kind, n in sorted(result["classes"].items(), key=lambda kv: -kv[1]):
            print(f"  {kind}: {n:,}")
    return 0 if result["exit_status"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
