"""`tinynet convert`: write a model as one C++ header (constexpr weights + a tinynet::Network)."""

import os

from .. import pipeline
from ..analysis import summary
from ..data import layout_lines
from ..emit import check_namespace, generate_header, safe_namespace, write_atomically
from ..safe_text import escape
from ..reference import Interpreter
from .inspect_cmd import format_table

NAME = "convert"
HELP = "generate a C++ header (constexpr weights and the network type) from a model"
DESCRIPTION = """Reads a model (a TFLite flatbuffer, int8 or float32; a float32 ONNX file; a pickled
scikit-learn MLP), optionally prunes and quantizes it, and writes one header holding the weights, biases and
quantization parameters as constexpr arrays and the network as a tinynet::Network type in
namespace NS. The header begins with a readable summary: source file and hash, ops, shapes,
quantization, MACs, weight bytes and arena estimate. Nothing is written unless the whole model
is supported (the header is written to a temporary file, then renamed)."""
EPILOG = """examples:
  tinynet convert kws_ref_model.tflite -o kws.hpp --name kws
  tinynet convert digits_mlp.pkl --quantize calib.npz -o digits.hpp
  tinynet convert digits_mlp.pkl --quantize calib.npz --prune-synapses 0.75 --eval test.npz -o digits.hpp
  then, in C++:
    #include "kws.hpp"
    static tinynet::Instance<kws::network> net;   // arena in .bss, no constructor
    ... copy the features into net.input(), call net.invoke(), read net.output() ..."""


def default_namespace(path):
    """The model file's stem as a namespace name (emit.safe_namespace mangles what would not compile)."""
    return safe_namespace(os.path.splitext(os.path.basename(path))[0])


def add_arguments(parser):
    pipeline.add_model_argument(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT.hpp", help="the header to write")
    parser.add_argument("--name", metavar="NS", help="C++ namespace of the generated code (default: the "
                                                     "model file's stem, made a valid name: class.onnx "
                                                     "-> class_model, 8bit.tflite -> model_8bit); C++ "
                                                     "keywords, std, tinynet and reserved names (__x, _X) "
                                                     "are refused")
    parser.add_argument("--weights-section", metavar="SECTION",
                        help="put every constant array of the header (weights, biases, tables) in this "
                             "linker section, e.g. .qspi_weights for an external flash: your linker "
                             "script (or -Wl,--section-start=SECTION=ADDRESS) decides where it goes; "
                             "default: the compiler's read-only data (internal flash)")
    pipeline.add_compression_arguments(parser)


def header_for_model(model, namespace, sparse="auto", weights_section=None, int4_form="auto"):
    """Validates and emits an ir.Model; returns the header text."""
    Interpreter(model)  # runs every op's checks: refuses what TFLM would refuse
    info = summary(model, pipeline.Build(sparse))
    info["model"] = os.path.basename(model.path)   # the header names the file, not the build machine's path
    return generate_header(model, namespace, format_table(info), sparse=sparse, weights_section=weights_section,
                           int4_form=int4_form)


def header_for(args, namespace):
    """Loads args.model, applies the compression flags, emits; returns (Prepared, header text)."""
    prepared = pipeline.prepare(args)
    return prepared, header_for_model(prepared.model, namespace, getattr(args, "sparse", "auto"),
                                      getattr(args, "weights_section", None), getattr(args, "int4_form", "auto"))


def run(args):
    namespace = args.name or default_namespace(args.model)
    check_namespace(namespace)         # before the model is read: a usage error is found at once
    prepared, text = header_for(args, namespace)
    model = prepared.model
    write_atomically(args.output, text)
    for note in prepared.notes + layout_lines(model):
        print(escape(note, limit=None, keep_unicode=True))
    print(f"wrote {args.output}: namespace {namespace}, {len(model.ops)} ops, network type "
          f"{namespace}::network")
    pipeline.report_evaluation(prepared, args, default_chart=os.path.splitext(args.output)[0] + "-eval.png")
    return 0
