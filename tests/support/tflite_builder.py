"""The tests' name for tinynet_py.tflite_builder (the flatbuffer writer lives with the generator)."""

from tinynet_py.tflite_builder import *  # noqa: F401,F403
from tinynet_py.tflite_builder import T, model, operator, serialize, tensor  # noqa: F401
