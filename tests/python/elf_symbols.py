"""The symbols a Cortex-M image must not link: heap (malloc and friends, operator new/delete, sbrk)
and exception support (__cxa_* runtime, personality routine, unwinder). Shared by the tests that
build example and test images for Cortex-M."""

import subprocess

FORBIDDEN = {"malloc", "free", "calloc", "realloc", "memalign", "_malloc_r", "_free_r", "_calloc_r",
             "_realloc_r", "_sbrk", "_sbrk_r", "__gxx_personality_v0", "__aeabi_unwind_cpp_pr0",
             "__aeabi_unwind_cpp_pr1"}
# Prefixes: operator new/new[]/delete/delete[] in every overload (_Znwj, _ZnajRKSt9nothrow_t,
# _ZdlPvj...), the C++ exception and guard runtime (__cxa_throw, __cxa_begin_catch, ...), the
# unwinder (_Unwind_RaiseException, ...).
FORBIDDEN_PREFIXES = ("_Znw", "_Zna", "_Zdl", "_Zda", "__cxa_", "_Unwind_", "__gnu_unwind")


def forbidden_symbols(elf):
    """The forbidden symbols (defined or undefined) in an ELF, sorted."""
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True, check=True).stdout
    names = {line.split()[-1] for line in out.splitlines() if line.split()}
    return sorted(n for n in names if n in FORBIDDEN or n.startswith(FORBIDDEN_PREFIXES))


def assert_no_heap_or_exceptions(elf):
    found = forbidden_symbols(elf)
    assert not found, f"{elf} links heap or exception support: {', '.join(found)}"
