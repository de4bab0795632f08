"""Many generated networks in ONE program, built once: the conformance suites that compare hundreds
of small networks (test_tflm_ops, test_tflm_ops_cortex_m, test_cpp_vs_reference) compile the
library's headers once instead of once per network, which is most of a small network's build time.

* build_once: the build cache of such programs (host or Cortex-M), in runner.cache_root();
* HostProgram: the host program. Network k reads its inputs from, and writes its outputs to, the
  files named on one line `k in... out...` of a manifest; run() runs every line in one process.
  Each line starts from the network's reset state; `k:n in... out...` invokes it n times on the
  same inputs (state carried: SVDF's invokes_per_run) and writes the outputs of the last.
"""

import hashlib
import os
import subprocess

from tinynet_py import runner


def build_once(prefix, headers, source, identity, output_name, build):
    """The case headers (case_<k>.hpp) and main.cpp go to a folder of the build cache named by
    `prefix` and a hash of them, of `identity` (compiler and flags) and of the library's headers;
    build(folder, path) compiles them there, unless a previous run left the output. Files are
    written under a temporary name and renamed, so two runs at once never see each other's
    half-written files. Returns the output's path."""
    files = {f"case_{k}.hpp": text for k, text in enumerate(headers)}
    files["main.cpp"] = source
    parts = [f"{name}\0{text}" for name, text in files.items()] + list(identity) + [runner.library_digest()]
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]
    folder = os.path.join(runner.cache_root(), f"{prefix}-{key}")
    output = os.path.join(folder, output_name)
    if not os.path.exists(output):
        os.makedirs(folder, exist_ok=True)
        for name, text in files.items():
            temporary = os.path.join(folder, f"{name}.{os.getpid()}.tmp")
            with open(temporary, "w") as f:
                f.write(text)
            os.replace(temporary, os.path.join(folder, name))
        temporary = f"{output}.{os.getpid()}.tmp"
        build(folder, temporary)
        os.replace(temporary, output)
    return output


def host_source(networks, title):
    """main.cpp for networks [(namespace, input count, output count)] in case_<k>.hpp."""
    parts = [f"// {title}", "#include <cstdio>", "#include <cstdlib>", "#include <cstring>", ""]
    parts += [f'#include "case_{k}.hpp"' for k in range(len(networks))]
    parts += ["""
template <class Span>
static bool read_tensor(const char* path, Span span) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) return false;
  const std::size_t got = std::fread(span.data(), 1, span.size_bytes(), f);
  const bool extra = std::fgetc(f) != EOF;
  std::fclose(f);
  return got == span.size_bytes() && !extra;
}

template <class Span>
static bool write_tensor(const char* path, Span span) {
  std::FILE* f = std::fopen(path, "wb");
  if (!f) return false;
  const bool ok = std::fwrite(span.data(), 1, span.size_bytes(), f) == span.size_bytes();
  return std::fclose(f) == 0 && ok;
}
"""]
    dispatch = []
    for k, (namespace, inputs, outputs) in enumerate(networks):
        reads = "\n".join(f"  if (!read_tensor(in[{i}], instance.input<{i}>())) return 3;" for i in range(inputs))
        writes = "\n".join(f"  if (!write_tensor(out[{i}], instance.output<{i}>())) return 4;"
                           for i in range(outputs))
        parts.append(f"static int run_{k}(char** in, char** out, int invokes) {{\n"
                     f"  static tinynet::Instance<{namespace}::network> instance;\n"
                     f"  instance.reset();\n"
                     f"  for (int n = 0; n < invokes; ++n) {{\n{reads}\n    instance.invoke();\n  }}\n"
                     f"{writes}\n  return 0;\n}}\n")
        dispatch.append(f"      case {k}: status = run_{k}(paths, paths + {inputs}, invokes); break;")
    arenas = "\n".join(f'    std::printf("%zu\\n", {namespace}::network::arena_bytes);' for namespace, _, _ in networks)
    parts.append("""int main(int argc, char** argv) {
  if (argc != 2) return 2;
  if (std::strcmp(argv[1], "--arena") == 0) {  // each network's arena_bytes, one a line
""" + arenas + """
    return 0;
  }
  std::FILE* manifest = std::fopen(argv[1], "r");
  if (!manifest) return 2;
  static char line[8192];
  while (std::fgets(line, sizeof line, manifest)) {
    char* paths[64];
    int count = 0;
    int k = -1;
    int invokes = 1;
    for (char* word = std::strtok(line, " \\n"); word; word = std::strtok(nullptr, " \\n")) {
      if (k < 0) {
        char* rest = nullptr;
        k = static_cast<int>(std::strtol(word, &rest, 10));
        if (*rest == ':') invokes = std::atoi(rest + 1);
      } else if (count < 64) {
        paths[count++] = word;
      }
    }
    int status = 5;
    switch (k) {
""" + "\n".join(dispatch) + """
      default: break;
    }
    if (status != 0) { std::fprintf(stderr, "case %d failed (%d)\\n", k, status); return status; }
  }
  std::fclose(manifest);
  return 0;
}
""")
    return "\n".join(parts)


class HostProgram:
    """One host program for many generated networks, compiled (cached) by the tests' compiler
    ($TINYNET_CXX, $CXX or g++) with runner.HOST_FLAGS and $TINYNET_CXXFLAGS, as `tinynet run`
    compiles one. `models` are ir.Models; network k is models[k]. Raises CompileError with the
    compiler's message if the program does not compile. `sparse`: the --sparse form of each
    model (default: 'auto' for all)."""

    class CompileError(Exception):
        pass

    def __init__(self, prefix, models, sparse=None):
        from tinynet_py import emit
        self.models = list(models)
        forms = list(sparse) if sparse is not None else ["auto"] * len(self.models)
        networks, texts = [], []
        for k, model in enumerate(self.models):
            namespace = f"{prefix.replace('-', '_')}_{k}"   # unique; a double underscore is reserved in C++
            texts.append(emit.generate_header(model, namespace, sparse=forms[k]))
            networks.append((namespace, len(model.inputs), len(model.outputs)))
        cxx = os.environ.get("TINYNET_CXX") or os.environ.get("CXX") or "g++"
        flags = runner.HOST_FLAGS + os.environ.get("TINYNET_CXXFLAGS", "").split()

        def compile_(folder, output):
            proc = subprocess.run([cxx] + flags + ["-I", runner.INCLUDE, "-I", folder, os.path.join(folder, "main.cpp"),
                                   "-o", output], capture_output=True, text=True)
            if proc.returncode != 0:
                raise HostProgram.CompileError(f"the {prefix} program does not compile:\n" + proc.stderr[-6000:])

        source = host_source(networks, f"tinynet {prefix}: {len(networks)} networks (tests/support/many_networks.py)")
        self.binary = build_once(prefix, texts, source, [cxx, " ".join(flags)], "runner", compile_)

    def arena_bytes(self):
        """Each network's compiled arena size (Network::arena_bytes), in order."""
        proc = subprocess.run([self.binary, "--arena"], capture_output=True, text=True, timeout=60, check=True)
        return [int(v) for v in proc.stdout.split()]

    def run(self, folder, lines):
        """Runs network k on each (k, input paths, output paths[, invokes]) of `lines`, in one
        process: from its reset state, `invokes` times (default 1) on the same inputs."""
        manifest = os.path.join(folder, "manifest.txt")
        with open(manifest, "w") as f:
            for k, inputs, outputs, *invokes in lines:
                head = f"{k}:{invokes[0]}" if invokes else str(k)
                f.write(" ".join([head] + [str(p) for p in list(inputs) + list(outputs)]) + "\n")
        proc = subprocess.run([self.binary, manifest], capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{self.binary} failed (exit {proc.returncode}): {proc.stderr.strip()}"
