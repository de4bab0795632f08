"""examples/memory_regions: kws_ref_model's arena split by tinynet::RegionPlan over 8 KB of fast RAM
and slow external RAM, built for the host (CMake) and for the Cortex-M7 board (mps2-an500) with the
external part linked into its PSRAM at 0x60000000, run under QEMU. Both layouts must give the same
output bytes, the fast region must stay within its 8 KB and take most of the accesses (the ranking
rule: hottest bytes first), and the external buffer must really be at 0x60000000. The device image
also takes its weights from a header converted with --weights-section, linked 1 MB into the PSRAM
(standing in for an external QSPI flash): every weight array must be there."""

import re
import shutil
import subprocess

import pytest

from conftest import ROOT, shared_path

BUILD = ROOT / "targets" / "cortex-m" / "build.py"
RUN = ROOT / "targets" / "cortex-m" / "run.py"


def report(text):
    fast_bytes, fast_access = map(int, re.search(r"fast internal RAM: (\d+) bytes, (\d+) bytes accessed", text).groups())
    slow_bytes, slow_access = map(int, re.search(r"external RAM: +(\d+) bytes, (\d+) bytes accessed", text).groups())
    arena = int(re.search(r"arena (\d+) bytes in one region", text).group(1))
    assert "outputs: the same bytes in both layouts" in text, text
    assert fast_bytes <= 8 * 1024 and fast_bytes + slow_bytes >= arena, text
    assert fast_access > slow_access, text
    return fast_bytes, slow_bytes, fast_access, slow_access


@pytest.mark.skipif(not shutil.which("cmake"), reason="cmake not installed")
@pytest.mark.skipif(not (shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm")),
                    reason="arm-none-eabi-g++ or qemu-system-arm not installed")
def test_memory_regions_on_the_host_and_on_cortex_m7(tmp_path, example_build):
    model = shared_path("models", "mlperf-tiny", "kws_ref_model.tflite")
    built = example_build("memory_regions")
    host = subprocess.run([str(built / "memory_regions")], capture_output=True, text=True,
                          timeout=60)
    assert host.returncode == 0, host.stdout + host.stderr
    host_figures = report(host.stdout)

    placed = tmp_path / "placed"
    placed.mkdir()
    converted = subprocess.run([str(ROOT / "scripts" / "tinynet"), "convert", str(model), "-o",
                                str(placed / "kws_model.hpp"), "--name", "kws", "--weights-section", ".tinynet_weights"],
                               capture_output=True, text=True)
    assert converted.returncode == 0, converted.stderr
    elf = tmp_path / "regions-m7.elf"
    subprocess.run(["/usr/bin/python3", str(BUILD), "--cpu", "cortex-m7", "-I", str(ROOT / "include"),
                    "-I", str(ROOT / "targets" / "cortex-m"), "-I", str(placed), "-o", str(elf),
                    str(ROOT / "examples" / "memory_regions" / "main.cpp"),
                    "-Wl,--section-start=.tinynet_external=0x60000000,--section-start=.tinynet_weights=0x60100000"],
                   check=True)
    symbols = subprocess.run(["arm-none-eabi-nm", "-C", str(elf)], capture_output=True, text=True, check=True).stdout
    external = int(re.search(r"^([0-9a-f]+) \w external_ram$", symbols, re.M).group(1), 16)
    internal = int(re.search(r"^([0-9a-f]+) \w internal_sram$", symbols, re.M).group(1), 16)
    assert external == 0x60000000 and 0x20000000 <= internal < 0x20400000
    weights = re.findall(r"^([0-9a-f]+) \w kws::(\w+)$", symbols, re.M)
    arrays = [name for _, name in weights if not name.endswith("_quant")]
    assert arrays, symbols
    assert all(0x60100000 <= int(address, 16) < 0x61000000 for address, name in weights if name in arrays), weights
    device = subprocess.run(["/usr/bin/python3", str(RUN), str(elf)], capture_output=True, text=True, timeout=300)
    assert device.returncode == 0, device.stdout + device.stderr
    assert report(device.stdout) == host_figures  # the plan is the compiler's, the same for both
    assert re.search(r"instructions: \d+ over two regions, \d+ in one arena", device.stdout), device.stdout


def test_weights_section_name_is_checked(tmp_path):
    model = shared_path("models", "tflm-examples", "hello_world_int8.tflite")
    for bad in ["qspi", '.x") int evil[1] = {1', ".a b", "." + "x" * 70]:
        result = subprocess.run([str(ROOT / "scripts" / "tinynet"), "convert", str(model), "-o", str(tmp_path / "h.hpp"),
                                 "--weights-section", bad], capture_output=True, text=True)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert result.stderr.startswith("tinynet: error: --weights-section") and not (tmp_path / "h.hpp").exists()
    good = subprocess.run([str(ROOT / "scripts" / "tinynet"), "convert", str(model), "-o", str(tmp_path / "h.hpp"),
                           "--weights-section", ".qspi_weights"], capture_output=True, text=True)
    assert good.returncode == 0, good.stderr
    text = (tmp_path / "h.hpp").read_text()
    assert text.count('[[gnu::section(".qspi_weights")]] inline constexpr') == text.count("inline constexpr std::int8_t") + \
        text.count("inline constexpr std::int32_t") + text.count("inline constexpr float ")
