# Independent reference for the TypeScript decoder's corpus tests: reads every corpus model with
# Python `onnx` (never our TS code) and writes test/corpora/manifest.json. Usage: reference.py CORPORA_DIR
from __future__ import annotations

import json
import math
import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

DEBIAN_ROOT = Path("/usr/share/libonnx-testdata/data")
HOSTILE_DIRS = {"escape-dotdot", "escape-absolute", "escape-symlink", "missing", "short"}
LAYER_CORPORA = {"torchvision", "external", "npm"}
ABS_SUM_TYPES = {1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 16}
MAX_TENSOR_LIST = 5000
LAYER_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "LSTM", "GRU", "RNN"}
RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
WORKERS = 2


# ---------------------------------------------------------------- graph walking

def subgraphs(node: onnx.NodeProto):
    """Subgraphs held by a node's attributes (`g`, then `graphs`), in attribute order."""
    for attr in node.attribute:
        if attr.HasField("g"):
            yield attr.g
        yield from attr.graphs


def walk_nodes(graph: onnx.GraphProto):
    """Depth-first file order: a node, then the nodes of its subgraphs, then the next node."""
    for node in graph.node:
        yield node
        for sub in subgraphs(node):
            yield from walk_nodes(sub)


def walk_graphs(graph: onnx.GraphProto):
    """The graph, then its nested subgraphs in the same depth-first order."""
    yield graph
    for node in graph.node:
        for sub in subgraphs(node):
            yield from walk_graphs(sub)


def is_onnx_domain(domain: str) -> bool:
    return domain in ("", "ai.onnx")


def op_key(node: onnx.NodeProto) -> str:
    return node.op_type if is_onnx_domain(node.domain) else f"{node.domain}::{node.op_type}"


# ---------------------------------------------------------------- tensors

def json_number(x: float):
    """JSON has no NaN/Infinity: write those as strings."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def abs_sum(tensor: TensorProto, base_dir: str | None):
    if tensor.data_type not in ABS_SUM_TYPES:
        return None
    if tensor.data_location == TensorProto.EXTERNAL and base_dir is None:
        return None
    arr = numpy_helper.to_array(tensor, base_dir=base_dir or "")
    with np.errstate(all="ignore"):
        return json_number(float(np.abs(arr.astype(np.float64)).sum()))


def storage(t: TensorProto) -> str:
    if t.data_location == TensorProto.EXTERNAL:
        return "external"
    if len(t.raw_data) > 0:
        return "raw"
    if len(t.string_data) > 0:
        return "strings"
    if any(len(f) for f in (t.float_data, t.int32_data, t.int64_data, t.double_data, t.uint64_data)):
        return "typed"
    return "empty"


def external_length(t: TensorProto) -> int:
    for entry in t.external_data:
        if entry.key == "length":
            return int(entry.value)
    return 0


def with_abs_sum(info: dict, tensor: TensorProto, base_dir: str | None) -> dict:
    try:
        value = abs_sum(tensor, base_dir)
    except Exception as exc:  # noqa: BLE001 - a broken tensor is reported, not fatal
        info["absSumError"] = f"{type(exc).__name__}: {exc}"
        return info
    if value is not None:
        info["absSum"] = value
    return info


def initializer_info(t: TensorProto, base_dir: str | None) -> dict:
    info = {"name": t.name, "dataType": t.data_type, "dims": list(t.dims), "storage": storage(t),
            "rawLength": len(t.raw_data), "externalLength": external_length(t)}
    return with_abs_sum(info, t, base_dir)


def constant_tensors(graph: onnx.GraphProto, base_dir: str | None) -> list:
    out = []
    for node in walk_nodes(graph):
        if node.op_type != "Constant" or not is_onnx_domain(node.domain):
            continue
        for attr in node.attribute:
            if attr.name == "value" and attr.HasField("t"):
                label = node.name or (node.output[0] if node.output else "")
                info = {"node": label, "dataType": attr.t.data_type, "dims": list(attr.t.dims)}
                out.append(with_abs_sum(info, attr.t, base_dir))
    return out


# ---------------------------------------------------------------- constants and shapes (for layers)

def constant_attr_dims(node: onnx.NodeProto):
    """Shape of a Constant node's output, whatever attribute form holds it."""
    for attr in node.attribute:
        if attr.name in ("value", "sparse_value"):
            return list(attr.t.dims) if attr.name == "value" else list(attr.sparse_tensor.dims)
        if attr.name in ("value_float", "value_int", "value_string"):
            return []
        if attr.name == "value_floats":
            return [len(attr.floats)]
        if attr.name == "value_ints":
            return [len(attr.ints)]
        if attr.name == "value_strings":
            return [len(attr.strings)]
    return None


class Scope:
    """Constant lookup for one graph, falling back to enclosing graphs (names defined here shadow)."""

    def __init__(self, graph: onnx.GraphProto, parent: "Scope | None"):
        self.parent = parent
        self.inits = {t.name: list(t.dims) for t in graph.initializer}
        self.producers = {}
        for node in graph.node:
            for out in node.output:
                self.producers[out] = node
        self.defined = {i.name for i in graph.input} | set(self.producers)

    def const_dims(self, name: str, seen: set | None = None):
        if not name:
            return None
        if name in self.inits:
            return self.inits[name]
        node = self.producers.get(name)
        if node is not None and is_onnx_domain(node.domain):
            if node.op_type == "Constant":
                return constant_attr_dims(node)
            if node.op_type == "Identity" and node.input:
                seen = set() if seen is None else seen
                if id(node) in seen:  # Identity cycle in a malformed graph
                    return None
                seen.add(id(node))
                return self.const_dims(node.input[0], seen)
        if name in self.defined or self.parent is None:
            return None
        return self.parent.const_dims(name, seen)


def known_symbol(d) -> int | None:
    """A named symbolic dim counts as 1; a dim inference could not determine (unk__N) is None."""
    return 1 if d.dim_param and not d.dim_param.startswith("unk__") else None


def value_shapes(graph: onnx.GraphProto) -> dict:
    """name -> dims (named symbolic -> 1, undetermined -> None), or None when unknown; all graphs."""
    shapes = {}
    for g in walk_graphs(graph):
        for vi in list(g.input) + list(g.value_info) + list(g.output):
            tt = vi.type.tensor_type
            if not vi.type.HasField("tensor_type") or not tt.HasField("shape"):
                shapes.setdefault(vi.name, None)
                continue
            dims = [d.dim_value if d.HasField("dim_value") else known_symbol(d) for d in tt.shape.dim]
            if shapes.get(vi.name) is None:
                shapes[vi.name] = dims
    return shapes


def prod(dims) -> int:
    result = 1
    for d in dims:
        result *= int(d)
    return result


def attr_int(node: onnx.NodeProto, name: str, default: int) -> int:
    for attr in node.attribute:
        if attr.name == name:
            return int(attr.i)
    return default


def tensor_elements(name: str, scope: Scope, shapes: dict) -> int:
    """Elements of an optional input (bias): constant dims, else inferred shape, else 0."""
    if not name:
        return 0
    dims = scope.const_dims(name)
    if dims is None:
        dims = shapes.get(name)
    return prod(dims) if dims is not None else 0


def input_name(node: onnx.NodeProto, i: int) -> str:
    return node.input[i] if len(node.input) > i else ""


# ---------------------------------------------------------------- layers

def layer_weight(node: onnx.NodeProto, scope: Scope):
    """Weight dims if this node is a prunable layer with a constant weight, else None."""
    if node.op_type not in LAYER_OPS or not is_onnx_domain(node.domain):
        return None
    weight = scope.const_dims(input_name(node, 1))
    if weight is None:
        return None
    if node.op_type == "MatMul" and len(weight) < 2:
        return None
    if node.op_type in RNN_GATES and scope.const_dims(input_name(node, 2)) is None:
        return None
    return weight


def rnn_macs_params(node, w, scope, shapes, in_shape):
    r = scope.const_dims(input_name(node, 2))
    hidden = attr_int(node, "hidden_size", r[2] if len(r) > 2 else 0)
    params = prod(w) + prod(r) + tensor_elements(input_name(node, 3), scope, shapes)
    if in_shape is None or len(in_shape) < 3 or None in in_shape[:2]:
        return None, params
    seq, batch = (in_shape[1], in_shape[0]) if attr_int(node, "layout", 0) == 1 else in_shape[:2]
    macs = seq * batch * RNN_GATES[node.op_type] * hidden * (w[2] + hidden) * w[0]
    return macs, params


def macs_params(node, w, scope, shapes, in_shape, out_shape):
    op = node.op_type
    if op in RNN_GATES:
        return rnn_macs_params(node, w, scope, shapes, in_shape)
    bias = tensor_elements(input_name(node, 2), scope, shapes) if op != "MatMul" else 0
    params = prod(w) + bias
    if op == "Conv":
        basis, k = out_shape, w[1] * prod(w[2:])
    elif op == "ConvTranspose":
        basis, k = in_shape, w[1] * prod(w[2:])
    elif op == "Gemm":
        basis, k = out_shape, w[1] if attr_int(node, "transB", 0) else w[0]
    else:  # MatMul
        basis, k = out_shape, w[-2]
    macs = None if basis is None or None in basis else prod(basis) * k
    return macs, params


def make_layer(node, w, scope, shapes) -> dict:
    in_shape = shapes.get(input_name(node, 0))
    out_shape = shapes.get(node.output[0]) if node.output else None
    macs, params = macs_params(node, w, scope, shapes, in_shape, out_shape)
    is_conv = node.op_type in ("Conv", "ConvTranspose")
    return {
        "id": node.name or input_name(node, 1), "op": node.op_type, "weight": input_name(node, 1),
        "weightShape": w, "group": attr_int(node, "group", 1) if is_conv else 1,
        "kernel": w[2:] if is_conv else [], "inputShape": in_shape, "outputShape": out_shape,
        "params": params, "macs": macs,
    }


def collect_layers(graph, scope_parent, shapes, out: list) -> None:
    scope = Scope(graph, scope_parent)
    for node in graph.node:
        w = layer_weight(node, scope)
        if w is not None:
            out.append(make_layer(node, w, scope, shapes))
        for sub in subgraphs(node):
            collect_layers(sub, scope, shapes, out)


def dedupe_ids(layers: list) -> None:
    seen = {}
    for layer in layers:
        n = seen.get(layer["id"], 0) + 1
        seen[layer["id"]] = n
        if n > 1:
            layer["id"] = f"{layer['id']}#{n}"


def unknown_dim_values(graph: onnx.GraphProto) -> set:
    """Main-graph values whose inferred shape has a dim that inference could not name or size."""
    out = set()
    for vi in list(graph.value_info) + list(graph.output):
        dims = vi.type.tensor_type.shape.dim
        if any(not d.HasField("dim_value") and (not d.dim_param or d.dim_param.startswith("unk__")) for d in dims):
            out.add(vi.name)
    return out


def batch_only_symbols(graph: onnx.GraphProto) -> bool:
    """True when every symbolic input dim is the leading (batch) one, so setting it to 1 is exact."""
    inits = {t.name for t in graph.initializer}
    for vi in graph.input:
        if vi.name in inits:
            continue
        for i, d in enumerate(vi.type.tensor_type.shape.dim):
            if not d.HasField("dim_value") and i != 0:
                return False
    return True


def observed_shapes(model: onnx.ModelProto, names: list) -> dict:
    """Shapes onnxruntime really produces (symbolic batch = 1) for values inference left unknown."""
    import numpy as np
    import onnxruntime as ort
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.extend([onnx.ValueInfoProto(name=n) for n in names])
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: unused-initializer warnings are noise here
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for i in session.get_inputs():
        shape = [d if isinstance(d, int) else 1 for d in i.shape]
        dtype = np.float32 if "float" in i.type else np.int64
        feeds[i.name] = rng.standard_normal(shape).astype(dtype) if dtype == np.float32 else np.zeros(shape, dtype)
    values = session.run(names, feeds)
    return {n: list(v.shape) for n, v in zip(names, values)}


def compute_layers(path: Path, has_external: bool) -> list:
    model = onnx.load(str(path), load_external_data=has_external)
    # data_prop follows Shape → Gather → Concat → Reshape chains, as a reader of the graph would.
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    shapes = value_shapes(inferred.graph)
    # Where inference still leaves dims unknown (e.g. torchvision's channel shuffle), ask
    # onnxruntime for the real shapes, when the model's only symbolic dim is the batch.
    unknown = sorted(unknown_dim_values(inferred.graph))
    if unknown and batch_only_symbols(model.graph):
        try:
            shapes.update(observed_shapes(model, unknown))
        except Exception as exc:  # noqa: BLE001 - keep the inferred shapes
            print(f"[reference] {path.name}: onnxruntime could not run ({exc}); keeping inferred shapes", flush=True)
    layers = []
    collect_layers(inferred.graph, None, shapes, layers)
    dedupe_ids(layers)
    return layers


# ---------------------------------------------------------------- one model

def describe_model(model: onnx.ModelProto, base_dir: str | None) -> dict:
    graphs = list(walk_graphs(model.graph))
    nodes = list(walk_nodes(model.graph))
    inits = [t for g in graphs for t in g.initializer]
    op_types = {}
    for node in nodes:
        op_types[op_key(node)] = op_types.get(op_key(node), 0) + 1
    info = {
        "irVersion": model.ir_version,
        "opsets": {o.domain: o.version for o in model.opset_import},
        "producer": model.producer_name,
        "nodeCount": len(nodes),
        "functionCount": len(model.functions),
        "functionNodeCount": sum(len(list(walk_nodes(f))) for f in model.functions),
        "initializerCount": len(inits),
        "sparseInitializerCount": sum(len(g.sparse_initializer) for g in graphs),
        "opTypes": op_types,
        "rawBytes": sum(len(t.raw_data) for t in inits),
    }
    if len(inits) <= MAX_TENSOR_LIST:
        info["initializers"] = [initializer_info(t, base_dir) for t in inits]
    constants = constant_tensors(model.graph, base_dir)
    if len(constants) <= MAX_TENSOR_LIST:
        info["constantTensors"] = constants
    return info


def process(task: tuple) -> dict:
    corpus, path, rel = task
    entry = {"corpus": corpus, "path": path, "relPath": rel}
    p = Path(path)
    external = corpus == "external"
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - any failure to parse is a reference result
        return {**entry, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
    entry["ok"] = True
    try:
        entry.update(describe_model(model, str(p.parent) if external else None))
        if corpus in LAYER_CORPORA:
            entry["layers"] = compute_layers(p, external)
    except Exception as exc:  # noqa: BLE001
        entry["referenceError"] = f"{type(exc).__name__}: {exc}"
    return entry


# ---------------------------------------------------------------- corpus listing and running

def list_tasks(corpora: Path) -> tuple[list, dict]:
    roots = {
        "node-tests": corpora / "node-tests", "debian": DEBIAN_ROOT,
        "torchvision": corpora / "torchvision", "external": corpora / "external", "npm": corpora / "npm",
    }
    tasks = []
    for corpus, root in roots.items():
        for f in sorted(root.rglob("*.onnx")):
            rel = f.relative_to(root)
            if corpus == "external" and rel.parts[0] in HOSTILE_DIRS:
                continue
            tasks.append((corpus, str(f), rel.as_posix()))
    return tasks, {k: str(v) for k, v in roots.items()}


def run_isolated(task: tuple) -> dict:
    """Fallback for a file that kills its worker process (e.g. a crash inside onnx's C++ code)."""
    with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as pool:
        try:
            return pool.submit(process, task).result()
        except BrokenProcessPool as exc:
            corpus, path, rel = task
            return {"corpus": corpus, "path": path, "relPath": rel, "ok": False,
                    "error": f"python onnx crashed the process: {exc}"}


def run_all(tasks: list) -> list:
    # Big files first so the two workers finish together; results are re-sorted by the caller.
    order = sorted(range(len(tasks)), key=lambda i: -Path(tasks[i][1]).stat().st_size)
    results = [None] * len(tasks)
    with ProcessPoolExecutor(WORKERS, mp_context=mp.get_context("fork")) as pool:
        futures = {i: pool.submit(process, tasks[i]) for i in order}
        for i, fut in futures.items():
            try:
                results[i] = fut.result()
            except BrokenProcessPool:
                pass  # redone below, one file per process
    if None in results:
        print("[reference] a worker crashed; redoing the unfinished files one by one", flush=True)
    for i, res in enumerate(results):
        if res is None:
            results[i] = run_isolated(tasks[i])
    return results


def hostile_list(corpora: Path) -> list:
    out = []
    for name in sorted(HOSTILE_DIRS):
        folder = corpora / "external" / name
        readme = folder / "README"
        out.append({"name": name, "path": str(folder / "model.onnx"),
                    "readme": readme.read_text().strip() if readme.exists() else ""})
    return out


def summary(entries: list) -> str:
    counts = {}
    for e in entries:
        c = counts.setdefault(e["corpus"], [0, 0, 0])
        c[0] += 1
        c[1] += 0 if e["ok"] else 1
        c[2] += 1 if "referenceError" in e else 0
    return ", ".join(f"{k}: {n} files ({bad} not loadable, {err} reference errors)"
                     for k, (n, bad, err) in counts.items())


def main() -> None:
    corpora = Path(sys.argv[1] if len(sys.argv) > 1 else "test/corpora").resolve()
    t0 = time.time()
    tasks, roots = list_tasks(corpora)
    entries = run_all(tasks)
    manifest = {
        "generator": "scripts/corpora/reference.py",
        "onnxVersion": onnx.__version__,
        "roots": roots,
        "hostile": hostile_list(corpora),
        "entries": entries,
    }
    with open(corpora / "manifest.json", "w") as f:
        json.dump(manifest, f, allow_nan=False, separators=(",", ":"))
    print(f"[reference] {summary(entries)}", flush=True)
    print(f"[reference] wrote {corpora / 'manifest.json'} ({len(entries)} entries, {time.time() - t0:.1f} s)")


if __name__ == "__main__":
    main()
