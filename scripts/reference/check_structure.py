#!/usr/bin/env python3
"""Independent check that a pruned ONNX model has the structure its plan asks for.

Written from DOMAIN.md §3 (what each scheme's mask looks like), docs/plan.md (the plan
format and each scheme's parameters) and docs/cli.md (what a layer is and how its id is formed),
NOT from PruneMap's TypeScript, so that tests comparing the two catch a misreading on either side.

    .venv-ref/bin/python scripts/reference/check_structure.py --dense M.onnx --pruned P.onnx --plan M.prune.json [--json]
    .venv-ref/bin/python scripts/reference/check_structure.py --batch < JOBS.json   # [{"dense", "pruned", "plan"}, ...]
    .venv-ref/bin/python scripts/reference/check_structure.py --self-test

For every layer in the plan: find its weight tensor(s) in both models the way docs/cli.md defines
layers (node name, else the weight input's name; `#2`, `#3` for repeats; weights that are
initializers of the graph or an enclosing one, or Constant outputs, possibly behind Identity nodes;
external data is loaded), view them as GEMM matrices [F, C, K] (DOMAIN.md §2), derive the mask —
a weight is *kept* when its pruned value is non-zero, *pruned* when it is zero but the dense value
is not, and *free* when the dense value is already zero (free weights may count either way) — and
check:
  - the scheme's structure (filter rows, input channels, 3×3 patterns from a library of at most
    `patterns` 4-of-9 shapes, block-punched units, block-bcr rows/columns inside blocks, n:m
    groups along the input channels; dense = unchanged);
  - the achieved rate (zeros / weights) is within one pruning group of the planned rate;
  - kept weights keep their dense values (pruning only zeroes).
Every tensor that no non-dense planned layer owns (other layers' weights, biases, every other
initializer and Constant value, in every subgraph) must be unchanged (numpy array_equal, NaN == NaN).

Output (stdout), with --json one JSON object, else one line per layer:
  {"ok": bool,
   "layers": [{"id", "scheme", "planned": rate, "achieved": rate, "ok": bool, "violations": [str]}],
   "others": {"ok": bool, "checked": int, "changed": [str]}}
With --batch, a JSON list of such objects, one per job. Exit code 0 whatever the result (the
caller decides); 2 when an input cannot be read.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import onnx
from onnx import AttributeProto, helper, numpy_helper

LAYER_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "LSTM", "GRU", "RNN"}
RNN_OPS = {"LSTM", "GRU", "RNN"}
SCHEMES = ["dense", "unstructured", "filter", "channel", "pattern", "block-punched", "block-bcr", "nm"]
# Every 9-bit mask with exactly 4 bits set: the possible 4-of-9 kernel shapes.
ALL_SHAPES = [sum(1 << b for b in bits) for bits in combinations(range(9), 4)]
DEFAULT_PATTERNS = 6  # docs/plan.md: without "library", the layer may use up to "patterns" (default 6) shapes
MAX_EXAMPLES = 3
MAX_VIOLATIONS = 6  # per layer: a grouped Conv can break the same rule in every group


# ---------------------------------------------------------------------------- finding layers

def default_domain(domain: str) -> bool:
    return domain in ("", "ai.onnx")


class Scope:
    """Names visible in one graph: its initializers and node outputs, then the enclosing graphs'.
    A graph input hides a name of an enclosing graph (ONNX's lexical scoping)."""

    def __init__(self, graph: onnx.GraphProto, parent: "Scope | None", path: str):
        self.graph, self.parent, self.path = graph, parent, path
        self.inits = {t.name: t for t in graph.initializer}
        self.producers = {}
        for n in graph.node:
            for o in n.output:
                if o:
                    self.producers[o] = n
        self.inputs = {i.name for i in graph.input}

    def find(self, name: str):
        """(kind, object, scope) for a name: ("init", TensorProto) or ("node", NodeProto)."""
        s = self
        while s is not None:
            if name in s.inits:
                return "init", s.inits[name], s
            if name in s.producers:
                return "node", s.producers[name], s
            if name in s.inputs:
                return None
            s = s.parent
        return None

    def constant(self, name: str):
        """(key, numpy array) of the constant behind a value, following Identity nodes; None if computed."""
        seen = set()
        current = name
        while current and current not in seen:
            seen.add(current)
            hit = self.find(current)
            if hit is None:
                return None
            kind, obj, where = hit
            if kind == "init":
                return f"{where.path}:{obj.name}", numpy_helper.to_array(obj)
            if obj.op_type == "Constant" and default_domain(obj.domain):
                value = constant_value(obj)
                return None if value is None else (f"{where.path}:{obj.output[0]}", value)
            if obj.op_type == "Identity" and default_domain(obj.domain) and len(obj.input) == 1:
                current = obj.input[0]
                continue
            return None
        return None


def constant_value(node: onnx.NodeProto):
    for a in node.attribute:
        if a.name == "value":
            return numpy_helper.to_array(a.t)
        if a.name == "value_float":
            return np.array(a.f, dtype=np.float32)
        if a.name == "value_floats":
            return np.array(list(a.floats), dtype=np.float32)
        if a.name == "value_int":
            return np.array(a.i, dtype=np.int64)
        if a.name == "value_ints":
            return np.array(list(a.ints), dtype=np.int64)
        if a.name == "sparse_value":
            return sparse_to_dense(a.sparse_tensor)
        if a.name in ("value_string", "value_strings"):
            return np.array(a.s if a.name == "value_string" else list(a.strings), dtype=object)
    return None


def sparse_to_dense(sp: onnx.SparseTensorProto):
    values = numpy_helper.to_array(sp.values)
    indices = numpy_helper.to_array(sp.indices).astype(np.int64)
    dims = tuple(sp.dims)
    dense = np.zeros(int(np.prod(dims)) if dims else 1, dtype=values.dtype)
    flat = indices if indices.ndim == 1 else np.ravel_multi_index(tuple(indices.T), dims)
    dense[flat] = values.reshape(-1)
    return dense.reshape(dims)


def attr_int(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return int(a.i)
    return default


def subgraphs(node):
    for a in node.attribute:
        if a.type == AttributeProto.GRAPH:
            yield a.name, 0, a.g
        elif a.type == AttributeProto.GRAPHS:
            for i, g in enumerate(a.graphs):
                yield a.name, i, g


@dataclass
class Layer:
    id: str
    op: str
    node: onnx.NodeProto
    weights: list  # [(key, array)]: W, and R for LSTM/GRU/RNN
    group: int = 1


def find_layers(model: onnx.ModelProto) -> list[Layer]:
    """Prunable layers in depth-first file order (a node's subgraph layers right after the node)."""
    out: list[Layer] = []

    def walk(graph, parent, path):
        scope = Scope(graph, parent, path)
        for i, node in enumerate(graph.node):
            layer = layer_of(node, scope)
            if layer:
                out.append(layer)
            for name, k, g in subgraphs(node):
                walk(g, scope, f"{path}/{i}.{name}[{k}]")

    walk(model.graph, None, "main")
    seen: dict[str, int] = {}
    for layer in out:
        seen[layer.id] = seen.get(layer.id, 0) + 1
        if seen[layer.id] > 1:
            layer.id = f"{layer.id}#{seen[layer.id]}"
    return out


def layer_of(node, scope) -> Layer | None:
    if node.op_type not in LAYER_OPS or not default_domain(node.domain) or len(node.input) < 2 or not node.input[1]:
        return None
    w = scope.constant(node.input[1])
    if w is None:
        return None
    rank = w[1].ndim
    op = node.op_type
    weights = [w]
    if op in ("Conv", "ConvTranspose") and rank < 3:
        return None
    if op == "Gemm" and rank != 2:
        return None
    if op == "MatMul" and rank < 2:
        return None
    if op in RNN_OPS:
        r = scope.constant(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if r is None or rank != 3:
            return None
        weights.append(r)
    group = attr_int(node, "group", 1) if op in ("Conv", "ConvTranspose") else 1
    return Layer(node.name or node.input[1], op, node, weights, group)


def all_tensors(model: onnx.ModelProto) -> dict:
    """Every initializer and Constant value in every graph, by key "graph path:name"."""
    out = {}

    def walk(graph, path):
        for t in graph.initializer:
            out[f"{path}:{t.name}"] = numpy_helper.to_array(t)
        for i, node in enumerate(graph.node):
            if node.op_type == "Constant" and default_domain(node.domain) and node.output:
                v = constant_value(node)
                if v is not None:
                    out[f"{path}:{node.output[0]}"] = v
            for name, k, g in subgraphs(node):
                walk(g, f"{path}/{i}.{name}[{k}]")

    walk(model.graph, "main")
    return out


# ---------------------------------------------------------------------------- GEMM views

def matrices(layer: Layer, arrays: list) -> list:
    """The layer's GEMM-view matrices [F, C, K] (DOMAIN.md §2), views of the given weight arrays."""
    w = arrays[0]
    op = layer.op
    if op == "Conv":  # W[F][C/g][k...]
        f, cg = w.shape[0], w.shape[1]
        k = int(np.prod(w.shape[2:]))
        g = layer.group
        return list(w.reshape(g, f // g, cg, k))
    if op == "ConvTranspose":  # W[C][F/g][k...]: input channels are the first axis
        c, fg = w.shape[0], w.shape[1]
        k = int(np.prod(w.shape[2:]))
        g = layer.group
        return [m.transpose(1, 0, 2) for m in w.reshape(g, c // g, fg, k)]
    if op == "Gemm":  # transB: W[F][C], else W[C][F]
        m = w if attr_int(layer.node, "transB", 0) else w.T
        return [m[:, :, None]]
    if op == "MatMul":  # W[...][C][F]
        c, f = w.shape[-2], w.shape[-1]
        return [m.T[:, :, None] for m in w.reshape(-1, c, f)]
    # LSTM / GRU / RNN: W[dirs][gates*H][input], R[dirs][gates*H][H]; one matrix per direction each
    return [d[:, :, None] for a in arrays for d in a]


# ---------------------------------------------------------------------------- structure checks
# Each takes lists of boolean arrays [F, C, K]: kept (pruned value != 0) and pruned (zeroed weights
# whose dense value was not zero); free weights are in neither. Returns a list of violations.

def where(mask) -> str:
    idx = np.argwhere(mask)[:MAX_EXAMPLES]
    return ", ".join(str(tuple(int(x) for x in i)) for i in idx)


def check_filter(kept, pruned, spec):
    v = []
    for mi, (k, p) in enumerate(zip(kept, pruned)):
        bad = k.any(axis=(1, 2)) & p.any(axis=(1, 2))
        if bad.any():
            v.append(f"matrix {mi}: {int(bad.sum())} filter row(s) partly pruned (rows {where(bad)})")
    return v


def check_channel(kept, pruned, spec):
    v = []
    for mi, (k, p) in enumerate(zip(kept, pruned)):
        bad = k.any(axis=(0, 2)) & p.any(axis=(0, 2))
        if bad.any():
            v.append(f"matrix {mi}: {int(bad.sum())} input channel(s) partly pruned (channels {where(bad)})")
    return v


def bits9(a):
    """[..., 9] booleans -> 9-bit integers, bit k = kernel position k."""
    return (a.astype(np.int64) << np.arange(9)).sum(axis=-1)


def check_pattern(kept, pruned, spec):
    v = []
    library = spec.get("library")
    if library is not None:
        bad = [x for x in library if not (isinstance(x, int) and 0 <= x < 512 and bin(x).count("1") == 4)]
        if bad:
            return [f"library entries {bad} are not 9-bit masks with 4 bits set"]
        shapes, limit = list(library), len(library)
    else:
        shapes, limit = ALL_SHAPES, spec.get("patterns", DEFAULT_PATTERNS)
    kb = []
    pb = []
    for mi, (k, p) in enumerate(zip(kept, pruned)):
        if k.shape[2] != 9:
            return [f"matrix {mi}: pattern needs 3×3 kernels; this one has {k.shape[2]} positions"]
        kb.append(bits9(k.reshape(-1, 9)))
        pb.append(bits9(p.reshape(-1, 9)))
    kb = np.concatenate(kb)
    pb = np.concatenate(pb)
    live = kb != 0  # a kernel with nothing kept is a removed one (connectivity pruning): always fine
    kb, pb = kb[live], pb[live]
    lib = np.array(shapes, dtype=np.int64)
    # A kernel fits shape S when everything it keeps is in S and nothing in S was pruned.
    fits = ((kb[:, None] & ~lib[None, :]) == 0) & ((pb[:, None] & lib[None, :]) == 0)
    none = ~fits.any(axis=1)
    if none.any():
        examples = ", ".join(f"keeps {int(x):09b}" for x in kb[none][:MAX_EXAMPLES])
        src = "the library" if library is not None else "any 4-of-9 shape"
        v.append(f"{int(none.sum())} kernel(s) match no shape of {src} ({examples}; bit k = position k, printed high to low)")
    # Fewest distinct shapes that explain every kernel: greedy set cover (exact when shapes are forced).
    todo = fits[~none]
    used = 0
    while todo.shape[0]:
        best = int(todo.sum(axis=0).argmax())
        todo = todo[~todo[:, best]]
        used += 1
    if used > limit:
        v.append(f"the kernels use at least {used} distinct shapes; the plan allows {limit}")
    return v


def pad_to(a, axis, size):
    extra = (-a.shape[axis]) % size
    if not extra:
        return a
    widths = [(0, 0)] * a.ndim
    widths[axis] = (0, extra)
    return np.pad(a, widths, constant_values=False)


def check_block_punched(kept, pruned, spec):
    bf, bc = spec["block"]
    v = []
    for mi, (k, p) in enumerate(zip(kept, pruned)):
        f, c, kk = k.shape
        if bf > f or bc > c:
            v.append(f"matrix {mi}: block {bf}×{bc} is larger than the matrix ({f} filters × {c} channels)")
            continue
        # Units: (filter block, channel block, kernel position); a partial last block is smaller.
        def units(a):
            a = pad_to(pad_to(a, 0, bf), 1, bc)
            return a.reshape(a.shape[0] // bf, bf, a.shape[1] // bc, bc, kk).any(axis=(1, 3))
        bad = units(k) & units(p)
        if bad.any():
            v.append(f"matrix {mi}: {int(bad.sum())} unit(s) of {bf}×{bc} partly pruned ((filter block, channel block, k) {where(bad)})")
    return v


def check_block_bcr(kept, pruned, spec):
    br, bcol = spec["block"]
    v = []
    for mi, (k, p) in enumerate(zip(kept, pruned)):
        f, c, kk = k.shape
        k2, p2 = k.reshape(f, c * kk), p.reshape(f, c * kk)  # GEMM view: column c·K + k
        if br > f or bcol > c * kk:
            v.append(f"matrix {mi}: block {br}×{bcol} is larger than the matrix ({f}×{c * kk})")
            continue
        k4 = pad_to(pad_to(k2, 0, br), 1, bcol)
        p4 = pad_to(pad_to(p2, 0, br), 1, bcol)
        nr, nc = k4.shape[0] // br, k4.shape[1] // bcol
        k4 = k4.reshape(nr, br, nc, bcol)
        p4 = p4.reshape(nr, br, nc, bcol)
        row_kept = k4.any(axis=3)  # [nr, br, nc]: a block-row with a kept weight is not removed
        col_kept = k4.any(axis=1)  # [nr, nc, bcol]
        # A pruned weight must lie in a removed block-row or a removed block-column of its block.
        bad = p4 & row_kept[:, :, :, None] & col_kept[:, None, :, :]
        if bad.any():
            idx = np.argwhere(bad)[:MAX_EXAMPLES]
            ex = ", ".join(f"({int(a * br + b)}, {int(cb * bcol + d)})" for a, b, cb, d in idx)
            v.append(f"matrix {mi}: {int(bad.sum())} pruned weight(s) not covered by a whole row or column of their block (row, column) {ex}")
    return v


def check_nm(kept, pruned, spec):
    n, m = spec["n"], spec["m"]
    v = []
    for mi, (k, _) in enumerate(zip(kept, pruned)):
        f, c, kk = k.shape
        if c % m:
            v.append(f"matrix {mi}: {c} input channels is not a multiple of m = {m}")
            continue
        # Groups: m consecutive input channels at one output row and kernel position.
        count = k.reshape(f, c // m, m, kk).sum(axis=2)
        bad = count > n
        if bad.any():
            v.append(f"matrix {mi}: {int(bad.sum())} group(s) of {m} input channels keep more than {n} ((row, channel group, k) {where(bad)})")
    return v


CHECKS = {
    "unstructured": lambda k, p, s: [],
    "filter": check_filter,
    "channel": check_channel,
    "pattern": check_pattern,
    "block-punched": check_block_punched,
    "block-bcr": check_block_bcr,
    "nm": check_nm,
}


def group_size(scheme, spec, shapes) -> int:
    """Weights in one pruning group of the scheme (the largest, for partial blocks): the rate's tolerance."""
    if scheme == "unstructured":
        return 1
    if scheme == "filter":
        return max(c * k for f, c, k in shapes)
    if scheme == "channel":
        return max(f * k for f, c, k in shapes)
    if scheme == "pattern":
        return 9
    if scheme == "block-punched":
        return spec["block"][0] * spec["block"][1]
    if scheme == "block-bcr":
        return max(spec["block"])
    if scheme == "nm":
        return spec["m"]
    return 0


def check_masks(scheme: str, spec: dict, dense_mats: list, pruned_mats: list) -> tuple[float, list]:
    """(achieved rate, violations) for one layer given its dense and pruned GEMM matrices."""
    violations = []
    total = sum(d.size for d in dense_mats)
    zeros = sum(int((q == 0).sum()) for q in pruned_mats)
    free = sum(int((d == 0).sum()) for d in dense_mats)
    achieved = zeros / total if total else 0.0
    changed = sum(int(((q != 0) & ~((q == d) | (np.isnan(q) & np.isnan(d)))).sum()) for d, q in zip(dense_mats, pruned_mats))
    if changed:
        violations.append(f"{changed} kept weight(s) differ from the dense model (pruning only zeroes weights)")
    if scheme == "dense":
        if changed == 0 and any(not np.array_equal(d, q, equal_nan=True) for d, q in zip(dense_mats, pruned_mats)):
            violations.append("a dense layer must be unchanged")
        return achieved, violations
    kept = [q != 0 for q in pruned_mats]
    pruned = [(q == 0) & (d != 0) for d, q in zip(dense_mats, pruned_mats)]
    found = CHECKS[scheme](kept, pruned, spec)
    violations += found if len(found) <= MAX_VIOLATIONS else found[:MAX_VIOLATIONS - 1] + [f"… and {len(found) - MAX_VIOLATIONS + 1} more like these"]
    rate = float(spec["rate"])
    g = group_size(scheme, spec, [d.shape for d in dense_mats])
    lo, hi = rate * total - g, rate * total + g + free
    if not (lo - 1e-6 <= zeros <= hi + 1e-6):
        violations.append(f"achieved rate {achieved:.6g} ({zeros} zeros of {total}) is not within one group ({g} weights) of the planned {rate:.6g}")
    return achieved, violations


# ---------------------------------------------------------------------------- the whole check

def check(dense: onnx.ModelProto, pruned: onnx.ModelProto, plan: dict) -> dict:
    dense_layers = {l.id: l for l in find_layers(dense)}
    pruned_layers = {l.id: l for l in find_layers(pruned)}
    results = []
    owned = set()
    for lid, spec in (plan.get("layers") or {}).items():
        scheme = spec.get("scheme") if isinstance(spec, dict) else None
        rate = spec.get("rate", 0) if isinstance(spec, dict) else None
        planned = float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else None
        r = {"id": lid, "scheme": scheme, "planned": planned, "achieved": None, "ok": False, "violations": []}
        results.append(r)
        if scheme not in SCHEMES:
            r["violations"].append(f"unknown scheme {scheme!r}")
            continue
        if planned is None:
            r["violations"].append(f"rate {rate!r} is not a number")
            continue
        d, p = dense_layers.get(lid), pruned_layers.get(lid)
        if d is None or p is None:
            r["violations"].append(f"no layer {lid!r} in the {'dense' if d is None else 'pruned'} model")
            continue
        if scheme != "dense":
            owned.update(key for key, _ in d.weights)
        if [a.shape for _, a in d.weights] != [a.shape for _, a in p.weights]:
            r["violations"].append(f"weight shapes differ: dense {[a.shape for _, a in d.weights]}, pruned {[a.shape for _, a in p.weights]}")
            continue
        dm = matrices(d, [a.astype(np.float64) for _, a in d.weights])
        pm = matrices(p, [a.astype(np.float64) for _, a in p.weights])
        achieved, violations = check_masks(scheme, spec, dm, pm)
        r["achieved"] = round(achieved, 6)
        r["violations"] += violations
        r["ok"] = not r["violations"]
    dt, pt = all_tensors(dense), all_tensors(pruned)
    changed = []
    for key in sorted(set(dt) | set(pt)):
        if key in owned:
            continue
        a, b = dt.get(key), pt.get(key)
        if a is None or b is None:
            changed.append(f"{key} ({'added' if a is None else 'removed'})")
        elif a.dtype != b.dtype or a.shape != b.shape or not arrays_equal(a, b):
            changed.append(key)
    others = {"ok": not changed, "checked": len((set(dt) | set(pt)) - owned), "changed": changed}
    return {"ok": all(r["ok"] for r in results) and others["ok"], "layers": results, "others": others}


def arrays_equal(a, b) -> bool:
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except TypeError:  # equal_nan does not apply to strings and other objects
        return bool(np.array_equal(a, b))


# ---------------------------------------------------------------------------- self-test

def self_test() -> int:
    """Hand-made masks, valid and corrupted, for every scheme; then a whole model pair on disk."""
    failures = []
    cases = 0

    def expect(name, ok, scheme, spec, dense, pruned):
        nonlocal cases
        cases += 1
        _, violations = check_masks(scheme, spec, dense, pruned)
        if (not violations) != ok:
            failures.append(f"{name}: expected {'ok' if ok else 'a violation'}, got {violations or 'ok'}")

    rng = np.random.default_rng(7)

    def weights(*shape):
        w = rng.standard_normal(shape)
        w[w == 0] = 1.0
        return w

    # filter: rows 0 and 2 of an [4, 3, 9] matrix removed
    d = weights(4, 3, 9)
    q = d.copy(); q[[0, 2]] = 0
    expect("filter ok", True, "filter", {"rate": 0.5}, [d], [q])
    q2 = q.copy(); q2[1, 0, 0] = 0
    expect("filter partial row", False, "filter", {"rate": 0.5}, [d], [q2])
    expect("filter rate off", False, "filter", {"rate": 0.0}, [d], [q])

    # channel: input channel 1 removed
    q = d.copy(); q[:, 1, :] = 0
    expect("channel ok", True, "channel", {"rate": 1 / 3}, [d], [q])
    q2 = q.copy(); q2[3, 1, 4] = d[3, 1, 4]  # one weight of the removed channel comes back
    expect("channel partial", False, "channel", {"rate": 1 / 3}, [d], [q2])

    # pattern: [2, 2, 9] kernels, library {centre + cross arms, top-left 2x2}; kernel (1,1) removed
    cross = (1 << 1) | (1 << 3) | (1 << 4) | (1 << 5)  # positions 1, 3, 4, 5: the centre and three arms
    corner = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4)  # positions 0, 1, 3, 4: the top-left 2×2
    lib = [cross, corner]
    d = weights(2, 2, 9)
    q = d.copy()
    for (f, c), s in {(0, 0): cross, (0, 1): corner, (1, 0): cross, (1, 1): None}.items():
        for pos in range(9):
            if s is None or not (s >> pos) & 1:
                q[f, c, pos] = 0
    rate = 1 - 12 / 36
    expect("pattern ok", True, "pattern", {"rate": rate, "library": lib}, [d], [q])
    expect("pattern ok without library", True, "pattern", {"rate": rate, "patterns": 2}, [d], [q])
    expect("pattern too many shapes", False, "pattern", {"rate": rate, "patterns": 1}, [d], [q])
    q2 = q.copy(); q2[0, 0, 0] = d[0, 0, 0]  # keeps 5 positions
    expect("pattern 5 kept", False, "pattern", {"rate": rate, "library": lib}, [d], [q2])
    q3 = q.copy(); q3[0, 1, :] = d[0, 1, :]; q3[0, 1, [0, 1, 2, 4, 5]] = 0  # keeps {3, 6, 7, 8}: not in the library
    expect("pattern shape not in library", False, "pattern", {"rate": rate, "library": lib}, [d], [q3])
    d2 = d.copy(); d2[0, 0, 1] = 0  # a dense zero inside the pattern: still fine (free)
    q4 = q.copy(); q4[0, 0, 1] = 0
    expect("pattern with a dense zero", True, "pattern", {"rate": rate, "library": lib}, [d2], [q4])

    # block-punched: [5, 6, 2] matrix, block [2, 4] -> filter blocks 2,2,1 and channel blocks 4,2
    d = weights(5, 6, 2)
    q = d.copy()
    q[0:2, 0:4, 1] = 0   # full unit
    q[4:5, 4:6, 0] = 0   # the partial corner unit
    q[2:4, 4:6, 1] = 0   # a partial channel-block unit
    zeros = 8 + 2 + 4
    expect("block-punched ok", True, "block-punched", {"rate": zeros / 60, "block": [2, 4]}, [d], [q])
    q2 = q.copy(); q2[0, 0, 1] = d[0, 0, 1]
    expect("block-punched broken unit", False, "block-punched", {"rate": zeros / 60, "block": [2, 4]}, [d], [q2])
    q3 = q.copy(); q3[0:2, 0:4, :] = 0; q3[0, 0, 0] = d[0, 0, 0]
    expect("block-punched unit across kernel positions", False, "block-punched", {"rate": (zeros + 7) / 60, "block": [2, 4]}, [d], [q3])

    # block-bcr: [4, 2, 3] matrix -> GEMM view 4 x 6, blocks 2 x 3
    d = weights(4, 2, 3)
    q2d = d.reshape(4, 6).copy()
    q2d[0, 0:3] = 0          # block (0,0): row 0
    q2d[0:2, 4] = 0          # block (0,1): column 4
    q2d[2:4, 0] = 0; q2d[3, 0:3] = 0  # block (1,0): column 0 and row 3
    q = q2d.reshape(4, 2, 3)
    zeros = int((q == 0).sum())
    expect("block-bcr ok", True, "block-bcr", {"rate": zeros / 24, "block": [2, 3]}, [d], [q])
    q2 = q.copy().reshape(4, 6); q2[1, 5] = 0  # a lone zero
    expect("block-bcr lone zero", False, "block-bcr", {"rate": (zeros + 1) / 24, "block": [2, 3]}, [d], [q2.reshape(4, 2, 3)])

    # nm 2:4 along input channels: [2, 8, 3]
    d = weights(2, 8, 3)
    q = d.copy()
    for f in range(2):
        for g in range(2):
            for k in range(3):
                q[f, [g * 4 + (f + k) % 4, g * 4 + (f + k + 1) % 4], k] = 0
    expect("nm ok", True, "nm", {"rate": 0.5, "n": 2, "m": 4}, [d], [q])
    q2 = q.copy(); q2[0, 0:4, 0] = d[0, 0:4, 0]; q2[0, 4:8, 0] = 0  # rate kept, but one group keeps 4
    expect("nm group keeps 4", False, "nm", {"rate": 0.5, "n": 2, "m": 4}, [d], [q2])
    # 2:4 along the GEMM columns c·K + k (mixing kernel positions) instead of along channels: in
    # row f, channels 4..7 at k = 0 (columns 12, 15, 18, 21) keep 3 of 4, so this must fail.
    q3 = d.copy()
    q3.reshape(2, 24)[:, [0, 1, 6, 7, 8, 9, 14, 15, 16, 17, 22, 23]] = 0
    expect("nm along the wrong axis", False, "nm", {"rate": 0.5, "n": 2, "m": 4}, [d], [q3])

    # unstructured / dense
    d = weights(3, 3, 1)
    q = d.copy(); q[0, 0, 0] = q[2, 1, 0] = 0
    expect("unstructured ok", True, "unstructured", {"rate": 2 / 9}, [d], [q])
    expect("unstructured rate off", False, "unstructured", {"rate": 0.5}, [d], [q])
    q2 = q.copy(); q2[1, 1, 0] *= 2
    expect("changed kept value", False, "unstructured", {"rate": 2 / 9}, [d], [q2])
    expect("dense ok", True, "dense", {"rate": 0}, [d], [d.copy()])
    expect("dense changed", False, "dense", {"rate": 0}, [d], [q])

    # A whole model pair on disk: layer ids (named node, unnamed node → weight name, Identity chain,
    # repeated name → #2), external data, GEMM views of Gemm without transB, unplanned tensors.
    with tempfile.TemporaryDirectory() as tmp:
        wc = weights(8, 4, 3, 3).astype(np.float32)
        wg = weights(6, 8).astype(np.float32)  # Gemm without transB: W[C=6][F=8]
        wm = weights(8, 4).astype(np.float32)
        bias = weights(8).astype(np.float32)
        nodes = [
            helper.make_node("Conv", ["x", "wc", "bias"], ["h"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            helper.make_node("Identity", ["wg"], ["wg_id"]),
            helper.make_node("Gemm", ["v", "wg_id"], ["y"]),  # unnamed: id "wg_id"
            helper.make_node("MatMul", ["y", "wm"], ["z"], name="mm"),
            helper.make_node("MatMul", ["y", "wm"], ["z2"], name="mm"),  # repeated: "mm#2"
        ]
        graph = helper.make_graph(
            nodes, "g",
            [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4, 5, 5]), helper.make_tensor_value_info("v", onnx.TensorProto.FLOAT, [1, 6])],
            [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in ("h", "z", "z2")],
            [numpy_helper.from_array(a, n) for a, n in ((wc, "wc"), (wg, "wg"), (wm, "wm"), (bias, "bias"))],
        )
        dense = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        ids = [l.id for l in find_layers(dense)]
        cases += 1
        if ids != ["conv", "wg_id", "mm", "mm#2"]:
            failures.append(f"layer ids: {ids}")

        def pruned_model(conv_w, gemm_w, bias_w):
            m = onnx.ModelProto()
            m.CopyFrom(dense)
            for t in m.graph.initializer:
                src = {"wc": conv_w, "wg": gemm_w, "bias": bias_w}.get(t.name)
                if src is not None:
                    t.CopyFrom(numpy_helper.from_array(src, t.name))
            return m

        # conv: block-punched [4, 2] — zero unit (filter block 1, channel block 0, k = 4)
        qc = wc.copy(); qc[4:8, 0:2, 1, 1] = 0
        # gemm: filter (output 3 = column 3 of W[C][F]) — GEMM view rows are W's columns
        qg = wg.copy(); qg[:, 3] = 0
        plan = {"model": "d.onnx", "target": "host-cpu", "layers": {
            "conv": {"scheme": "block-punched", "block": [4, 2], "rate": 8 / 288},
            "wg_id": {"scheme": "filter", "rate": 1 / 8},
            "mm": {"scheme": "dense", "rate": 0},
        }}
        dpath, ppath = os.path.join(tmp, "d.onnx"), os.path.join(tmp, "p.onnx")
        onnx.save(dense, dpath)
        onnx.save(pruned_model(qc, qg, bias), ppath, save_as_external_data=True, all_tensors_to_one_file=True, location="p.data", size_threshold=0)

        def run(name, ok, pruned_path, plan_):
            nonlocal cases
            cases += 1
            result = check(onnx.load(dpath), onnx.load(pruned_path), plan_)
            if result["ok"] != ok:
                failures.append(f"{name}: expected ok={ok}, got {json.dumps(result)}")
            return result

        run("model pair ok (external data)", True, ppath, plan)
        qg_rows = wg.copy(); qg_rows[3, :] = 0  # W's row 3 is an input, not an output: wrong for filter
        bad = os.path.join(tmp, "bad.onnx")
        onnx.save(pruned_model(qc, qg_rows, bias), bad)
        r = run("gemm pruned along the wrong axis", False, bad, plan)
        if r["layers"][1]["ok"] or not r["layers"][0]["ok"]:
            failures.append(f"gemm wrong axis: wrong layer blamed: {json.dumps(r['layers'])}")
        changed_bias = os.path.join(tmp, "bias.onnx")
        onnx.save(pruned_model(qc, qg, bias * 2), changed_bias)
        r = run("unplanned bias changed", False, changed_bias, plan)
        if r["others"]["changed"] != ["main:bias"]:
            failures.append(f"unplanned bias: {r['others']}")
        run("unknown layer id", False, ppath, {**plan, "layers": {**plan["layers"], "conv_1": {"scheme": "filter", "rate": 0.5}}})

    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    print(f"self-test: {cases - len(failures)} of {cases} cases as expected")
    return 1 if failures else 0


# ---------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description="Check that a pruned ONNX model has the structure its plan asks for.")
    ap.add_argument("--dense", help="the model before pruning")
    ap.add_argument("--pruned", help="the pruned model")
    ap.add_argument("--plan", help="the plan (.prune.json)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--batch", action="store_true", help='read a JSON list of {"dense", "pruned", "plan"} paths on stdin; print a JSON list of results')
    ap.add_argument("--self-test", action="store_true", help="check the checker on hand-made masks")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if args.batch:
        try:
            jobs = json.load(sys.stdin)
            results = []
            for job in jobs:
                with open(job["plan"], encoding="utf-8") as f:
                    plan = json.load(f)
                results.append(check(onnx.load(job["dense"]), onnx.load(job["pruned"]), plan))
        except Exception as e:  # noqa: BLE001
            print(f"check_structure: cannot read the inputs: {e}", file=sys.stderr)
            return 2
        json.dump(results, sys.stdout)
        print()
        return 0
    if not (args.dense and args.pruned and args.plan):
        ap.error("--dense, --pruned and --plan are required (or --self-test)")
    try:
        dense = onnx.load(args.dense)
        pruned = onnx.load(args.pruned)
        with open(args.plan, encoding="utf-8") as f:
            plan = json.load(f)
    except Exception as e:  # noqa: BLE001 - any unreadable input is the caller's problem
        print(f"check_structure: cannot read the inputs: {e}", file=sys.stderr)
        return 2
    result = check(dense, pruned, plan)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        for r in result["layers"]:
            status = "ok" if r["ok"] else "FAIL"
            planned = "-" if r["planned"] is None else f"{r['planned']:.4g}"
            print(f"{status:4} {r['id']}: {r['scheme']} planned {planned}, achieved {r['achieved'] if r['achieved'] is not None else '-'}")
            for v in r["violations"]:
                print(f"       {v}")
        o = result["others"]
        print(f"{'ok' if o['ok'] else 'FAIL':4} other tensors: {o['checked']} checked, {len(o['changed'])} changed {o['changed'][:5] if o['changed'] else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
