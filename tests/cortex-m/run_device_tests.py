"""Builds tests/cortex-m/device_tests.cpp for one Cortex-M CPU, checks that the image links no heap
(malloc, free, operator new) and no exception support, and runs it under QEMU.
Usage: run_device_tests.py CPU BUILD_DIR. Exit status: the device's (0 = all checks passed)."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

sys.path.insert(0, os.path.join(ROOT, "tests", "python"))

from elf_symbols import forbidden_symbols  # noqa: E402
from tinynet_py import cortex_m  # noqa: E402


def main():
    cpu, build_dir = sys.argv[1], sys.argv[2]
    missing = cortex_m.available(cpu)
    if missing:  # tests/CMakeLists.txt adds this test only when the tools are there
        print(f"run_device_tests.py: {missing}")
        return 1
    os.makedirs(build_dir, exist_ok=True)
    elf = os.path.join(build_dir, f"device_tests_{cpu}.elf")
    cortex_m.build([os.path.join(ROOT, "tests", "cortex-m", "device_tests.cpp")], elf, cpu,
                   include_dirs=[os.path.join(ROOT, "include")])
    # The linked image must hold no heap and no exception support.
    found = forbidden_symbols(elf)     # tests/python/elf_symbols.py: heap, new/delete, exceptions, unwinder
    if found:
        print(f"the Cortex-M image links {', '.join(found)}")
        return 1
    status, output = cortex_m.run(elf, cpu, timeout=120)
    print(output.strip())
    return status


if __name__ == "__main__":
    sys.exit(main())
