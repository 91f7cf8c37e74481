#!/usr/bin/env python3
# Independent check of PruneMap's pruned-model writer (src/core/prune/write.ts), with Python's onnx,
# numpy and onnxruntime and a protobuf walker of its own (no code shared with the engine).
#
# stdin: a JSON list of jobs, one per pruned model:
#   {"name": str, "dense": MODEL, "pruned": PRUNED_MODEL, "layers": [PLAN LAYER IDS],
#    "inputs": {NAME: {"file": RAW_FILE, "dtype": "float32"|"int64", "shape": [..]}},
#    "outputs_dir": DIR (optional: the pruned model's ORT outputs are saved there as raw files)}
# Layer ids are resolved here, as docs/cli.md defines them (node name, or the weight input's name
# for a nameless node; "#2", "#3" … for repeats in depth-first order), to the weight tensors behind
# input 1 (and input 2, R, of LSTM/GRU/RNN) through Identity chains, initializers and Constant nodes
# of the node's graph and its enclosing graphs.
#
# For each job:
#   (a) untouched: every tensor of the model (initializers and Constant tensors of every graph) that
#       is not a planned weight is byte-identical in the two models;
#   (b) planned: for every planned weight, pruned values equal the dense ones where nonzero and are 0
#       elsewhere (so the pruned model = dense model with some weights zeroed);
#   (c) outputs: the pruned model runs in onnxruntime, and its outputs equal those of the dense model
#       with the same zeros applied by numpy (mask = pruned == 0) through onnx.numpy_helper, rerun in
#       onnxruntime, within 1e-5 relative;
#   (d) bytes: the pruned file (and each external data file) has the size of the dense one and
#       differs from it only inside the planned weights' payload bytes (raw_data, float_data,
#       double_data, value_floats, or their external data ranges), located by walking the protobuf.
# stdout: a JSON list, one result per job:
#   {"name", "ok", "error", "untouched": {"ok", "tensors", "mismatched": [..]},
#    "planned": {"ok", "tensors": [{"layer", "tensor", "size", "zeros", "newly_zeroed", "bad"}]},
#    "outputs": {"ok", "max_abs_diff", "scale", "files": {NAME: {"file", "dtype", "shape"}}},
#    "bytes": {"ok", "files": [{"file", "size_equal", "differing", "outside"}]}}
# Exits 0 whatever the results; non-zero only when the input itself is bad.
from __future__ import annotations

import json
import os
import sys
import traceback

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

LAYER_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "LSTM", "GRU", "RNN"}


# ---- Structure: tensors by structural path, layers, weight resolution ----

def graph_attrs(node):
    """(attribute index, 'g' | ('graphs', i), graph) for every subgraph of a node."""
    for k, a in enumerate(node.attribute):
        if a.type == onnx.AttributeProto.GRAPH:
            yield k, ("g",), a.g
        elif a.type == onnx.AttributeProto.GRAPHS:
            for i, g in enumerate(a.graphs):
                yield k, ("graphs", i), g


def all_tensors(graph, path=("graph",)):
    """(structural path, TensorProto or list of floats, kind) of every initializer and Constant value."""
    for i, t in enumerate(graph.initializer):
        yield path + ("initializer", i), t
    for j, node in enumerate(graph.node):
        for k, a in enumerate(node.attribute):
            if a.type == onnx.AttributeProto.TENSOR:
                yield path + ("node", j, "attribute", k, "t"), a.t
            elif a.type == onnx.AttributeProto.FLOATS and node.op_type == "Constant":
                yield path + ("node", j, "attribute", k, "floats"), list(a.floats)
        for k, sel, g in graph_attrs(node):
            yield from all_tensors(g, path + ("node", j, "attribute", k) + sel)


def find_weight(name, scopes):
    """Structural path of the constant behind `name` (innermost scope last), or None."""
    seen = set()
    while name and name not in seen:
        seen.add(name)
        nxt = None
        for graph, path in reversed(scopes):
            for i, t in enumerate(graph.initializer):
                if t.name == name:
                    return path + ("initializer", i)
            if any(v.name == name for v in graph.input):
                return None
        for graph, path in reversed(scopes):
            for j, node in enumerate(graph.node):
                if name in node.output:
                    if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                        for k, a in enumerate(node.attribute):
                            if a.name == "value":
                                return path + ("node", j, "attribute", k, "t")
                            if a.name == "value_floats":
                                return path + ("node", j, "attribute", k, "floats")
                        return None
                    if node.op_type == "Identity" and node.domain in ("", "ai.onnx") and len(node.input) == 1:
                        nxt = node.input[0]
                        break
                    return None
            if nxt is not None:
                break
        if nxt is None:
            return None
        name = nxt
    return None


def layers(graph, scopes=None, path=("graph",)):
    """(id before de-duplication, [weight paths]) of every prunable layer, depth-first in file order."""
    scopes = (scopes or []) + [(graph, path)]
    for j, node in enumerate(graph.node):
        if node.op_type in LAYER_OPS and node.domain in ("", "ai.onnx") and len(node.input) > 1 and node.input[1]:
            w = find_weight(node.input[1], scopes)
            if w is not None:
                weights = [w]
                if node.op_type in ("LSTM", "GRU", "RNN") and len(node.input) > 2:
                    r = find_weight(node.input[2], scopes)
                    if r is not None:
                        weights.append(r)
                yield (node.name or node.input[1]), weights
        for k, sel, g in graph_attrs(node):
            yield from layers(g, scopes, path + ("node", j, "attribute", k) + sel)


def layer_weights(model):
    """Layer id (with #n for repeats) → weight paths."""
    out, seen = {}, {}
    for lid, weights in layers(model.graph):
        n = seen.get(lid, 0) + 1
        seen[lid] = n
        out[lid if n == 1 else f"{lid}#{n}"] = weights
    return out


def tensor_array(obj, model_dir):
    if isinstance(obj, list):
        return np.asarray(obj, dtype=np.float32)
    return numpy_helper.to_array(obj, base_dir=model_dir)


def tensor_at(model, path):
    obj = model
    i = 0
    while i < len(path):
        key = path[i]
        if key == "graph":
            obj = obj.graph
            i += 1
        elif key in ("initializer", "node", "attribute", "graphs"):
            obj = getattr(obj, key)[path[i + 1]]
            i += 2
        elif key == "g":
            obj = obj.g
            i += 1
        elif key == "t":
            obj = obj.t
            i += 1
        elif key == "floats":
            return list(obj.floats)
        else:
            raise ValueError(f"bad path {path}")
    return obj


# ---- Bytes: a protobuf walker of its own, giving payload byte ranges by structural path ----

def varint(buf, pos):
    result, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def fields(buf, start, end):
    """(field, wire, value_start, value_end) of each field of the message in buf[start:end]."""
    pos = start
    while pos < end:
        key, pos = varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, nxt = varint(buf, pos)
            yield field, wire, pos, nxt
        elif wire == 1:
            yield field, wire, pos, pos + 8
            nxt = pos + 8
        elif wire == 5:
            yield field, wire, pos, pos + 4
            nxt = pos + 4
        elif wire == 2:
            n, p = varint(buf, pos)
            yield field, wire, p, p + n
            nxt = p + n
        else:
            raise ValueError(f"wire type {wire} at {pos}")
        pos = nxt


def payload_ranges(buf):
    """Structural path → [(start, end)] of the value bytes of each tensor (raw/float/double data, floats)."""
    out = {}

    def tensor(path, s, e):
        out[path] = [(a, b) for f, w, a, b in fields(buf, s, e) if f in (9, 4, 10) and w in (2, 5, 1)]

    def graph(path, s, e):
        ni = ii = 0
        for f, w, a, b in fields(buf, s, e):
            if f == 5 and w == 2:
                tensor(path + ("initializer", ii), a, b)
                ii += 1
            elif f == 1 and w == 2:
                node(path + ("node", ni), a, b)
                ni += 1

    def node(path, s, e):
        k = 0
        for f, w, a, b in fields(buf, s, e):
            if f == 5 and w == 2:
                attribute(path + ("attribute", k), a, b)
                k += 1

    def attribute(path, s, e):
        gi = 0
        floats = []
        for f, w, a, b in fields(buf, s, e):
            if f == 5 and w == 2:
                tensor(path + ("t",), a, b)
            elif f == 6 and w == 2:
                graph(path + ("g",), a, b)
            elif f == 11 and w == 2:
                graph(path + ("graphs", gi), a, b)
                gi += 1
            elif f == 7 and w in (2, 5):
                floats.append((a, b))
        if floats:
            out[path + ("floats",)] = floats

    for f, w, a, b in fields(buf, 0, len(buf)):
        if f == 7 and w == 2:
            graph(("graph",), a, b)
    return out


def external_info(t):
    if not isinstance(t, onnx.TensorProto) or t.data_location != onnx.TensorProto.EXTERNAL:
        return None
    kv = {e.key: e.value for e in t.external_data}
    return kv["location"], int(kv.get("offset", 0)), int(kv["length"]) if "length" in kv else None


def diff_outside(dense_file, pruned_file, allowed):
    a = np.fromfile(dense_file, dtype=np.uint8)
    b = np.fromfile(pruned_file, dtype=np.uint8)
    res = {"file": os.path.basename(pruned_file), "size_equal": a.size == b.size, "differing": None, "outside": None}
    if a.size != b.size:
        return res
    diff = np.nonzero(a != b)[0]
    ok = np.zeros(a.size, dtype=bool)
    for s, e in allowed:
        ok[s:e] = True
    res["differing"] = int(diff.size)
    res["outside"] = int((~ok[diff]).sum())
    return res


# ---- Running ----

def feeds_of(job):
    feeds = {}
    for name, spec in job.get("inputs", {}).items():
        feeds[name] = np.fromfile(spec["file"], dtype=spec["dtype"]).reshape(spec["shape"])
    return feeds


def check(job):
    res = {"name": job["name"], "ok": False, "error": None}
    dense_dir = os.path.dirname(os.path.abspath(job["dense"]))
    pruned_dir = os.path.dirname(os.path.abspath(job["pruned"]))
    dense = onnx.load(job["dense"], load_external_data=False)
    pruned = onnx.load(job["pruned"], load_external_data=False)

    by_layer = layer_weights(dense)
    planned = {}
    for lid in job["layers"]:
        if lid not in by_layer:
            raise ValueError(f"plan layer {lid!r} not found by the reference (layers: {sorted(by_layer)[:10]}…)")
        for w in by_layer[lid]:
            planned.setdefault(w, lid)

    # (a) untouched tensors
    dense_tensors = dict((p, t) for p, t in all_tensors(dense.graph))
    pruned_tensors = dict((p, t) for p, t in all_tensors(pruned.graph))
    mismatched = []
    if set(dense_tensors) != set(pruned_tensors):
        mismatched.append("the two models have different tensor sets")
    count = 0
    for p, t in dense_tensors.items():
        if p in planned or p not in pruned_tensors:
            continue
        count += 1
        a, b = tensor_array(t, dense_dir), tensor_array(pruned_tensors[p], pruned_dir)
        if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
            mismatched.append("/".join(map(str, p)))
    res["untouched"] = {"ok": not mismatched, "tensors": count, "mismatched": mismatched[:20]}

    # (b) planned tensors, and the dense model with those zeros applied by numpy
    masked = onnx.load(job["dense"])  # with external data, so the masked copy is self-contained
    tensors_info, planned_ok = [], True
    for p, lid in planned.items():
        a = tensor_array(dense_tensors[p], dense_dir)
        b = tensor_array(pruned_tensors[p], pruned_dir)
        same_shape = a.shape == b.shape and a.dtype == b.dtype
        zero = b == 0
        bad = int(np.sum(~zero & (b != a))) if same_shape else -1
        tensors_info.append({
            "layer": lid, "tensor": getattr(dense_tensors[p], "name", "/".join(map(str, p))), "size": int(a.size),
            "zeros": int(zero.sum()), "newly_zeroed": int(np.sum(zero & (a != 0))), "bad": bad,
        })
        planned_ok &= bad == 0
        target = tensor_at(masked, p)
        applied = np.where(zero, np.zeros_like(a), a)
        if isinstance(target, list):
            attr = tensor_at(masked, p[:-1])
            del attr.floats[:]
            attr.floats.extend(applied.astype(np.float32).tolist())
        else:
            target.CopyFrom(numpy_helper.from_array(applied, target.name))
    res["planned"] = {"ok": bool(planned_ok), "tensors": tensors_info}

    # (c) outputs: the pruned file in ORT vs the numpy-masked dense model in ORT
    feeds = feeds_of(job)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    got = ort.InferenceSession(job["pruned"], opts, providers=["CPUExecutionProvider"])
    want = ort.InferenceSession(masked.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names = [o.name for o in got.get_outputs()]
    outs_got = got.run(names, feeds)
    outs_want = want.run(names, feeds)
    max_abs, scale = 0.0, 0.0
    files = {}
    for name, g, w in zip(names, outs_got, outs_want):
        g, w = np.asarray(g), np.asarray(w)
        if g.dtype.kind == "f":
            max_abs = max(max_abs, float(np.max(np.abs(g.astype(np.float64) - w))) if g.size else 0.0)
            scale = max(scale, float(np.max(np.abs(w))) if w.size else 0.0)
        elif not np.array_equal(g, w):
            max_abs = float("inf")
        if job.get("outputs_dir"):
            f = os.path.join(job["outputs_dir"], f"{job['name']}.{len(files)}.out")
            np.ascontiguousarray(g).tofile(f)
            files[name] = {"file": f, "dtype": str(g.dtype), "shape": list(g.shape)}
    res["outputs"] = {"ok": max_abs <= 1e-5 * max(scale, 1e-30) or max_abs == 0.0, "max_abs_diff": max_abs, "scale": scale, "files": files}

    # (d) bytes: only the planned payloads differ
    dense_buf = np.fromfile(job["dense"], dtype=np.uint8).tobytes()
    ranges = payload_ranges(dense_buf)
    allowed_model, allowed_ext = [], {}
    for p in planned:
        info = external_info(dense_tensors[p])
        if info:
            loc, off, length = info
            if length is None:
                length = os.path.getsize(os.path.join(dense_dir, loc)) - off
            allowed_ext.setdefault(loc, []).append((off, off + length))
        else:
            allowed_model.extend(ranges.get(p, []))
    byte_files = [diff_outside(job["dense"], job["pruned"], allowed_model)]
    locations = sorted({external_info(t)[0] for t in dense_tensors.values() if external_info(t)})
    for loc in locations:
        byte_files.append(diff_outside(os.path.join(dense_dir, loc), os.path.join(pruned_dir, loc), allowed_ext.get(loc, [])))
    res["bytes"] = {"ok": all(f["size_equal"] and f["outside"] == 0 for f in byte_files), "files": byte_files}

    res["ok"] = res["untouched"]["ok"] and res["planned"]["ok"] and res["outputs"]["ok"] and res["bytes"]["ok"]
    return res


def main():
    jobs = json.load(sys.stdin)
    results = []
    for job in jobs:
        try:
            results.append(check(job))
        except Exception as exc:  # one bad job must not hide the others' results
            results.append({"name": job.get("name"), "ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()})
    json.dump(results, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
