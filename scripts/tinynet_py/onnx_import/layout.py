"""Layout tracking: ONNX is NCHW, tinynet (like TFLite) is NHWC.

The importer keeps, for every ONNX value, the axis order in which it is *stored*:
convolution-side 4-D values are stored NHWC, so a 4-D graph input of ONNX shape [N, C, H, W]
becomes an NHWC input [N, H, W, C] (model.description says so, input by input), and a 4-D graph
output is produced NHWC likewise.  ONNX Transpose nodes only relabel that order (no data
moves): a Keras/tf2onnx model whose input is already NHWC and goes through
Transpose(0, 3, 1, 2) keeps its NHWC input.  When Flatten/Reshape turns a 4-D feature map into
rows (C, H, W order in ONNX, H, W, C in memory here), the next Gemm/MatMul's weight columns are
permuted so the results are identical.  Only where an op needs another order than the stored one
(a graph output, a softmax over the last ONNX axis, operands of Concat/Add stored differently)
does data move: a GATHER for permuted columns, a TRANSPOSE for axes (stored_as).
"""

import numpy as np

NHWC = (0, 2, 3, 1)          # stored = onnx.transpose(NHWC) for an NCHW value
_ONNX_FLOAT = 1


class Value:
    """An ONNX value: its ONNX shape, and either constant contents (ONNX layout) or the IR
    tensor holding it, stored as onnx_value.transpose(order), and for rank 2 additionally
    with its columns permuted (stored[:, i] = onnx[:, colperm[i]])."""

    def __init__(self, shape, index=None, const=None, order=None, colperm=None, nonneg=False):
        self.shape = tuple(int(d) for d in shape)
        self.index = index
        self.const = const
        self.order = tuple(order) if order is not None else tuple(range(len(self.shape)))
        self.colperm = colperm
        self.nonneg = nonneg          # known >= 0 (after Relu): zero padding == -inf padding

    @property
    def stored_shape(self):
        return tuple(self.shape[a] for a in self.order)

    def flat_index(self):
        """stored flat position i holds ONNX flat element flat_index()[i]."""
        idx = np.arange(int(np.prod(self.shape, dtype=np.int64))).reshape(self.shape)
        idx = idx.transpose(self.order)
        if self.colperm is not None:
            idx = idx[:, self.colperm]
        return idx.reshape(-1)


def order_index(shape, order):
    return np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape).transpose(order).reshape(-1)



def stored_as(imp, v, order, why):
    """The IR tensor index of v stored in axis order `order` (no column permutation): free when
    the memory order already agrees (a RESHAPE at most); otherwise the data moves: a GATHER puts
    permuted columns back in order, a TRANSPOSE reorders the axes."""
    order = tuple(order)
    if v.order == order and v.colperm is None:
        return v.index
    want = order_index(v.shape, order)
    name, dtype = imp.tensors[v.index].name, imp.tensors[v.index].dtype
    if np.array_equal(v.flat_index(), want):
        shape = tuple(v.shape[a] for a in order)
        out = imp.new_tensor(f"{name}/reshaped", shape, dtype=dtype)
        imp.add_op("RESHAPE", [v.index], [out], new_shape=list(shape))
        return out
    index = v.index
    if v.colperm is not None:
        columns = imp.const_tensor(f"{name}/columns", np.argsort(v.colperm).astype(np.int32), "int32")
        index = imp.new_tensor(f"{name}/ordered", v.stored_shape, dtype=dtype)
        imp.add_op("GATHER", [v.index, columns], [index], axis=1, batch_dims=0)
        v = Value(v.shape, index=index, order=v.order, nonneg=v.nonneg)
        if v.order == order:
            return index
    if len(v.shape) > 6:
        fail = imp.node_fail if imp.node is not None else imp.fail
        fail(f"{why}; its input is stored in a different memory order (ONNX shape "
             f"{list(v.shape)} stored as axes {list(v.order)}) and TRANSPOSE handles 6 axes at most")
    perm = [v.order.index(a) for a in order]
    p = imp.const_tensor(f"{name}/perm", np.array(perm, np.int32), "int32", shared=True)
    out = imp.new_tensor(f"{name}/transposed", tuple(v.shape[a] for a in order), dtype=dtype)
    imp.add_op("TRANSPOSE", [index, p], [out])
    return out


def stored_constant(c, v):
    """Constant c (ONNX layout, broadcastable to v's shape) in v's stored layout, or None
    when it does not broadcast to v without growing it."""
    c = np.asarray(c, np.float32)
    try:
        if np.broadcast_shapes(c.shape, v.shape) != v.shape:
            return None
    except ValueError:
        return None
    c = c.reshape((1,) * (len(v.shape) - c.ndim) + c.shape).transpose(v.order)
    if v.colperm is not None:
        c = np.broadcast_to(c, v.stored_shape)[:, v.colperm]
    return np.ascontiguousarray(c)

def last_axis_vector(c, stored_shape):
    """c (stored layout) as a vector over the stored last axis, if it only varies there."""
    if c.ndim and any(d != 1 for d in c.shape[:-1]):
        return None
    channels = stored_shape[-1] if stored_shape else 1
    return np.broadcast_to(c.reshape(-1), (channels,)).astype(np.float32)


def graph_input(imp, vi):
    t = vi.type
    if not t.HasField("tensor_type"):
        imp.fail(f"graph input '{vi.name}' is not a tensor (sequences and maps are not supported)")
    if t.tensor_type.elem_type != _ONNX_FLOAT:
        from onnx import TensorProto
        dtype = TensorProto.DataType.Name(t.tensor_type.elem_type)
        imp.fail(f"graph input '{vi.name}' has dtype {dtype}; the ONNX importer reads "
                 f"float32 models (quantize them with tinynet afterwards)")
    if not t.tensor_type.HasField("shape"):
        imp.fail(f"graph input '{vi.name}' has no shape; tinynet needs static shapes: "
                 f"re-export the model with fixed input dimensions")
    dims = []
    for axis, d in enumerate(t.tensor_type.shape.dim):
        if d.HasField("dim_value") and d.dim_value > 0:
            dims.append(int(d.dim_value))
        elif axis == 0 and len(t.tensor_type.shape.dim) > 1:
            dims.append(1)              # an unknown batch dimension: one sample at a time
            imp.notes.append(f"input '{vi.name}': dynamic batch dimension "
                             f"'{d.dim_param or '?'}' fixed to 1")
        else:
            shown = [dd.dim_value if dd.HasField("dim_value") else (dd.dim_param or "?")
                     for dd in t.tensor_type.shape.dim]
            imp.fail(f"graph input '{vi.name}' has a dynamic shape {shown} (dimension "
                     f"{axis} is unknown); tinynet needs static shapes (only the batch "
                     f"dimension may be unknown, it becomes 1): re-export the model with "
                     f"fixed dimensions")
    if len(dims) == 4:
        readers = imp.consumed.get(vi.name, [])
        if readers and all(n is not None and n.op_type == "Transpose" for n in readers):
            order = (0, 1, 2, 3)
        else:
            order = NHWC
            imp.notes.append(f"input '{vi.name}': ONNX NCHW {dims} is read as NHWC "
                             f"{[dims[a] for a in NHWC]}")
    else:
        order = tuple(range(len(dims)))
    v = Value(dims, order=order)
    v.index = imp.new_tensor(vi.name, v.stored_shape)
    if order == NHWC:
        imp.nchw_shapes[v.index] = tuple(dims)
    imp.values[vi.name] = v
    return v

def graph_output(imp, vi):
    if vi.name not in imp.values:
        imp.fail(f"graph output '{vi.name}' is not produced by any node")
    v = imp.values[vi.name]
    if v.const is not None:
        imp.fail(f"graph output '{vi.name}' is a constant; tinynet needs outputs computed "
                 f"from the inputs")
    declared = vi.type.tensor_type.shape.dim if vi.type.HasField("tensor_type") else []
    if declared and len(declared) == len(v.shape):
        for axis, (d, mine) in enumerate(zip(declared, v.shape)):
            if d.HasField("dim_value") and d.dim_value > 0 and d.dim_value != mine and axis > 0:
                imp.fail(f"graph output '{vi.name}' is declared with shape "
                         f"{[x.dim_value for x in declared]} but computes to {list(v.shape)}")
    identity = tuple(range(len(v.shape)))
    if np.array_equal(v.flat_index(), order_index(v.shape, identity)):
        if v.stored_shape != v.shape:
            imp.tensors[v.index].name = f"{vi.name}/stored"
            out = imp.new_tensor(vi.name, v.shape, dtype=imp.tensors[v.index].dtype)
            imp.add_op("RESHAPE", [v.index], [out], new_shape=list(v.shape))
            return out
        return v.index
    if v.colperm is None and v.order == NHWC:
        imp.notes.append(f"output '{vi.name}': ONNX NCHW {list(v.shape)} is produced as "
                         f"NHWC {list(v.stored_shape)}")
        imp.nchw_shapes[v.index] = tuple(v.shape)
        return v.index
    # Stored in another order (a flattened NHWC feature map, a transposed value): the data
    # moves to ONNX's order.
    imp.tensors[v.index].name = f"{vi.name}/stored"
    out = stored_as(imp, v, identity, f"graph output '{vi.name}'")
    imp.tensors[out].name = vi.name
    return out
