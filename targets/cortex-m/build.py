#!/usr/bin/python3
"""Compiles and links C++ sources with tinynet's bare-metal harness into a Cortex-M ELF, with the
flags of cpus.json and cortex-m-facts.md. Prints nothing on success. Python 3 standard library only.

  build.py --cpu cortex-m4 -I include -o app.elf main.cpp [more sources] [-DNAME=V] [-O3] [any g++ flag]
  build.py ... --size            build, then print text/data/bss (see --size below)
  build.py --size app.elf        only print the sizes of an existing ELF
  build.py --no-heap app.elf     only check an existing ELF for heap and exception symbols
  build.py --cpu cortex-m4 --print-flags    the compile and link flags, one line each

Then run it: targets/cortex-m/run.py app.elf (exit status = main's return value).

Arguments starting with '-' that build.py does not know go to arm-none-eabi-g++ unchanged, after
its own flags (so -O3 overrides the default -O2). Harness: startup.cpp and semihost.cpp (its newlib
system calls are linked only if the program uses stdio or malloc).
"""

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HARNESS_SOURCES = ["startup.cpp", "semihost.cpp"]

# For every CPU (cortex-m-facts.md): C++20, no exceptions/RTTI/thread-safe statics/atexit
# registration, one section per function and object so --gc-sections drops what is unused.
# -ffp-contract=off: g++ fuses a * b + c into one FMA at -O2 on FPUs that have it (even in ISO C++
# mode), which rounds once instead of twice: float layers would give other bytes than at -O0 or on
# the host (tests/conformance/test_determinism.py).
COMMON_FLAGS = ["-std=c++20", "-O2", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics",
                "-fno-use-cxa-atexit", "-ffp-contract=off", "-ffunction-sections", "-fdata-sections",
                "-Wall", "-Wextra"]
# The harness is the start-up code (no crt0), newlib-nano if anything from libc is needed.
LINK_FLAGS = ["-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections"]
# Symbols (defined or referenced) that must not be in an image built with --no-heap: the heap
# (malloc and friends, sbrk) and exception support (personality routine, unwinder personalities).
HEAP_SYMBOLS = {"malloc", "free", "calloc", "realloc", "memalign", "_malloc_r", "_free_r", "_calloc_r",
                "_realloc_r", "_sbrk", "_sbrk_r", "__gxx_personality_v0", "__aeabi_unwind_cpp_pr0",
                "__aeabi_unwind_cpp_pr1"}
# Prefixes: operator new/new[]/delete/delete[] in every overload (_Znwj, _ZnajRKSt9nothrow_t,
# _ZdlPvj...), the C++ exception and guard runtime (__cxa_throw, __cxa_begin_catch, ...), the
# unwinder (_Unwind_RaiseException, ...).
HEAP_PREFIXES = ("_Znw", "_Zna", "_Zdl", "_Zda", "__cxa_", "_Unwind_", "__gnu_unwind")


def load_cpus():
    with open(os.path.join(HERE, "cpus.json")) as f:
        return {k: v for k, v in json.load(f).items() if not k.startswith("_")}


def cpu_flags(cpu):
    """-mcpu/-mfpu/-mfloat-abi and the timer defines for cycles.hpp."""
    row = load_cpus()[cpu]
    timer = f"-DTINYNET_TIMER_{row['timer'].upper()}=1"   # as cmake/TinynetCortexM.cmake spells it
    return row["flags"] + [timer, f"-DTINYNET_TIMER_HZ={row['timer_hz']}"]


def compile_flags(cpu, extra=()):
    return cpu_flags(cpu) + COMMON_FLAGS + [f"-I{HERE}"] + list(extra)


def link_flags(cpu, stack_size=None):
    flags = LINK_FLAGS + [f"-L{HERE}", f"-T{os.path.join(HERE, load_cpus()[cpu]['linker_script'])}"]
    if stack_size is not None:
        flags.append(f"-Wl,--defsym,STACK_SIZE={stack_size}")
    return flags


def sizes(elf):
    """{'text', 'data', 'bss', 'stack', 'flash', 'ram'} in bytes: text, data and bss as
    arm-none-eabi-size counts them (Berkeley format), except that bss leaves out the .stack region,
    which is reported alone. flash = text + data; ram = data + bss (stack not included)."""
    berkeley = subprocess.run(["arm-none-eabi-size", elf], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(v) for v in berkeley.splitlines()[1].split()[:3])
    sysv = subprocess.run(["arm-none-eabi-size", "-A", elf], capture_output=True, text=True, check=True).stdout
    stack = sum(int(line.split()[1]) for line in sysv.splitlines() if line.startswith(".stack "))
    bss -= stack
    return {"text": text, "data": data, "bss": bss, "stack": stack, "flash": text + data, "ram": data + bss}


def heap_symbols(elf):
    """The symbols of HEAP_SYMBOLS or starting with HEAP_PREFIXES that the ELF (or object file)
    defines or references, sorted."""
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    names = {line.split()[-1] for line in out.splitlines() if line.split()}
    return sorted(n for n in names if n in HEAP_SYMBOLS or n.startswith(HEAP_PREFIXES))


def build(sources, output, cpu, include_dirs=(), extra_flags=(), stack_size=None, map_file=None):
    """Compiles and links; raises subprocess.CalledProcessError (the compiler printed why)."""
    command = (["arm-none-eabi-g++"] + compile_flags(cpu, [f"-I{d}" for d in include_dirs] + list(extra_flags)) +
               list(sources) + [os.path.join(HERE, s) for s in HARNESS_SOURCES] + link_flags(cpu, stack_size) +
               ([f"-Wl,-Map={map_file}"] if map_file else []) + ["-o", output])
    subprocess.run(command, check=True)
    return command


def main(argv=None):
    cpus = load_cpus()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--cpu", choices=sorted(cpus), help="the Cortex-M CPU (cpus.json)")
    parser.add_argument("-o", dest="output", help="the ELF to write")
    parser.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR")
    parser.add_argument("--stack-size", type=lambda v: int(v, 0), metavar="BYTES",
                        help="bytes of stack (default: the linker script's, 64 KB on mps2, 4 KB on microbit)")
    parser.add_argument("--map", metavar="FILE", help="also write a linker map")
    parser.add_argument("--no-heap", action="store_true",
                        help="fail if the image links malloc, free, operator new/delete or exception support")
    parser.add_argument("--size", action="store_true",
                        help="print 'text=N data=N bss=N stack=N flash=N ram=N' (bytes; bss without the "
                             "stack region; flash = text + data; ram = data + bss)")
    parser.add_argument("--print-flags", action="store_true", help="print the compile flags, then the link flags")
    parser.add_argument("-v", "--verbose", action="store_true", help="print the compiler command")
    parser.add_argument("sources", nargs="*")
    args, extra = parser.parse_known_args(argv)
    unknown = [a for a in extra if not a.startswith("-")]
    if unknown:
        parser.error(f"unexpected arguments: {' '.join(unknown)}")

    if args.print_flags:
        if not args.cpu:
            parser.error("--print-flags needs --cpu")
        print(" ".join(compile_flags(args.cpu, extra)))
        print(" ".join(link_flags(args.cpu, args.stack_size)))
        return 0
    if not args.output and args.cpu is None and len(args.sources) == 1 and (args.size or args.no_heap):
        elf = args.sources[0]  # build.py --size / --no-heap app.elf: inspect only
    else:
        if not args.cpu or not args.output or not args.sources:
            parser.error("building needs --cpu, -o and at least one source")
        try:
            command = build(args.sources, args.output, args.cpu, args.include_dirs, extra, args.stack_size, args.map)
        except FileNotFoundError:
            print("build.py: arm-none-eabi-g++ not found (Debian: gcc-arm-none-eabi, "
                  "libstdc++-arm-none-eabi-newlib, libnewlib-arm-none-eabi)", file=sys.stderr)
            return 1
        except subprocess.CalledProcessError as error:
            if args.verbose:
                print(" ".join(error.cmd), file=sys.stderr)
            return 1
        if args.verbose:
            print(" ".join(command), file=sys.stderr)
        elf = args.output
    if args.no_heap:
        found = heap_symbols(elf)
        if found:
            print(f"build.py: {elf} links {', '.join(found)} (--no-heap)", file=sys.stderr)
            return 1
    if args.size:
        print(" ".join(f"{k}={v}" for k, v in sizes(elf).items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
