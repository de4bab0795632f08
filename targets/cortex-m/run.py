#!/usr/bin/python3
"""Runs a bare-metal Cortex-M ELF (built with this harness) under qemu-system-arm and exits with
the program's exit status. Builds nothing; Python 3 standard library only.

  run.py [--cpu CPU | --machine MACHINE] [--timeout S] [--cwd DIR] [--expect-exit N] ELF [-- QEMU ARGS]

The program's semihosting output streams to stdout as it runs. The CPU, if not given, comes from
the ELF's Arm build attributes (Tag_CPU_arch, Tag_FP_arch), and the machine from cpus.json.
QEMU runs with `-icount shift=6,align=off,sleep=off`, as /work/shared/anchors.md measured TFLM:
every instruction advances virtual time by 64 ns, so cycles.hpp's timer counts instructions
deterministically (sleep=off is required, or runs differ: cortex-m-facts.md).

Exit status: the program's (main's return value, 100 + n for exception n: see startup.cpp);
124 if it did not finish within the timeout; 128 + n if QEMU died of signal n (QEMU 7.2 aborts
when the CPU locks up, e.g. on a fault while stacking a fault: typically a stack overflow).
With --expect-exit N: 0 if the program's status was N, else 1.
"""

import argparse
import json
import os
import signal
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ICOUNT_SHIFT = 6  # cycles.hpp's TINYNET_ICOUNT_SHIFT must match


def load_cpus():
    with open(os.path.join(HERE, "cpus.json")) as f:
        return {k: v for k, v in json.load(f).items() if not k.startswith("_")}


def _uleb(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def elf_attributes(path):
    """The 'aeabi' file attributes of an ELF32 little-endian file: {tag: int or str}."""
    with open(path, "rb") as f:
        elf = f.read()
    if elf[:4] != b"\x7fELF" or elf[4] != 1 or elf[5] != 1:
        raise ValueError(f"{path}: not a 32-bit little-endian ELF file")
    shoff, = struct.unpack_from("<I", elf, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", elf, 0x2E)
    data = None
    for i in range(shnum):
        _, sh_type, _, _, offset, size = struct.unpack_from("<6I", elf, shoff + i * shentsize)
        if sh_type == 0x70000003:  # SHT_ARM_ATTRIBUTES
            data = elf[offset:offset + size]
    attributes = {}
    if not data or data[0] != ord("A"):
        return attributes
    pos = 1
    while pos < len(data):  # subsections: length, vendor name, then tagged sub-subsections
        length, = struct.unpack_from("<I", data, pos)
        end = pos + length
        name_end = data.index(b"\0", pos + 4)
        vendor = data[pos + 4:name_end].decode()
        sub = name_end + 1
        while vendor == "aeabi" and sub < end:
            kind, sub_length = data[sub], struct.unpack_from("<I", data, sub + 1)[0]
            p, sub_end = sub + 5, sub + sub_length
            while kind == 1 and p < sub_end:  # 1 = Tag_File
                tag, p = _uleb(data, p)
                if tag == 32:  # Tag_compatibility: a number, then a string
                    _, p = _uleb(data, p)
                if tag in (4, 5, 32, 67) or (tag > 32 and tag % 2 == 1):  # string-valued tags
                    string_end = data.index(b"\0", p)
                    attributes[tag], p = data[p:string_end].decode(errors="replace"), string_end + 1
                else:
                    attributes[tag], p = _uleb(data, p)
            sub = sub_end
        pos = end
    return attributes


def cpu_of_elf(path):
    """The cpus.json key whose code the ELF holds (Arm ELF ABI addenda, 'Build attributes')."""
    attributes = elf_attributes(path)
    arch, fp = attributes.get(6), attributes.get(10, 0)  # Tag_CPU_arch, Tag_FP_arch
    if arch in (11, 12):  # v6-M, v6S-M
        return "cortex-m0plus"
    if arch == 10 and attributes.get(7) == ord("M"):  # v7, Tag_CPU_arch_profile 'M'
        return "cortex-m3"
    if arch == 13:  # v7E-M: FPv5 (7, 8) means M7, otherwise M4
        return "cortex-m7" if fp in (7, 8) else "cortex-m4"
    if arch in (16, 17):  # v8-M baseline, mainline
        return "cortex-m33"
    if arch == 21:  # v8.1-M mainline
        return "cortex-m55"
    raise ValueError(f"{path}: cannot tell the Cortex-M CPU from its build attributes (Tag_CPU_arch={arch});"
                     " pass --cpu or --machine")


def qemu_command(elf, machine, qemu="qemu-system-arm", extra=()):
    return [qemu, "-M", machine, "-display", "none", "-monitor", "none", "-serial", "none",
            # Semihosting console on a chardev, so the output goes to stdout (not stderr).
            "-semihosting-config", "enable=on,target=native,chardev=tinynet_out",
            "-chardev", "stdio,id=tinynet_out",
            "-icount", f"shift={ICOUNT_SHIFT},align=off,sleep=off",
            "-kernel", os.path.abspath(elf), *extra]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    cpus = load_cpus()
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--cpu", choices=sorted(cpus), help="the CPU the ELF was built for (default: from the ELF)")
    which.add_argument("--machine", help="a qemu-system-arm machine, e.g. mps2-an386")
    parser.add_argument("--timeout", type=float, default=600, help="seconds of host time (default 600)")
    parser.add_argument("--cwd", help="QEMU's working directory (semihosting opens files relative to it)")
    parser.add_argument("--expect-exit", type=int, metavar="N", help="succeed only if the program exits with N")
    parser.add_argument("--qemu", default="qemu-system-arm", help="the QEMU binary")
    parser.add_argument("--print-command", action="store_true", help="print the QEMU command on stderr first")
    parser.add_argument("elf")
    parser.add_argument("qemu_args", nargs="*", help="after --: more QEMU arguments")
    args = parser.parse_args(argv)

    try:
        machine = args.machine or cpus[args.cpu or cpu_of_elf(args.elf)]["machine"]
    except (OSError, ValueError) as error:
        print(f"run.py: {error}", file=sys.stderr)
        return 2
    command = qemu_command(args.elf, machine, args.qemu, args.qemu_args)
    if args.print_command:
        print(" ".join(command), file=sys.stderr)
    sys.stdout.flush()
    try:
        # stdin from /dev/null: QEMU's stdio chardev would otherwise put a terminal in raw mode.
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, cwd=args.cwd)
    except OSError as error:
        print(f"run.py: cannot start {args.qemu}: {error}", file=sys.stderr)
        return 127
    try:
        status = process.wait(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        print(f"run.py: {os.path.basename(args.elf)} did not finish within {args.timeout:g} s on {machine}",
              file=sys.stderr)
        return 124
    except KeyboardInterrupt:
        process.kill()
        process.wait()
        return 130
    if status < 0:
        name = signal.Signals(-status).name if -status in signal.valid_signals() else str(-status)
        print(f"run.py: QEMU died of {name} (a CPU lockup aborts QEMU 7.2: a fault while stacking a fault,"
              " e.g. a stack overflow)", file=sys.stderr)
        status = 128 - status
    if args.expect_exit is not None:
        if status != args.expect_exit:
            print(f"run.py: exit status {status}, expected {args.expect_exit}", file=sys.stderr)
            return 1
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
