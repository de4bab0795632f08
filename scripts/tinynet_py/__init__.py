"""tinynet's Python side: TFLite flatbuffer reader, model IR, numpy reference interpreter.

Only numpy is required.  Entry points:
    tinynet_py.tflite.load_model(path) -> tinynet_py.ir.Model
    tinynet_py.reference.Interpreter(model).invoke([input_array, ...]) -> [output_array, ...]
"""

__version__ = "0.1.0"
