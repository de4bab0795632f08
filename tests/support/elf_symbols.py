"""The symbols a Cortex-M image must not link: heap (malloc and friends, operator new/delete, sbrk)
and exception support (__cxa_* runtime, personality routine, unwinder). The list is
targets/cortex-m/build.py's (HEAP_SYMBOLS, HEAP_PREFIXES: what `build.py --no-heap` refuses); this
module gives it to the tests that build example and test images for Cortex-M."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                "scripts"))
from tinynet_py import cortex_m  # noqa: E402

forbidden_symbols = cortex_m.forbidden_symbols


def assert_no_heap_or_exceptions(elf):
    found = forbidden_symbols(elf)
    assert not found, f"{elf} links heap or exception support: {', '.join(found)}"
