"""User data at the model's boundary: reading .npz/.npy files, data layouts, float <-> int8.

Layouts.  ONNX models are NCHW; tinynet's C++ (like TFLite) is NHWC, so the ONNX importer stores
a rank-4 graph input or output [N, C, H, W] as [N, H, W, C] and records its ONNX shape in
model.nchw_shapes.  Data given for such a tensor are read by their shape:
- the ONNX shape (NCHW) -> transposed to NHWC for the C++ network;
- the C++ shape (NHWC) -> used as they are;
- both (C == H == W, e.g. [1, 4, 4, 4]) -> taken as ONNX NCHW, the layout the model declares
  (what PyTorch and ONNX Runtime produce); --data-layout nhwc says otherwise;
- neither (a flat vector included) -> refused, naming both layouts.
A leading batch dimension of 1 may be left out.  --data-layout nchw|nhwc forces one reading.
Raw .bin files have no shape: their bytes are the C++ tensor's (NHWC).
Outputs follow the inputs: written (.npy) or compared (--eval 'y') in the ONNX layout when the
data given were ONNX-layout (or no rank-4 input was given), in the C++ layout otherwise.

Float <-> int8.  Float data for an int8 input are quantized with the tensor's scale and zero
point (TFLM's AffineQuantize); int8 outputs are dequantized (scale * (q - zero point)).
"""

import numpy as np

from .errors import UsageError
from .safe_text import escape

DATA_LAYOUTS = ("auto", "nchw", "nhwc")


def read_npz(path):
    """All arrays of an .npz file as a dict; one-line errors for what is not one."""
    if str(path).endswith(".npy"):
        raise UsageError(path, "is an .npy file (one array); an .npz file is expected here "
                               "(np.savez(path, x=inputs) for --quantize, np.savez(path, x=inputs, y=labels) "
                               "for --eval)")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise UsageError(path, "is not an .npz file")
            return {name: data[name] for name in data.keys()}
    except AttributeError:
        # np.load returned a plain array (an .npy file with another extension)
        raise UsageError(path, "holds a single array (.npy format); an .npz file is expected "
                               "(np.savez(path, x=...))") from None
    except OSError as e:
        raise UsageError(path, f"cannot read: {e.strerror or e}") from None
    except ValueError as e:
        raise UsageError(path, f"not a valid .npz file ({e})") from None


def _fits(shape, full):
    shape, full = tuple(shape), tuple(full)
    return shape == full or (len(full) > 1 and full[0] == 1 and shape == full[1:])


def _dims(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def describe(model, index, role):
    """"input 'x': ONNX NCHW [1,3,8,8], C++ NHWC [1,8,8,3]", or None for a tensor read as is."""
    nchw = model.nchw_shapes.get(index)
    if nchw is None:
        return None
    tensor = model.tensors[index]
    return f"{role} '{escape(tensor.name)}': ONNX NCHW {_dims(nchw)}, C++ NHWC {_dims(tensor.shape)}"


def layout_lines(model):
    lines = [describe(model, i, "input") for i in model.inputs]
    lines += [describe(model, i, "output") for i in model.outputs]
    return [line for line in lines if line]


def _resolve(shape, model, index, path, layout, what):
    """'nchw' or 'nhwc' for data of per-sample shape `shape` for tensor `index`, None when the
    tensor has one layout only. Raises UsageError for data of neither layout."""
    nchw = model.nchw_shapes.get(index)
    if nchw is None:
        return None
    tensor = model.tensors[index]
    nhwc = tuple(tensor.shape)
    fits = {"nchw": _fits(shape, nchw), "nhwc": _fits(shape, nhwc)}
    if layout in fits:
        if fits[layout]:
            return layout
    elif fits["nchw"]:
        return "nchw"
    elif fits["nhwc"]:
        return "nhwc"
    wanted = {"nchw": f"ONNX NCHW {_dims(nchw)}", "nhwc": f"C++ NHWC {_dims(nhwc)}"}
    expected = wanted[layout] if layout in wanted else f"{wanted['nchw']} or {wanted['nhwc']}"
    raise UsageError(path, f"{what} of shape {_dims(shape)} do not fit the model's '{escape(tensor.name)}': "
                           f"expected {expected} (a leading batch 1 may be left out)")


def sample_to_cxx(array, model, index, path, layout="auto"):
    """One sample (any array) -> (flat values in the C++ tensor's order, resolved layout)."""
    array = np.asarray(array)
    resolved = _resolve(array.shape, model, index, path, layout, "data")
    if resolved == "nchw":
        nchw = model.nchw_shapes[index]
        array = array.reshape(nchw).transpose(0, 2, 3, 1)
    return array.reshape(-1), resolved


def samples_to_cxx(array, model, index, path, layout="auto", key="x"):
    """A set of samples (first axis) -> ([N, values] in the C++ order, resolved layout)."""
    array = np.asarray(array)
    tensor = model.tensors[index]
    if index in model.nchw_shapes:
        if array.ndim < 2:
            _resolve(array.shape, model, index, path, layout, f"'{key}' samples")
        resolved = _resolve(array.shape[1:], model, index, path, layout, f"'{key}' samples")
        if resolved == "nchw":
            nchw = model.nchw_shapes[index]
            array = array.reshape((len(array),) + tuple(nchw[1:])).transpose(0, 2, 3, 1)
        return array.reshape(len(array), -1), resolved
    per_sample = tensor.num_elements
    if array.size == 0 or array.size % per_sample:
        raise UsageError(path, f"'{key}' has shape {list(array.shape)}: not a list of samples of "
                               f"{per_sample} values (the model input is {list(tensor.shape)})")
    return array.reshape(-1, per_sample), None


def output_from_cxx(values, model, index, layout):
    """Flat output values in the C++ order -> an array in `layout` ('nchw' = the ONNX shape)."""
    tensor = model.tensors[index]
    array = np.asarray(values).reshape(tensor.shape)
    if layout == "nchw" and index in model.nchw_shapes:
        array = array.transpose(0, 3, 1, 2)
    return array


def output_layout(resolved_inputs):
    """The layout outputs are given back in: the inputs' when any was resolved, else ONNX's."""
    chosen = [r for r in resolved_inputs if r is not None]
    return chosen[0] if chosen else "nchw"


def quant_text(tensor):
    return f"scale {float(tensor.scale_scalar):g}, zero point {tensor.zero_point_scalar}"


def quantize_input(x, tensor):
    """float -> the int8 input tensor (AffineQuantize: round(x / scale) + zero point, in float32)."""
    from . import fixedpoint as fp
    x = np.asarray(x, np.float32)
    if not tensor.is_quantized:
        return x
    info = np.iinfo(np.dtype(tensor.dtype))
    q = fp.tflite_round((x / np.float32(tensor.scale_scalar)).astype(np.float64)).astype(np.int64) \
        + tensor.zero_point_scalar
    return np.clip(q, info.min, info.max).astype(tensor.dtype)


def dequantize_output(q, tensor):
    if not tensor.is_quantized:
        return np.asarray(q, np.float32)
    return (np.asarray(q, np.int64) - tensor.zero_point_scalar).astype(np.float32) * np.float32(tensor.scale_scalar)


def to_tensor_dtype(array, tensor, path):
    """Values for `tensor` from user data: floats are quantized for a quantized tensor (and cast
    for a float one); integers must be the tensor's own type. Returns (array, was_float)."""
    array = np.asarray(array)
    if array.dtype.kind == "f":
        if tensor.dtype == "float32" or tensor.is_quantized:
            return quantize_input(array, tensor), True
    elif array.dtype == np.dtype(tensor.dtype):
        return array, False
    if tensor.is_quantized:
        expected = (f"{tensor.dtype} values already quantized ({quant_text(tensor)}), or float values "
                    f"that tinynet quantizes with them")
    else:
        expected = f"{tensor.dtype} values"
    raise UsageError(path, f"holds {array.dtype}; the model input '{escape(tensor.name)}' takes {expected}")
