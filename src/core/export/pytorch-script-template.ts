// The fine-tuning script `prunemap export-training --format pytorch` writes (docs/training.md), kept
// as a TypeScript string so the bundled CLI needs no extra asset. Python, verbatim (String.raw: no
// escapes are processed); it must contain no backtick and no dollar-brace.

export const FINETUNE_PY = String.raw`#!/usr/bin/env python3
"""Fine-tunes a model pruned by a PruneMap plan and writes the result back to ONNX.

Written by 'prunemap export-training' (docs/training.md). Self-contained: needs Python 3.9+, torch,
onnx and numpy (onnxruntime optional, to check the written model). It reads recipe.json (the plan's
layers, their GEMM views and scheme parameters) and masks.json (the masks PruneMap computed for the
plan, the same ones 'prunemap prune' applies) from its own folder.

Gradual pruning (default, --gradual 0.5): training starts from the dense weights; over the first
half of the steps the rate rises along a cubic curve to the plan's, each layer's masks re-derived
from its current weights with the plan's scheme at --prune-updates points; the rest is masked
retraining. --gradual 0: the masks are masks.json's from the start (one-shot, then masked
retraining). Masked means: pruned weights are zero, their gradients are zeroed and the weights are
masked again after every optimizer step. Distillation from the dense model by default. --admm first trains with
ADMM (Z = the projection of W + U onto the scheme's constraint set, recomputed with the scheme's
own mask rule every epoch), then prunes hard with the scheme's mask of the trained weights and
finishes with masked retraining.
"""

import argparse
import base64
import gzip
import json
import math
import os
import random
import struct
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def fail(message):
    """User errors: one line, no traceback."""
    print(f"finetune.py: {message}", file=sys.stderr)
    sys.exit(1)


try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import onnx
    from onnx import numpy_helper
except ImportError as err:  # pragma: no cover
    fail(f"{err.name} is not installed; install torch, onnx and numpy (pip install torch onnx numpy)")


# ============================================================================ the scheme definitions
# The same rules as PruneMap's engine (docs/plan.md "The schemes"): groups of the GEMM view scored,
# the lowest zeroed until the rate, ties → the lower group index, the count closest to rate × weights.

def gemm_index(mat):
    """Flat tensor index of every element (f, c, k) of one GEMM-view matrix, shape [F, C, K]."""
    f = np.arange(mat["rows"], dtype=np.int64)[:, None, None] * mat["rowStride"]
    c = np.arange(mat["channels"], dtype=np.int64)[None, :, None] * mat["channelStride"]
    k = np.arange(mat["kernel"], dtype=np.int64)[None, None, :]
    return mat["offset"] + f + c + k


def rankable(scores):
    s = np.asarray(scores, dtype=np.float64).copy()
    s[np.isnan(s)] = -np.inf
    return s + 0.0


def rank_order(scores):
    """Group indices from the lowest score to the highest, ties → lower index."""
    return np.argsort(rankable(scores), kind="stable")


def group_count(target, size, groups):
    """The number of equal-sized groups to prune: closest to target/size, a tie going to fewer."""
    if size <= 0 or target <= 0:
        return 0
    exact = target / size
    lower = math.floor(exact + 1e-9)
    k = lower + 1 if exact - lower > 0.5 + 1e-9 else lower
    return max(0, min(groups, k))


def prune_prefix(order, target, cost, apply):
    """Zeroes groups in 'order' until the total is closest to 'target' (a tie → fewer)."""
    zeros = 0
    for g in order:
        c = cost(g)
        if zeros + c <= target + 1e-9:
            apply(g)
            zeros += c
            continue
        if zeros + c - target < target - zeros - 1e-9:
            apply(g)
            zeros += c
        break
    return zeros


def prune_sized(scores, sizes, target):
    """Flags (True = prune) of the groups the ranking takes towards 'target' zeros, group g adding sizes[g]."""
    flags = np.zeros(len(scores), dtype=bool)
    order = rank_order(scores)
    csum = np.cumsum(np.asarray(sizes, dtype=np.float64)[order])
    fit = int(np.searchsorted(csum, target + 1e-9, side="right"))  # groups that fit entirely
    take = fit
    if fit < len(order):
        before = csum[fit - 1] if fit > 0 else 0.0
        if before + sizes[order[fit]] - target < target - before - 1e-9:
            take = fit + 1
    flags[order[:take]] = True
    return flags


def scheme_masks(layer, weights):
    """Masks (1 keeps) for the layer's tensors from their values, by the plan's scheme."""
    spec = layer["spec"]
    scheme, rate = spec["scheme"], spec["rate"]
    flat = [np.asarray(w, dtype=np.float32).reshape(-1) for w in weights]
    masks = [np.ones(w.size, dtype=np.uint8) for w in flat]
    mats = [(m, gemm_index(m)) for m in layer["matrices"]]
    total = sum(idx.size for _, idx in mats)
    target = rate * total
    if scheme == "unstructured":
        scores = np.concatenate([np.abs(flat[m["tensor"]][idx].astype(np.float64)).reshape(-1) for m, idx in mats])
        count = group_count(target, 1, total)
        pruned = np.zeros(total, dtype=bool)
        pruned[rank_order(scores)[:count]] = True
        at = 0
        for m, idx in mats:
            n = idx.size
            masks[m["tensor"]][idx.reshape(-1)[pruned[at:at + n]]] = 0
            at += n
    elif scheme in ("filter", "channel"):
        axis_sum = (1, 2) if scheme == "filter" else (0, 2)
        cells, scores, sizes = [], [], []
        for m, idx in mats:
            w = flat[m["tensor"]][idx].astype(np.float64)
            norms = np.sqrt((w ** 2).sum(axis=axis_sum))
            for g in range(norms.size):
                cells.append((m["tensor"], idx[g] if scheme == "filter" else idx[:, g]))
                scores.append(norms[g])
                sizes.append(cells[-1][1].size)
        for g in np.nonzero(prune_sized(np.array(scores), np.array(sizes), target))[0]:
            t, cell = cells[g]
            masks[t][cell.reshape(-1)] = 0
    elif scheme == "nm":
        n, mm = spec["n"], spec["m"]
        for m, idx in mats:
            F_, C, K = idx.shape
            groups = idx.reshape(F_, C // mm, mm, K)
            mag = np.abs(flat[m["tensor"]][groups].astype(np.float64))
            mag[np.isnan(mag)] = -1
            # Prune the m − n smallest; among equal magnitudes the higher channel goes first.
            rev = mag[:, :, ::-1, :]
            order = np.argsort(rev, axis=2, kind="stable")[:, :, : mm - n, :]
            victims = mm - 1 - order
            masks[m["tensor"]][np.take_along_axis(groups, victims, axis=2).reshape(-1)] = 0
    elif scheme == "pattern":
        m, idx = mats[0]
        w = flat[0][idx.reshape(-1, 9)].astype(np.float64)  # kernels × 9
        library = spec.get("library") or choose_library(flat[0][idx.reshape(-1, 9)], spec.get("patterns", 6))
        shapes = np.array([[(p >> k) & 1 for k in range(9)] for p in library], dtype=np.float64)
        energy = (w ** 2) @ shapes.T  # kernels × patterns
        best = np.argmax(energy, axis=1)  # first maximum: a tie → the earlier library entry
        kept = np.sqrt(energy[np.arange(len(best)), best])
        kernels = w.shape[0]
        count = group_count(target - 5 * kernels, 4, kernels)
        removed = np.zeros(kernels, dtype=bool)
        removed[rank_order(kept)[:count]] = True
        keep = shapes[best].astype(np.uint8)
        keep[removed] = 0
        masks[0][idx.reshape(-1, 9).reshape(-1)] = keep.reshape(-1)
    elif scheme == "block-punched":
        bf, bc = spec["block"]
        units, scores, sizes = [], [], []
        for m, idx in mats:
            w = flat[m["tensor"]][idx].astype(np.float64)
            F_, C, K = idx.shape
            for f0 in range(0, F_, bf):
                f1 = min(F_, f0 + bf)
                col = np.sqrt((w[f0:f1] ** 2).sum(axis=0))  # C × K
                for c0 in range(0, C, bc):
                    c1 = min(C, c0 + bc)
                    scale = (bc / (c1 - c0)) * math.sqrt(bf / (f1 - f0))
                    s = col[c0:c1].sum(axis=0) * scale
                    for k in range(K):
                        units.append((m["tensor"], idx[f0:f1, c0:c1, k]))
                        scores.append(s[k])
                        sizes.append((f1 - f0) * (c1 - c0))
        for g in np.nonzero(prune_sized(np.array(scores), np.array(sizes), target))[0]:
            t, cell = units[g]
            masks[t][cell.reshape(-1)] = 0
    elif scheme == "block-bcr":
        br, bcol = spec["block"]
        units, scores = [], []
        for m, idx in mats:
            F_, C, K = idx.shape
            cols = idx.reshape(F_, C * K)
            w = flat[m["tensor"]][cols].astype(np.float64)
            for f0 in range(0, F_, br):
                f1 = min(F_, f0 + br)
                for j0 in range(0, C * K, bcol):
                    j1 = min(C * K, j0 + bcol)
                    blk = w[f0:f1, j0:j1] ** 2
                    for f, s in enumerate(np.sqrt(blk.sum(axis=1) / (j1 - j0))):
                        units.append((m["tensor"], cols[f0 + f, j0:j1]))
                        scores.append(s)
                    for j, s in enumerate(np.sqrt(blk.sum(axis=0) / (f1 - f0))):
                        units.append((m["tensor"], cols[f0:f1, j0 + j]))
                        scores.append(s)

        def cost(g):
            t, cell = units[g]
            return int(masks[t][cell].sum())

        def apply(g):
            t, cell = units[g]
            masks[t][cell] = 0

        prune_prefix(rank_order(np.array(scores)), target, cost, apply)
    elif scheme != "dense":
        fail(f"recipe.json: unknown scheme {scheme!r} for layer {layer['id']!r}")
    return [mask.reshape(w.shape) for mask, w in zip(masks, weights)]


def choose_library(kernels, count):
    """The 'count' most frequent top-4-magnitude shapes of the kernels (a tie → the smaller mask)."""
    mag = np.abs(kernels.astype(np.float64))
    mag[np.isnan(mag)] = -1
    top = np.argsort(-mag, axis=1, kind="stable")[:, :4]
    shapes = (1 << top).sum(axis=1)
    values, counts = np.unique(shapes, return_counts=True)
    order = sorted(range(len(values)), key=lambda i: (-counts[i], values[i]))
    return [int(values[i]) for i in order[:count]]


# ============================================================================ ONNX → torch
def attrs_of(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def conv_padding(pads, dims):
    """ONNX pads [x1_begin, x2_begin, …, x1_end, …] → (symmetric padding, or F.pad list)."""
    begin, end = pads[:dims], pads[dims:]
    if list(begin) == list(end):
        return list(begin), None
    pad = []
    for b, e in reversed(list(zip(begin, end))):
        pad += [b, e]
    return [0] * dims, pad


class OnnxModule(nn.Module):
    """Runs an ONNX graph with torch ops. Weights and biases of Conv, Gemm, MatMul and
    BatchNormalization are trainable parameters; every other initializer is a constant."""

    TRAINABLE_INPUTS = {"Conv": (1, 2), "ConvTranspose": (1, 2), "Gemm": (1, 2), "MatMul": (0, 1),
                        "BatchNormalization": (1, 2)}
    SUPPORTED = {"Conv", "ConvTranspose", "Gemm", "MatMul", "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh",
                 "HardSigmoid", "HardSwish", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
                 "Flatten", "Reshape", "Add", "Sub", "Mul", "Div", "Concat", "BatchNormalization", "Softmax",
                 "Identity", "Dropout", "Constant", "Transpose", "Squeeze", "Unsqueeze"}

    def __init__(self, model):
        super().__init__()
        graph = model.graph
        unsupported = sorted({n.op_type for n in graph.node if n.op_type not in self.SUPPORTED or n.domain not in ("", "ai.onnx")})
        if unsupported:
            fail(f"the model uses {', '.join(unsupported)}, which this script's ONNX interpreter does not run; "
                 "pass your PyTorch model with --torch-model module:factory instead")
        self.nodes = list(graph.node)
        self.inputs = [i.name for i in graph.input if i.name not in {t.name for t in graph.initializer}]
        self.outputs = [o.name for o in graph.output]
        trainable = set()
        for n in self.nodes:
            for i in self.TRAINABLE_INPUTS.get(n.op_type, ()):
                if i < len(n.input) and n.input[i]:
                    trainable.add(n.input[i])
        self.params = nn.ParameterList()
        self.slot = {}  # initializer name → ("p", index) or ("c", tensor)
        self.constants = {}
        for t in graph.initializer:
            a = numpy_helper.to_array(t)
            if t.name in trainable and a.dtype in (np.float32, np.float64, np.float16):
                self.slot[t.name] = len(self.params)
                self.params.append(nn.Parameter(torch.from_numpy(a.astype(np.float32).copy())))
            else:
                self.constants[t.name] = torch.from_numpy(np.array(a).copy())
        for n in self.nodes:
            if n.op_type == "Constant":
                self.constants[n.output[0]] = torch.from_numpy(np.array(numpy_helper.to_array(attrs_of(n)["value"])).copy())
        self.attrs = [attrs_of(n) for n in self.nodes]

    def named_onnx_parameters(self):
        return [(name, self.params[i]) for name, i in self.slot.items()]

    def value(self, env, name):
        if name in env:
            return env[name]
        if name in self.slot:
            return self.params[self.slot[name]]
        return self.constants[name]

    def forward(self, *xs):
        env = dict(zip(self.inputs, xs))
        for n, a in zip(self.nodes, self.attrs):
            if n.op_type == "Constant":
                continue
            ins = [self.value(env, i) if i else None for i in n.input]
            out = self.run(n.op_type, a, ins)
            env[n.output[0]] = out
        outs = [env[o] for o in self.outputs]
        return outs[0] if len(outs) == 1 else tuple(outs)

    @staticmethod
    def run(op, a, ins):
        x = ins[0]
        if op in ("Conv", "ConvTranspose"):
            w, b = ins[1], ins[2] if len(ins) > 2 else None
            dims = w.dim() - 2
            if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                fail(f"{op} with auto_pad is not supported by this script's interpreter; re-export the model with explicit pads")
            stride, dil, group = a.get("strides", [1] * dims), a.get("dilations", [1] * dims), a.get("group", 1)
            padding, pad = conv_padding(a.get("pads", [0] * 2 * dims), dims)
            if pad:
                x = F.pad(x, pad)
            if op == "Conv":
                fn = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[dims]
                return fn(x, w, b, stride, padding, dil, group)
            fn = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[dims]
            return fn(x, w, b, stride, padding, a.get("output_padding", [0] * dims), group, dil)
        if op == "Gemm":
            A = x.t() if a.get("transA", 0) else x
            B = ins[1].t() if a.get("transB", 0) else ins[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                y = y + a.get("beta", 1.0) * ins[2]
            return y
        if op == "MatMul":
            return torch.matmul(x, ins[1])
        if op == "Relu":
            return F.relu(x)
        if op == "LeakyRelu":
            return F.leaky_relu(x, a.get("alpha", 0.01))
        if op == "Clip":
            lo = ins[1] if len(ins) > 1 and ins[1] is not None else a.get("min")
            hi = ins[2] if len(ins) > 2 and ins[2] is not None else a.get("max")
            lo = float(lo) if lo is not None else None
            hi = float(hi) if hi is not None else None
            return torch.clamp(x, lo, hi)
        if op == "Sigmoid":
            return torch.sigmoid(x)
        if op == "Tanh":
            return torch.tanh(x)
        if op == "HardSigmoid":
            return torch.clamp(a.get("alpha", 0.2) * x + a.get("beta", 0.5), 0, 1)
        if op == "HardSwish":
            return F.hardswish(x)
        if op in ("MaxPool", "AveragePool"):
            k = a["kernel_shape"]
            dims = len(k)
            stride = a.get("strides", [1] * dims)
            padding, pad = conv_padding(a.get("pads", [0] * 2 * dims), dims)
            ceil = bool(a.get("ceil_mode", 0))
            if op == "MaxPool":
                if pad:
                    x = F.pad(x, pad, value=float("-inf"))
                fn = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[dims]
                return fn(x, k, stride, padding, a.get("dilations", [1] * dims), ceil)
            if pad:
                x = F.pad(x, pad)
            fn = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[dims]
            return fn(x, k, stride, padding, ceil, bool(a.get("count_include_pad", 0)))
        if op == "GlobalAveragePool":
            return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)
        if op == "GlobalMaxPool":
            return x.amax(dim=tuple(range(2, x.dim())), keepdim=True)
        if op == "Flatten":
            axis = a.get("axis", 1) % max(1, x.dim())
            return x.reshape(int(np.prod(x.shape[:axis])) if axis else 1, -1)
        if op == "Reshape":
            shape = [int(s) for s in ins[1].tolist()]
            if not a.get("allowzero", 0):
                shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
            return x.reshape(shape)
        if op == "Add":
            return x + ins[1]
        if op == "Sub":
            return x - ins[1]
        if op == "Mul":
            return x * ins[1]
        if op == "Div":
            return x / ins[1]
        if op == "Concat":
            return torch.cat(ins, dim=a["axis"])
        if op == "BatchNormalization":
            # Running statistics are kept as they are (fine-tuning a pruned model, not training it anew).
            return F.batch_norm(x, ins[3], ins[4], ins[1], ins[2], False, 0.0, a.get("epsilon", 1e-5))
        if op == "Softmax":
            return torch.softmax(x, dim=a.get("axis", -1))
        if op in ("Identity", "Dropout"):
            return x
        if op == "Transpose":
            perm = a.get("perm", list(reversed(range(x.dim()))))
            return x.permute(*perm)
        if op in ("Squeeze", "Unsqueeze"):
            axes = a.get("axes") if "axes" in a else (ins[1].tolist() if len(ins) > 1 and ins[1] is not None else None)
            if op == "Squeeze":
                if axes is None:
                    return x.squeeze()
                for ax in sorted((ax % x.dim() for ax in axes), reverse=True):
                    x = x.squeeze(ax)
                return x
            for ax in sorted(ax % (x.dim() + len(axes)) for ax in axes):
                x = x.unsqueeze(ax)
            return x
        fail(f"op {op} is not supported")


# ============================================================================ the user's own model
def load_torch_model(spec, state_dict):
    """'module:factory' (a class or a function of no arguments) → the model, with its state dict."""
    import importlib
    if ":" not in spec:
        fail(f"--torch-model needs module:factory (e.g. mymodels:resnet18), not {spec!r}")
    mod_name, attr = spec.split(":", 1)
    sys.path.insert(0, os.getcwd())
    try:
        factory = getattr(importlib.import_module(mod_name), attr)
    except (ImportError, AttributeError) as err:
        fail(f"--torch-model {spec}: {err}")
    model = factory()
    if state_dict:
        sd = torch.load(state_dict, map_location="cpu")
        if isinstance(sd, dict) and "state_dict" in sd:
            sd = sd["state_dict"]
        model.load_state_dict(sd)
    return model


def map_parameters(onnx_weights, torch_model):
    """ONNX initializer name → (torch parameter name, transposed?): by name first, then by shape in
    order (a 2-D weight may be stored transposed, as Gemm without transB and MatMul store it)."""
    params = dict(torch_model.named_parameters())
    mapping, used = {}, set()
    for name in onnx_weights:
        if name in params:
            mapping[name] = (name, False)
            used.add(name)
    free = [n for n in params if n not in used]
    for name, shape in onnx_weights.items():
        if name in mapping:
            continue
        for cand in free:
            s = tuple(params[cand].shape)
            if s == tuple(shape) or (len(shape) == 2 and s == tuple(shape)[::-1]):
                mapping[name] = (cand, s != tuple(shape))
                free.remove(cand)
                break
    return mapping


# ============================================================================ data
def read_idx(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def find_split(folder, split):
    for images in (f"{split}-images-idx3-ubyte.gz", f"{split}-images-idx3-ubyte", f"{split}-images.idx3-ubyte"):
        p = folder / images
        if p.exists():
            labels = p.name.replace("images-idx3", "labels-idx1").replace("images.idx3", "labels.idx1")
            return read_idx(p), read_idx(folder / labels)
    fail(f"--data {folder}: no {split}-images-idx3-ubyte[.gz] there (expected MNIST-style idx files)")


def load_data(spec):
    """(x_train, y_train, x_test, y_test) as uint8/float arrays and int64 labels."""
    path = Path("/usr/share/datasets/fashion-mnist" if spec == "fashion-mnist" else spec)
    if path.is_dir():
        xtr, ytr = find_split(path, "train")
        xte, yte = find_split(path, "t10k")
    elif path.suffix == ".npz" and path.exists():
        d = np.load(path)
        xtr, ytr, xte, yte = d["x_train"], d["y_train"], d["x_test"], d["y_test"]
    else:
        fail(f"--data {spec}: not a folder of idx files or an .npz with x_train, y_train, x_test, y_test")
    return xtr, ytr.astype(np.int64), xte, yte.astype(np.int64)


def to_input(images, shape, scale):
    """uint8 images → float32 in the model's input range, in the model's input layout."""
    x = torch.from_numpy(np.array(images, dtype=np.float32)) * scale
    want = [d for d in shape[1:]]
    if all(isinstance(d, int) and d > 0 for d in want) and int(np.prod(want)) == int(np.prod(x.shape[1:])):
        x = x.reshape(x.shape[0], *want)
    return x


def input_scale(meta, override):
    if override is not None:
        return override
    rng = meta.get("input_range", "[0,1]").replace(" ", "")
    return 1.0 if rng == "[0,255]" else 1.0 / 255.0


# ============================================================================ training
def keep_freed_memory():
    """Keeps glibc from returning freed blocks to the kernel after every batch (the page faults of
    re-mapping them cost more than the arithmetic of small layers). No effect on results."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


@torch.no_grad()
def top1(model, x, y, batch=1000):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], batch):
        out = model(x[i:i + batch])
        correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    return correct / x.shape[0]


class Pruned:
    """One pruned tensor: the trainable parameter, its mask, and (ADMM) Z and U."""

    def __init__(self, layer, index, param, transposed, mask):
        self.layer, self.index, self.param, self.transposed = layer, index, param, transposed
        self.set_mask(mask)
        self.Z = self.U = None

    def onnx_value(self):
        v = self.param.detach()
        return v.t() if self.transposed else v

    def set_mask(self, mask):
        m = torch.from_numpy(mask.astype(np.float32))
        self.mask = m.t().contiguous() if self.transposed else m


@torch.no_grad()
def set_rates(pruned, fraction):
    """Re-derives every layer's masks from its current weights at 'fraction' of the plan's rate."""
    for layer in {id(p.layer): p.layer for p in pruned}.values():
        group = [p for p in pruned if p.layer is layer]
        at = dict(layer, spec=dict(layer["spec"], rate=layer["spec"]["rate"] * fraction))
        for p, m in zip(group, scheme_masks(at, [q.onnx_value().numpy() for q in group])):
            p.set_mask(m)
            p.param.mul_(p.mask)


def layer_masks(layer, pruned):
    """The scheme's masks of the layer's current weights (ONNX layout)."""
    tensors = [p for p in pruned if p.layer is layer]
    return scheme_masks(layer, [p.onnx_value().numpy() for p in tensors])


def train(model, pruned, data, args, epochs, lr, admm=False, teacher=None, test=None):
    x_train, y_train = data
    gen = torch.Generator().manual_seed(args.seed + (1 if admm else 0))
    steps = max(1, epochs * math.ceil(x_train.shape[0] / args.batch_size))
    decay = [p for p in model.parameters() if p.dim() > 1]
    rest = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": rest, "weight_decay": 0.0}], lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=args.warmup)
    # Gradual pruning (Zhu & Gupta's cubic schedule): the rate rises from 0 to the plan's over the
    # first 'gradual' fraction of the steps, the scheme's masks re-derived from the current weights
    # at each of 'prune_updates' points; the remaining steps retrain with the final masks.
    ramp = int(steps * args.gradual) if not admm and args.gradual > 0 else 0
    updates = sorted({max(1, round(ramp * (k + 1) / args.prune_updates)) for k in range(args.prune_updates)}) if ramp else []
    step = 0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        total = 0.0
        for i in range(0, x_train.shape[0], args.batch_size):
            idx = perm[i:i + args.batch_size]
            xb, yb = x_train[idx], y_train[idx]
            if args.flip:
                flip = torch.rand(xb.shape[0], generator=gen) < 0.5
                xb = xb.clone()
                xb[flip] = xb[flip].flip(-1)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=args.label_smoothing)
            if teacher is not None:
                # Distillation from the dense model: its softened outputs guide the pruned one.
                with torch.no_grad():
                    soft = F.softmax(teacher(xb) / args.temperature, dim=1)
                kd = F.kl_div(F.log_softmax(logits / args.temperature, dim=1), soft, reduction="batchmean")
                loss = (1 - args.distill) * loss + args.distill * args.temperature ** 2 * kd
            if admm:
                loss = loss + sum(args.rho / 2 * ((p.param - p.Z + p.U) ** 2).sum() for p in pruned)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if not admm:
                for p in pruned:
                    p.param.grad.mul_(p.mask)
            opt.step()
            sched.step()
            step += 1
            if updates and step == updates[0]:
                updates.pop(0)
                set_rates(pruned, 1 - (1 - min(1.0, step / ramp)) ** 3)
            if not admm:
                with torch.no_grad():
                    for p in pruned:
                        p.param.mul_(p.mask)
            total += loss.item() * idx.numel()
        if admm:
            admm_update(pruned)
        acc = f", test top-1 {top1(model, *test):.4f}" if test is not None else ""
        print(f"{'admm' if admm else 'masked'} epoch {epoch}/{epochs}: loss {total / x_train.shape[0]:.4f}{acc} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)


@torch.no_grad()
def admm_update(pruned):
    """Z = projection of W + U onto the scheme's constraint set (the scheme's mask of W + U); U += W − Z."""
    layers = {}
    for p in pruned:
        layers.setdefault(id(p.layer), []).append(p)
    for group in layers.values():
        layer = group[0].layer
        vals = [(p.param + p.U) for p in group]
        onnx_vals = [(v.t() if p.transposed else v).numpy() for v, p in zip(vals, group)]
        masks = scheme_masks(layer, onnx_vals)
        for p, v, m in zip(group, vals, masks):
            p.set_mask(m)
            p.Z = v * p.mask
            p.U = p.U + p.param - p.Z


# ============================================================================ writing ONNX
def write_onnx(model_proto, values, out):
    """The original graph with the given initializers replaced (same names, shapes and types),
    written to a temporary sibling and renamed into place."""
    for t in model_proto.graph.initializer:
        if t.name in values:
            a = values[t.name]
            dtype = onnx.helper.tensor_dtype_to_np_dtype(t.data_type)
            new = numpy_helper.from_array(np.ascontiguousarray(a.astype(dtype)).reshape(tuple(t.dims)), t.name)
            t.CopyFrom(new)
    out = Path(out).resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        onnx.save_model(model_proto, tmp)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


# ============================================================================ main
def main():
    recipe_path = HERE / "recipe.json"
    recipe = json.loads(recipe_path.read_text(encoding="utf-8"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--model", default=recipe["model"], help="the dense ONNX model the plan is for")
    ap.add_argument("--out", help="fine-tuned ONNX model (default: <model>.finetuned.onnx next to the model)")
    ap.add_argument("--data", default="fashion-mnist",
                    help="'fashion-mnist' (Debian's /usr/share/datasets/fashion-mnist), a folder of MNIST-style idx "
                         "files, or an .npz with x_train, y_train, x_test, y_test (uint8 images)")
    ap.add_argument("--input-scale", type=float, help="multiplies the uint8 pixels (default from the model's "
                    "input_range metadata: 1/255 for [0,1], 1 for [0,255])")
    ap.add_argument("--epochs", type=int, default=3, help="masked-retraining epochs")
    ap.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (AdamW, one-cycle)")
    ap.add_argument("--warmup", type=float, default=0.15, help="fraction of the steps spent warming up")
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--distill", type=float, default=0.7, help="weight of distillation from the dense model (0: none)")
    ap.add_argument("--temperature", type=float, default=4.0, help="distillation temperature")
    ap.add_argument("--no-flip", dest="flip", action="store_false", help="no random horizontal flips")
    ap.add_argument("--gradual", type=float, default=0.5, help="fraction of the masked-retraining steps over which "
                    "the rate rises from 0 (dense weights) to the plan's, masks re-derived as it goes (0: one-shot "
                    "masks from the dense weights)")
    ap.add_argument("--prune-updates", type=int, default=16, help="mask updates during --gradual")
    ap.add_argument("--admm", action="store_true", help="ADMM epochs before the hard prune and masked retraining")
    ap.add_argument("--admm-epochs", type=int, default=2)
    ap.add_argument("--admm-lr", type=float, help="(default: --lr)")
    ap.add_argument("--rho", type=float, default=1e-3, help="ADMM penalty")
    ap.add_argument("--torch-model", help="module:factory of your PyTorch model (instead of the ONNX interpreter)")
    ap.add_argument("--state-dict", help="weights for --torch-model (torch.save of its state_dict)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    keep_freed_memory()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)

    model_path = Path(args.model) if Path(args.model).is_absolute() else (Path.cwd() / args.model)
    if not model_path.exists():
        alt = HERE / args.model
        model_path = alt if alt.exists() else model_path
    if not model_path.exists():
        fail(f"{args.model}: no such model; pass --model PATH")
    out = Path(args.out) if args.out else model_path.with_name(model_path.stem + ".finetuned.onnx")
    if out.resolve() == model_path.resolve():
        fail(f"--out {out} is the model itself; choose another file")
    proto = onnx.load(str(model_path))
    inits = {t.name: t for t in proto.graph.initializer}
    masks_json = json.loads((HERE / "masks.json").read_text(encoding="utf-8"))
    for layer in recipe["layers"]:
        for name in layer["tensors"]:
            if name not in inits:
                fail(f"{model_path}: no initializer {name!r} (layer {layer['id']!r}); is this the model the recipe was exported for?")

    # The model to train: the ONNX graph itself, or the user's PyTorch model with a name mapping.
    if args.torch_model:
        model = load_torch_model(args.torch_model, args.state_dict)
        weights = {name: tuple(inits[name].dims) for layer in recipe["layers"] for name in layer["tensors"]}
        mapping = map_parameters(weights, model)
        params = dict(model.named_parameters())
        for name in weights:
            if name not in mapping:
                fail(f"--torch-model: no parameter of shape {list(weights[name])} for ONNX weight {name!r}")
            print(f"map {name} -> {mapping[name][0]}{' (transposed)' if mapping[name][1] else ''}")
        lookup = lambda name: (params[mapping[name][0]], mapping[name][1])
        # Dense values the ONNX file has but the user's model may not (e.g. BatchNorm folded): the
        # written model takes every mapped tensor from the torch model.
        write_names = list(mapping)
    else:
        model = OnnxModule(proto)
        named = dict(model.named_onnx_parameters())
        lookup = lambda name: (named[name], False)
        write_names = list(named)

    pruned = []
    for layer in recipe["layers"]:
        for i, name in enumerate(layer["tensors"]):
            bits = np.unpackbits(np.frombuffer(base64.b64decode(masks_json[name]), np.uint8))
            mask = bits[: int(np.prod(layer["shapes"][i]))].reshape(layer["shapes"][i])
            param, transposed = lookup(name)
            pruned.append(Pruned(layer, i, param, transposed, mask))

    xtr, ytr, xte, yte = load_data(args.data)
    shape = recipe["inputs"][0]["shape"] if recipe["inputs"] else [None]
    scale = input_scale(recipe.get("metadata", {}), args.input_scale)
    x_train, x_test = to_input(xtr, shape, scale), to_input(xte, shape, scale)
    y_train, y_test = torch.from_numpy(ytr), torch.from_numpy(yte)
    print(f"data: train {tuple(x_train.shape)}, test {tuple(x_test.shape)}", flush=True)

    teacher = None
    if args.distill > 0:
        import copy
        teacher = copy.deepcopy(model).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
    t0 = time.perf_counter()
    dense = top1(model, x_test, y_test)
    with torch.no_grad():
        for p in pruned:
            p.dense = p.param.detach().clone()
            p.param.mul_(p.mask)
    before = top1(model, x_test, y_test)
    print(f"top-1 dense {dense:.4f}, pruned one-shot {before:.4f}", flush=True)

    if args.admm:
        # ADMM starts from the dense weights (W), with Z = the pruned ones and U = 0, and trains W
        # towards the constraint set instead of masking it.
        with torch.no_grad():
            for p in pruned:
                p.param.copy_(p.dense)
        with torch.no_grad():
            for p in pruned:
                p.Z = (p.param * p.mask).detach().clone()
                p.U = torch.zeros_like(p.param)
        train(model, pruned, (x_train, y_train), args, args.admm_epochs, args.admm_lr or args.lr, admm=True, teacher=teacher, test=(x_test, y_test))
        # Hard prune with the scheme's mask of the trained weights.
        with torch.no_grad():
            for layer in recipe["layers"]:
                group = [p for p in pruned if p.layer is layer]
                for p, m in zip(group, layer_masks(layer, group)):
                    p.set_mask(m)
                    p.param.mul_(p.mask)
        print(f"top-1 after ADMM and the hard prune {top1(model, x_test, y_test):.4f}", flush=True)

    if args.gradual > 0 and not args.admm:
        # Gradual pruning starts from the dense weights with nothing masked.
        with torch.no_grad():
            for p in pruned:
                p.param.copy_(p.dense)
                p.set_mask(np.ones(tuple(p.onnx_value().shape), dtype=np.uint8))
    train(model, pruned, (x_train, y_train), args, args.epochs, args.lr, teacher=teacher, test=(x_test, y_test))
    after = top1(model, x_test, y_test)
    print(f"top-1 dense {dense:.4f}, pruned one-shot {before:.4f}, fine-tuned {after:.4f} "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)

    values = {}
    for name in write_names:
        param, transposed = lookup(name)
        v = param.detach()
        values[name] = (v.t() if transposed else v).numpy()
    for p in pruned:  # exact zeros where pruned
        name = p.layer["tensors"][p.index]
        values[name] = p.onnx_value().numpy() * (p.mask.t() if p.transposed else p.mask).numpy()
    write_onnx(proto, values, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;
