"""An example's main.cpp on a Cortex-M4 under QEMU, as the integration tests of examples/ run it:
built by targets/cortex-m/build.py with --no-heap, checked for heap and exception symbols, run by
targets/cortex-m/run.py, which must exit 0. The tests compare what it prints with the host's."""

import shutil
import subprocess
from pathlib import Path

import pytest

from elf_symbols import assert_no_heap_or_exceptions

ROOT = Path(__file__).resolve().parents[2]
PYTHON = "/usr/bin/python3"

needs_cortex_m = pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                                    reason="arm-none-eabi-g++ or qemu-system-arm not installed")


def run_example_on_cortex_m4(main_cpp, include_dir, elf, defines=(), cwd=None):
    """Builds main_cpp (with include/ and include_dir on the include path, and `defines`, e.g.
    '-DNAME="value"') into `elf` for the Cortex-M4 and runs it (in `cwd`, QEMU's working directory
    for semihosted files, if given); returns what it printed."""
    subprocess.run([PYTHON, str(ROOT / "targets" / "cortex-m" / "build.py"), "--cpu", "cortex-m4", "--no-heap",
                    "-I", str(ROOT / "include"), "-I", str(include_dir), "-o", str(elf), str(main_cpp), *defines],
                   check=True)
    assert_no_heap_or_exceptions(elf)
    run = [PYTHON, str(ROOT / "targets" / "cortex-m" / "run.py")] + (["--cwd", str(cwd)] if cwd else []) + [str(elf)]
    device = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert device.returncode == 0, device.stdout[-2000:] + device.stderr
    return device.stdout
