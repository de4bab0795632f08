"""Reading an ONNX file: the protobuf, its external data (only with --allow-external-data and
only from the model's folder), initializers and node attributes."""

import hashlib

from ..errors import ModelError, TinynetError, onnx_missing


def _external_tensors(graph):
    """Every TensorProto of the graph and its subgraphs (initializers, node attributes) that keeps
    its data in an external file."""
    for t in graph.initializer:
        if t.data_location == 1:
            yield t
    for node in graph.node:
        for a in node.attribute:
            for t in ([a.t] if a.HasField("t") else []) + list(a.tensors):
                if t.data_location == 1:
                    yield t
            for g in ([a.g] if a.HasField("g") else []) + list(a.graphs):
                yield from _external_tensors(g)


def _load_external_data(proto, path, allowed):
    """Reads the tensors an ONNX file keeps in external files, if --allow-external-data says so,
    and only from files inside the model's folder: a location that is absolute, names a parent
    folder, or resolves (through symlinks) outside the folder is refused, so that a model cannot
    pull /etc/... or ~/.ssh/... into a header's weights."""
    import os
    from ..safe_text import escape
    tensors = list(_external_tensors(proto.graph))
    if not tensors:
        return
    if not allowed:
        raise ModelError(path, f"{len(tensors)} tensor(s) keep their data in external files "
                               f"(e.g. '{escape(tensors[0].name)}'); tinynet reads external data only "
                               f"with --allow-external-data, and only from the model's folder")
    folder = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    for t in tensors:
        location = next((e.value for e in t.external_data if e.key == "location"), "")
        shown = escape(location)
        parts = location.replace("\\", "/").split("/")
        if not location or os.path.isabs(location) or location.startswith(("/", "\\")) or \
                (len(location) > 1 and location[1] == ":") or ".." in parts:
            raise ModelError(path, f"tensor '{escape(t.name)}': external data location '{shown}' is "
                                   f"absolute or leaves the model's folder (refused)")
        target = os.path.realpath(os.path.join(folder, location))
        if os.path.commonpath([folder, target]) != folder or target == folder:
            raise ModelError(path, f"tensor '{escape(t.name)}': external data location '{shown}' "
                                   f"resolves outside the model's folder (refused)")
        if not os.path.isfile(target):
            raise ModelError(path, f"tensor '{escape(t.name)}': external data file '{shown}' "
                                   f"not found next to the model")
    try:
        from onnx.external_data_helper import load_external_data_for_model
        load_external_data_for_model(proto, folder)
    except Exception as e:
        raise ModelError(path, f"cannot load the model's external data: {escape(e)}") from None


def read_model(path, allow_external_data=False):
    """The ModelProto of the ONNX file `path` (external data loaded when allowed) and the file's
    sha256."""
    path = str(path)
    try:
        import onnx
    except ImportError:
        raise TinynetError(path, onnx_missing()) from None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise TinynetError(path, f"cannot read the model: {e.strerror or e}") from None
    try:
        proto = onnx.load_model_from_string(data)
    except Exception as e:                       # protobuf's DecodeError and friends
        raise ModelError(path, f"not an ONNX model: cannot parse it as an ONNX protobuf "
                               f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else 'no detail'})") from None
    if not proto.HasField("graph") or len(proto.graph.node) == 0:
        raise ModelError(path, "not an ONNX model, or an empty one: it has no graph nodes")
    _load_external_data(proto, path, allow_external_data)
    return proto, hashlib.sha256(data).hexdigest()


def opset(proto):
    """The default domain's opset version (1 when the model does not say)."""
    version = 1
    for imp in proto.opset_import:
        if imp.domain in ("", "ai.onnx"):
            version = int(imp.version)
    return version


def initializers(graph, path):
    """name -> numpy array of every initializer."""
    from onnx import numpy_helper
    result = {}
    for init in graph.initializer:
        try:
            result[init.name] = numpy_helper.to_array(init)
        except Exception as e:
            raise ModelError(path, f"initializer '{init.name}' cannot be read ({e})") from None
    return result


def attributes(node):
    """A node's attributes as a dict of Python values (strings decoded)."""
    from onnx import helper
    result = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        result[a.name] = v
    return result
