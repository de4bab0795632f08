"""Building bare-metal Cortex-M programs with arm-none-eabi-g++ and running them under QEMU.

The harness (vector table, start-up, semihosting, timer) is targets/cortex-m; flags and machines
follow ../shared/cortex-m-facts.md, and instruction counting follows ../shared/anchors.md
(-icount shift=6,align=off,sleep=off; 1.6 timer ticks per instruction).
"""

import os
import shutil
import subprocess

from .errors import TinynetError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HARNESS = os.path.join(REPO, "targets", "cortex-m")

# cpu -> (compiler flags, QEMU machine, flash origin, RAM origin). The dual timer's clock
# (TINYNET_TIMER_HZ) is 25 MHz on the mps2 an385/an386/an500 images and 20 MHz on an505.
CPUS = {
    "cortex-m0plus": (["-mcpu=cortex-m0plus", "-mthumb", "-masm-syntax-unified"], "microbit", None, None),
    "cortex-m3": (["-mcpu=cortex-m3", "-mthumb"], "mps2-an385", 0x0, 0x20000000),
    "cortex-m4": (["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"], "mps2-an386", 0x0, 0x20000000),
    "cortex-m7": (["-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"], "mps2-an500", 0x0, 0x20000000),
    "cortex-m33": (["-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-sp-d16",
                    "-DTINYNET_TIMER_HZ=20000000"], "mps2-an505", 0x10000000, 0x38000000),
}
COMMON_FLAGS = ["-std=c++20", "-O2", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics",
                "-fno-use-cxa-atexit", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra",
                "-Wpedantic", "-Werror"]
LINK_FLAGS = ["-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections"]


def available(cpu="cortex-m4"):
    """None when the toolchain and QEMU are there, else a sentence saying what is missing."""
    if cpu not in CPUS or CPUS[cpu][2] is None:
        return f"{cpu}: no QEMU machine with a memory map tinynet's harness knows"
    for tool in ("arm-none-eabi-g++", "qemu-system-arm"):
        if shutil.which(tool) is None:
            return f"{tool} not found (run scripts/setup)"
    return None


def linker_script(cpu, folder):
    _, _, flash, ram = CPUS[cpu]
    with open(os.path.join(HARNESS, "mps2.ld")) as f:
        text = f.read()
    text = text.replace("ORIGIN = 0x00000000", f"ORIGIN = {flash:#010x}").replace(
        "ORIGIN = 0x20000000", f"ORIGIN = {ram:#010x}")
    path = os.path.join(folder, f"{cpu}.ld")
    with open(path, "w") as f:
        f.write(text)
    return path


def build(sources, output, cpu="cortex-m4", include_dirs=(), extra_flags=()):
    """Compiles and links sources + the harness into an ELF."""
    missing = available(cpu)
    if missing:
        raise TinynetError(None, missing)
    flags = CPUS[cpu][0]
    folder = os.path.dirname(os.path.abspath(output))
    script = linker_script(cpu, folder)
    cmd = (["arm-none-eabi-g++"] + flags + COMMON_FLAGS + list(extra_flags) +
           [f"-I{d}" for d in [HARNESS, *include_dirs]] +
           list(sources) + [os.path.join(HARNESS, "startup.cpp")] + LINK_FLAGS +
           [f"-T{script}", "-o", output])
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinynetError(None, f"arm-none-eabi-g++ failed:\n{proc.stderr[-4000:]}")
    return output


def run(elf, cpu="cortex-m4", cwd=None, timeout=600):
    """Runs an ELF under qemu-system-arm with deterministic instruction counting; returns
    (exit status, semihosting output)."""
    machine = CPUS[cpu][1]
    cmd = ["qemu-system-arm", "-M", machine, "-display", "none", "-monitor", "none", "-serial", "none",
           "-semihosting-config", "enable=on,target=native,chardev=out", "-chardev", "stdio,id=out",
           "-icount", "shift=6,align=off,sleep=off", "-kernel", os.path.abspath(elf)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TinynetError(elf, f"QEMU ({machine}) did not finish within {timeout} s")
    return proc.returncode, proc.stdout + proc.stderr


def size(elf):
    """(text, data, bss) of an ELF from arm-none-eabi-size (Berkeley format)."""
    proc = subprocess.run(["arm-none-eabi-size", elf], capture_output=True, text=True, check=True)
    text, data, bss = (int(v) for v in proc.stdout.splitlines()[1].split()[:3])
    return text, data, bss
