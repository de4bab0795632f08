"""Flash integrity (include/tinynet/core/checksum.hpp) on generated networks: the boot check passes
on the image as built, and fails once one byte of a weight table is changed in the ELF file -- the
way corrupted flash would look to the program. Runs on a Cortex-M4 under QEMU.

The generator's own CRC-32 of the header's arrays (emit.py: `arrays_crc32`, checked by a
static_assert against the compiler's with -DTINYNET_VERIFY_HEADER_ARRAYS) is tested here on a
small network (g++), and for every golden model with g++ and clang++ by test_convert.py, in the
compile that checks the header for warnings."""

import shutil
import struct
import subprocess

import pytest

from conftest import ROOT
from elf_symbols import assert_no_heap_or_exceptions
from tinynet_py import cortex_m, emit, runner
from tinynet_py.tflite import load_model

SINE = ROOT / "examples" / "hello_world" / "sine_int8.tflite"
INTEGRITY = ROOT / "tests" / "cortex-m" / "integrity.cpp"


def elf_file_offset(elf_bytes, address):
    """File offset of a loaded (PROGBITS) address in an ELF32 little-endian file."""
    assert elf_bytes[:4] == b"\x7fELF" and elf_bytes[4] == 1 and elf_bytes[5] == 1
    shoff, = struct.unpack_from("<I", elf_bytes, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", elf_bytes, 0x2E)
    for k in range(shnum):
        _, sh_type, _, sh_addr, sh_offset, sh_size = struct.unpack_from("<IIIIII", elf_bytes, shoff + k * shentsize)
        if sh_type == 1 and sh_addr <= address < sh_addr + sh_size:   # SHT_PROGBITS
            return sh_offset + (address - sh_addr)
    raise AssertionError(f"address {address:#x} is in no PROGBITS section")


def symbols(elf):
    """name (demangled) -> (address, size) of the data symbols of an ELF."""
    out = subprocess.run(["arm-none-eabi-nm", "-C", "-S", str(elf)], capture_output=True, text=True, check=True).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4 and parts[2] in "rRdDvV":
            table[parts[3]] = (int(parts[0], 16), int(parts[1], 16))
    return table


def run_elf(elf):
    status, output = cortex_m.run(str(elf), "cortex-m4", timeout=60)
    return status, output


def test_corrupted_flash_is_detected_on_cortex_m4(tmp_path):
    missing = cortex_m.available("cortex-m4")
    if missing:
        pytest.skip(missing)
    model = load_model(str(SINE))
    (tmp_path / "model.hpp").write_text(emit.generate_header(model, "m"))
    elf = tmp_path / "integrity.elf"
    cortex_m.build([str(INTEGRITY)], str(elf), "cortex-m4", include_dirs=[runner.INCLUDE, str(tmp_path)])
    assert_no_heap_or_exceptions(elf)        # the check itself needs no heap
    status, output = run_elf(elf)
    assert status == 0 and "weights: intact" in output, output

    table = symbols(elf)
    weights = [name for name in table if name.startswith("m::op") and name.endswith("_weights")]
    derived = [name for name in table if "folded_bias" in name or "::multipliers" in name]
    assert weights and derived, sorted(table)[:40]
    original = elf.read_bytes()
    for name in (weights[0], weights[-1], derived[0]):
        address, size = table[name]
        for where in (0, size - 1):
            patched = bytearray(original)
            patched[elf_file_offset(original, address + where)] ^= 0x10
            bad = tmp_path / "patched.elf"
            bad.write_bytes(bytes(patched))
            status, output = run_elf(bad)
            assert status == 3 and "weights: corrupted" in output, (name, where, status, output)


def test_host_verify_and_generator_crc(tmp_path):
    """Host build of a generated header: verify_weights passes, and the header's static_assert
    (generator CRC == compiler CRC of the same arrays) holds."""
    if shutil.which("g++") is None:
        pytest.skip("g++ not installed")
    model = load_model(str(SINE))
    header = emit.generate_header(model, "m")
    assert "arrays_crc32" in header and "static_assert" in header
    (tmp_path / "model.hpp").write_text(header)
    (tmp_path / "main.cpp").write_text(
        '#include <cstdio>\n#include "model.hpp"\n'
        "int main() { std::printf(\"%08x\\n\", static_cast<unsigned>(m::network::weights_checksum));\n"
        "  return tinynet::verify_weights<m::network>() ? 0 : 3; }\n")
    subprocess.run(["g++", "-std=c++20", "-O2", "-Wall", "-Wextra", "-Werror", "-DTINYNET_VERIFY_HEADER_ARRAYS",
                    "-I", runner.INCLUDE, "-I", str(tmp_path),
                    str(tmp_path / "main.cpp"), "-o", str(tmp_path / "main")], check=True)
    assert subprocess.run([str(tmp_path / "main")]).returncode == 0
