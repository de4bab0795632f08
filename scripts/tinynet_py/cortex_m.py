"""Building bare-metal Cortex-M programs with arm-none-eabi-g++ and running them under QEMU.

The harness (vector table, start-up, semihosting, timer) is targets/cortex-m; flags and machines
follow ../shared/cortex-m-facts.md, and instruction counting follows ../shared/anchors.md
(-icount shift=6,align=off,sleep=off; 1.6 timer ticks per instruction).
"""

import hashlib
import importlib.util
import os
import shutil
import subprocess

from .errors import TinynetError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HARNESS = os.path.join(REPO, "targets", "cortex-m")


def _load_harness_tool(name):
    """targets/cortex-m/<name>.py as a module. build.py's cpus.json table and flags are the one
    source of truth for every CPU (the harness's own tools and the CMake files read the same
    table); run.py owns the QEMU command line."""
    spec = importlib.util.spec_from_file_location(f"tinynet_cortex_m_{name}", os.path.join(HARNESS, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_HARNESS_BUILD = _load_harness_tool("build")
_HARNESS_RUN = _load_harness_tool("run")
M4_CYCLES = _load_harness_tool("m4_cycles")   # the Cortex-M4 cycle estimate (QEMU plugin + TRM timings)
CPUS = _HARNESS_BUILD.load_cpus()             # cpu -> {flags, machine, linker_script, timer, timer_hz}
COMMON_FLAGS = _HARNESS_BUILD.COMMON_FLAGS + ["-Wpedantic", "-Werror"]
LINK_FLAGS = _HARNESS_BUILD.LINK_FLAGS


def available(cpu="cortex-m4"):
    """None when the toolchain and QEMU are there, else a sentence saying what is missing."""
    if cpu not in CPUS:
        return f"{cpu}: not a CPU tinynet's harness knows (targets/cortex-m/cpus.json: {', '.join(CPUS)})"
    for tool in ("arm-none-eabi-g++", "qemu-system-arm"):
        if shutil.which(tool) is None:
            return f"{tool} not found (run scripts/setup)"
    return None


def build_command(sources, output, cpu="cortex-m4", include_dirs=(), extra_flags=()):
    """The arm-none-eabi-g++ command that compiles and links sources + the harness (build.py's
    flags for `cpu`, plus -Wpedantic -Werror)."""
    return (["arm-none-eabi-g++"] + _HARNESS_BUILD.cpu_flags(cpu) + COMMON_FLAGS + list(extra_flags) +
            [f"-I{d}" for d in [HARNESS, *include_dirs]] + list(sources) +
            [os.path.join(HARNESS, s) for s in _HARNESS_BUILD.HARNESS_SOURCES] +
            _HARNESS_BUILD.link_flags(cpu) + ["-o", output])


def build(sources, output, cpu="cortex-m4", include_dirs=(), extra_flags=()):
    """Compiles and links sources + the harness into an ELF (build.py's flags for `cpu`)."""
    missing = available(cpu)
    if missing:
        raise TinynetError(None, missing)
    proc = subprocess.run(build_command(sources, output, cpu, include_dirs, extra_flags), capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinynetError(None, f"arm-none-eabi-g++ failed:\n{proc.stderr[-4000:]}")
    return output


def harness_digest():
    """sha256 of the harness's files (targets/cortex-m/*: start-up, linker scripts, cpus.json, the
    runners, build.py and run.py), for build caches."""
    h = hashlib.sha256()
    for name in sorted(os.listdir(HARNESS)):
        path = os.path.join(HARNESS, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                h.update(name.encode() + f.read())
    return h.hexdigest()


def forbidden_symbols(elf):
    """The heap and exception symbols (build.py's HEAP_SYMBOLS and HEAP_PREFIXES) that an ELF or
    object file defines or references, sorted: what `build.py --no-heap` refuses."""
    return _HARNESS_BUILD.heap_symbols(elf)


def qemu_command(elf, cpu=None, machine=None):
    """run.py's QEMU command line for the ELF, on `machine` or on cpus.json's machine for `cpu`."""
    return _HARNESS_RUN.qemu_command(elf, machine or CPUS[cpu]["machine"])


def run(elf, cpu="cortex-m4", cwd=None, timeout=600):
    """Runs an ELF under qemu-system-arm (run.py's command line: deterministic instruction
    counting, semihosting on stdout); returns (exit status, semihosting output)."""
    machine = CPUS[cpu]["machine"]
    cmd = qemu_command(elf, machine=machine)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise TinynetError(elf, f"QEMU ({machine}) did not finish within {timeout} s")
    return proc.returncode, proc.stdout + proc.stderr


def estimate_m4_cycles(elf, cwd=None, cache_dir=None):
    """m4_cycles.py's estimate for a Cortex-M4 ELF that reads the timer around the code to
    estimate (run_main.cpp does): a dict with 'cycles', 'instructions', 'classes', ...
    (m4_cycles.estimate) and 'window', the instructions the plugin counted."""
    missing = available("cortex-m4")
    if missing:
        raise TinynetError(None, missing)
    try:
        return M4_CYCLES.estimate_elf(elf, cwd=cwd, cache_dir=cache_dir)
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as error:
        raise TinynetError(elf, f"the Cortex-M4 cycle estimate failed: {error}")


def constant_objects(elf):
    """The data objects an ELF keeps in flash, as (size, demangled name) pairs: the OBJECT symbols
    of its loaded sections other than .bss and .stack (arm-none-eabi-objdump -t -C), i.e. weights
    and every other table, as the build stores them. Code, literal pools and padding are not
    objects."""
    proc = subprocess.run(["arm-none-eabi-objdump", "-t", "-C", elf], capture_output=True, text=True, check=True)
    objects = []
    for line in proc.stdout.splitlines():
        # address, flags (7 columns, "O" for an object), section, size, name (with spaces, demangled)
        fields = line[17:].split(None, 2) if len(line) > 17 else []
        if len(fields) == 3 and line[8:17].strip().endswith("O") and fields[0] not in (".bss", ".stack", "*COM*"):
            objects.append((int(fields[1], 16), fields[2]))
    return objects


def constant_bytes(elf):
    """Bytes of the data objects an ELF keeps in flash (constant_objects)."""
    return sum(size for size, _ in constant_objects(elf))


def table_name(symbol):
    """What kind of table a demangled data object is: the last component of its qualified name
    without template arguments, e.g. `folded_bias` for `tinynet::ChannelPlan<...>::folded_bias`,
    `wide_rows` for `tinynet::kernels::wide_rows<...>`, `op3_conv_2d_weights` for a generated
    header's weight array."""
    depth, start = 0, 0
    for k, ch in enumerate(symbol):
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        elif depth == 0 and symbol.startswith("::", k):
            start = k + 2
    last = symbol[start:]
    cut = min((last.index(ch) for ch in "<(" if ch in last), default=len(last))
    return last[:cut]


def size(elf):
    """(text, data, bss) of an ELF from arm-none-eabi-size (Berkeley format)."""
    proc = subprocess.run(["arm-none-eabi-size", elf], capture_output=True, text=True, check=True)
    text, data, bss = (int(v) for v in proc.stdout.splitlines()[1].split()[:3])
    return text, data, bss
