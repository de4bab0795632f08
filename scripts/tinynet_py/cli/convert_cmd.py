"""`tinynet convert`: write a model as one C++ header (constexpr weights + a tinynet::Network)."""

import os
import re

from ..analysis import summary
from ..emit import generate_header, write_atomically
from ..reference import Interpreter
from ..tflite import load_model
from .inspect_cmd import format_table

NAME = "convert"
HELP = "generate a C++ header (constexpr weights and the network type) from a .tflite model"
DESCRIPTION = """Reads a TFLite flatbuffer and writes one header holding the weights, biases and
quantization parameters as constexpr arrays and the network as a tinynet::Network type in
namespace NS. The header begins with a readable summary: source file and hash, ops, shapes,
quantization, MACs, weight bytes and arena estimate. Nothing is written unless the whole model
is supported (the header is written to a temporary file, then renamed)."""
EPILOG = """examples:
  tinynet convert kws_ref_model.tflite -o kws.hpp --name kws
  then, in C++:
    #include "kws.hpp"
    static tinynet::Instance<kws::network> net;   // arena in .bss, no constructor
    ... copy the features into net.input(), call net.invoke(), read net.output() ..."""


def default_namespace(path):
    stem = re.sub(r"[^0-9A-Za-z_]", "_", os.path.splitext(os.path.basename(path))[0])
    return stem if stem and not stem[0].isdigit() else "model_" + stem


def add_arguments(parser):
    parser.add_argument("model", metavar="MODEL", help="the .tflite file")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.hpp", help="the header to write")
    parser.add_argument("--name", metavar="NS", help="C++ namespace of the generated code "
                                                     "(default: the model file's stem)")


def header_for(model_path, namespace):
    """Loads, validates and emits; returns (model, header text)."""
    model = load_model(model_path)
    Interpreter(model)  # runs every op's checks: refuses what TFLM would refuse
    text = generate_header(model, namespace, format_table(summary(model)))
    return model, text


def run(args):
    namespace = args.name or default_namespace(args.model)
    model, text = header_for(args.model, namespace)
    write_atomically(args.output, text)
    print(f"wrote {args.output}: namespace {namespace}, {len(model.ops)} ops, network type "
          f"{namespace}::network")
    return 0
