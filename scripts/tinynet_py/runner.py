"""Builds and runs a generated network: on the host (the C++ compiler) or on Cortex-M under QEMU.

Builds are cached: the cache key covers the header, the runner source, the compiler and flags,
and the library headers, so a second `tinynet run` of the same model only runs the program.
"""

import hashlib
import os
import shutil
import subprocess
import sys

from .errors import TinynetError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INCLUDE = os.path.join(REPO, "include")
HOST_FLAGS = ["-std=c++20", "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]


def cache_root():
    base = os.environ.get("TINYNET_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "tinynet")
    os.makedirs(base, exist_ok=True)
    return base


def library_digest():
    h = hashlib.sha256()
    for folder, _, files in sorted(os.walk(INCLUDE)):
        for name in sorted(files):
            path = os.path.join(folder, name)
            h.update(path[len(INCLUDE):].encode())
            with open(path, "rb") as f:
                h.update(f.read())
    return h.hexdigest()


def host_runner_source(namespace, input_count, output_count):
    """A main() that reads each input from a file named on the command line, invokes the network
    in its static arena and writes each output to a file."""
    reads = "\n".join(
        f"  if (!read_tensor(argv[{1 + i}], instance.input<{i}>())) return 3;" for i in range(input_count))
    writes = "\n".join(
        f"  if (!write_tensor(argv[{1 + input_count + i}], instance.output<{i}>())) return 4;"
        for i in range(output_count))
    return f"""// tinynet host runner (generated)
#include <cstdio>

#include "model.hpp"

using net = {namespace}::network;
static tinynet::Instance<net> instance;

template <class Span>
static bool read_tensor(const char* path, Span span) {{
  std::FILE* f = std::fopen(path, "rb");
  if (!f) {{ std::fprintf(stderr, "cannot open %s\\n", path); return false; }}
  const std::size_t want = span.size_bytes();
  const std::size_t got = std::fread(span.data(), 1, want, f);
  const bool extra = std::fgetc(f) != EOF;
  std::fclose(f);
  if (got != want || extra) {{
    std::fprintf(stderr, "%s: expected %zu bytes\\n", path, want);
    return false;
  }}
  return true;
}}

template <class Span>
static bool write_tensor(const char* path, Span span) {{
  std::FILE* f = std::fopen(path, "wb");
  if (!f) return false;
  const bool ok = std::fwrite(span.data(), 1, span.size_bytes(), f) == span.size_bytes();
  return std::fclose(f) == 0 && ok;
}}

int main(int argc, char** argv) {{
  if (argc != 1 + {input_count} + {output_count}) {{
    std::fprintf(stderr, "usage: %s {' '.join(f'IN{i}' for i in range(input_count))} {' '.join(f'OUT{i}' for i in range(output_count))}\\n", argv[0]);
    return 2;
  }}
{reads}
  instance.invoke();
{writes}
  return 0;
}}
"""


def build_host(header_text, namespace, input_count, output_count, cxx=None, extra_flags=(), progress=None):
    cxx = cxx or os.environ.get("TINYNET_CXX") or os.environ.get("CXX") or "g++"
    if shutil.which(cxx) is None:
        raise TinynetError(None, f"C++ compiler '{cxx}' not found (set CXX or TINYNET_CXX)")
    source = host_runner_source(namespace, input_count, output_count)
    flags = HOST_FLAGS + list(extra_flags)
    key = hashlib.sha256("\0".join([header_text, source, cxx, " ".join(flags), library_digest()]).encode()).hexdigest()[:24]
    folder = os.path.join(cache_root(), "host-" + key)
    binary = os.path.join(folder, "runner")
    if os.path.exists(binary):
        return binary
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.hpp"), "w") as f:
        f.write(header_text)
    with open(os.path.join(folder, "main.cpp"), "w") as f:
        f.write(source)
    if progress:
        progress(f"compiling with {cxx} (cached afterwards)")
    tmp = binary + ".tmp"
    cmd = [cxx] + flags + ["-I", INCLUDE, "-I", folder, os.path.join(folder, "main.cpp"), "-o", tmp]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinynetError(None, "compiling the generated network failed:\n" + proc.stderr[-4000:])
    os.replace(tmp, binary)
    return binary


def run_host(binary, input_paths, output_paths):
    proc = subprocess.run([binary] + list(input_paths) + list(output_paths), capture_output=True, text=True)
    if proc.returncode != 0:
        raise TinynetError(None, f"the runner failed (exit {proc.returncode}): {proc.stderr.strip()}")
