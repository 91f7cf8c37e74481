#!/usr/bin/env python3
# Checks model texts printed by PruneMap (src/core/onnx/text.ts, `full` mode) against Python's onnx.
#
# stdin: a JSON list of pairs, each {"text": TEXT_FILE, "model": MODEL_FILE} or [TEXT_FILE, MODEL_FILE].
# For each pair: parses the text with onnx.parser.parse_model, loads the model with onnx.load, and
# compares the two: opsets and header, graph inputs/outputs/value_info (names and types), nodes (op
# types, domains, names, inputs, outputs, attributes with their values, subgraphs recursively),
# initializers (names, data types, dims, values: bit-exact, or equal with NaN == NaN) and functions.
# Doc strings are not compared, nor names the text format cannot carry where they stand: inside an
# attribute the parser reads no quoted name, so a tensor's own name there that is not an identifier
# (text.ts leaves it out) and a subgraph's name that is not an identifier or reads as a type or a
# float (text.ts writes an identifier made from it) may differ.
# Each model's onnx.printer.to_text text goes through the same check, so a caller can tell limits
# of ONNX's text format (what onnx's own printer and parser cannot round-trip either) from faults
# of ours; and the result says whether our text is identical to onnx.printer.to_text's.
#
# stdout: a JSON list, one result per pair, in order:
#   {"text", "model", "load_error": str|null, "ok": bool, "error": str|null, "mismatches": [str],
#    "python_ok": bool, "python_error": str|null, "python_mismatches": [str], "same_as_printer": bool}
# Exits 0 whatever the results (the caller decides); non-zero only when the input itself is bad.
from __future__ import annotations

import json
import re
import sys
import traceback

import numpy as np
import onnx
import onnx.parser
import onnx.printer
from onnx import AttributeProto, TensorProto, numpy_helper

MAX_MISMATCHES = 20  # per file
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# Words the parser reads as a type or a float where an attribute value starts.
FLOAT_WORD = re.compile(r"(inf|infinity|nan)(?![A-Za-z0-9])", re.IGNORECASE)
TYPE_WORDS = {"seq", "map", "optional", "sparse_tensor"}


def is_type_word(name: str) -> bool:
    return name in TYPE_WORDS or name in KNOWN_TYPE_NAMES


def writable_in_attribute(name: str) -> bool:
    """Whether a subgraph name can stand where an attribute value starts."""
    return bool(IDENTIFIER.match(name)) and not FLOAT_WORD.match(name) and not is_type_word(name)


class Diffs:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        if len(self.items) < MAX_MISMATCHES:
            self.items.append(f"{where}: {what}")

    def check(self, where: str, ours, theirs) -> None:
        if ours != theirs:
            self.add(where, f"text gives {short(ours)}, model has {short(theirs)}")


def short(v) -> str:
    s = repr(v)
    return s if len(s) <= 200 else s[:200] + "..."


# ---------------------------------------------------------------- types

def _type_names() -> set[str]:
    # The lower-case names the text format gives data types (float, int64, float8e4m3fn, ...).
    names = set()
    for dt in TensorProto.DataType.values():
        if dt:
            names.add(onnx.helper.tensor_dtype_to_string(dt).replace("TensorProto.", "").lower())
    return names


KNOWN_TYPE_NAMES = _type_names()

def dim_str(d) -> str:
    which = d.WhichOneof("value")
    if which == "dim_value":
        return str(d.dim_value)
    if which == "dim_param":
        return d.dim_param if d.dim_param else "?"
    return "?"


def type_str(t: onnx.TypeProto | None) -> str:
    if t is None:
        return ""
    which = t.WhichOneof("value")
    if which == "tensor_type" or which == "sparse_tensor_type":
        tt = getattr(t, which)
        shape = "[" + ",".join(dim_str(d) for d in tt.shape.dim) + "]" if tt.HasField("shape") else "(no shape)"
        s = f"{onnx.TensorProto.DataType.Name(tt.elem_type) if tt.elem_type in TensorProto.DataType.values() else tt.elem_type}{shape}"
        return s if which == "tensor_type" else f"sparse({s})"
    if which == "sequence_type":
        return f"seq({type_str(t.sequence_type.elem_type) if t.sequence_type.HasField('elem_type') else ''})"
    if which == "optional_type":
        return f"optional({type_str(t.optional_type.elem_type) if t.optional_type.HasField('elem_type') else ''})"
    if which == "map_type":
        return f"map({t.map_type.key_type}, {type_str(t.map_type.value_type) if t.map_type.HasField('value_type') else ''})"
    if which == "opaque_type":
        return f"opaque({t.opaque_type.domain},{t.opaque_type.name})"
    return ""


def value_infos(vis) -> list[tuple[str, str]]:
    return [(v.name, type_str(v.type) if v.HasField("type") else "") for v in vis]


# ---------------------------------------------------------------- tensors

def arrays_equal(x: np.ndarray, y: np.ndarray) -> bool:
    if x.shape != y.shape or x.dtype != y.dtype:
        return False
    if x.tobytes() == y.tobytes():
        return True
    if x.dtype.kind == "c":
        return arrays_equal(np.ascontiguousarray(x.real), np.ascontiguousarray(y.real)) and \
            arrays_equal(np.ascontiguousarray(x.imag), np.ascontiguousarray(y.imag))
    try:
        xf, yf = x.astype(np.float64), y.astype(np.float64)
    except (TypeError, ValueError):
        return False
    if not np.array_equal(xf, yf, equal_nan=True):
        return False
    # Same values but other bits: only NaN payloads may differ; the sign of zero must not.
    both = ~(np.isnan(xf) | np.isnan(yf))
    return bool(np.array_equal(np.signbit(xf[both]), np.signbit(yf[both])))


def tensor_values(t: TensorProto):
    if t.data_type == TensorProto.STRING:
        return list(t.string_data)
    return numpy_helper.to_array(t)


def compare_tensor(d: Diffs, where: str, ours: TensorProto, theirs: TensorProto, in_attribute: bool = False) -> None:
    if not (in_attribute and ours.name == "" and not IDENTIFIER.match(theirs.name)):
        d.check(f"{where} name", ours.name, theirs.name)
    d.check(f"{where} data_type", ours.data_type, theirs.data_type)
    d.check(f"{where} dims", list(ours.dims), list(theirs.dims))
    if ours.data_type != theirs.data_type or list(ours.dims) != list(theirs.dims):
        return
    try:
        theirs_v = tensor_values(theirs)
    except Exception as e:  # a type numpy_helper cannot read: compare what the fields hold
        d.add(where, f"onnx cannot read the model's values ({type(e).__name__}: {e})")
        return
    try:
        ours_v = tensor_values(ours)
    except Exception as e:
        d.add(where, f"onnx cannot read the text's values ({type(e).__name__}: {e})")
        return
    if isinstance(theirs_v, list):
        if ours_v != theirs_v:
            d.add(where, f"string values differ: text {short(ours_v)}, model {short(theirs_v)}")
    elif not arrays_equal(ours_v, theirs_v):
        d.add(where, f"values differ: text {short(ours_v.ravel()[:8].tolist())}, model {short(theirs_v.ravel()[:8].tolist())}")


# ---------------------------------------------------------------- graphs

def float_bits(v: float) -> bytes:
    return np.array([v], dtype=np.float32).tobytes()


def floats_equal(a, b) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if not (float_bits(x) == float_bits(y) or (np.isnan(x) and np.isnan(y))):
            return False
    return True


def compare_attribute(d: Diffs, where: str, ours: AttributeProto, theirs: AttributeProto) -> None:
    d.check(f"{where} name", ours.name, theirs.name)
    d.check(f"{where} type", AttributeProto.AttributeType.Name(ours.type), AttributeProto.AttributeType.Name(theirs.type))
    d.check(f"{where} ref_attr_name", ours.ref_attr_name, theirs.ref_attr_name)
    if ours.type != theirs.type or theirs.ref_attr_name:
        return
    A = AttributeProto
    t = theirs.type
    if t == A.FLOAT:
        if not floats_equal([ours.f], [theirs.f]):
            d.add(where, f"float {ours.f!r} vs {theirs.f!r}")
    elif t == A.FLOATS:
        if not floats_equal(list(ours.floats), list(theirs.floats)):
            d.add(where, f"floats {short(list(ours.floats))} vs {short(list(theirs.floats))}")
    elif t == A.INT:
        d.check(where, ours.i, theirs.i)
    elif t == A.INTS:
        d.check(where, list(ours.ints), list(theirs.ints))
    elif t == A.STRING:
        d.check(where, ours.s, theirs.s)
    elif t == A.STRINGS:
        d.check(where, list(ours.strings), list(theirs.strings))
    elif t == A.TENSOR:
        compare_tensor(d, f"{where} tensor", ours.t, theirs.t, in_attribute=True)
    elif t == A.TENSORS:
        d.check(f"{where} tensor count", len(ours.tensors), len(theirs.tensors))
        for i, (a, b) in enumerate(zip(ours.tensors, theirs.tensors)):
            compare_tensor(d, f"{where} tensors[{i}]", a, b, in_attribute=True)
    elif t == A.GRAPH:
        compare_graph(d, f"{where} graph", ours.g, theirs.g, nested=True)
    elif t == A.GRAPHS:
        d.check(f"{where} graph count", len(ours.graphs), len(theirs.graphs))
        for i, (a, b) in enumerate(zip(ours.graphs, theirs.graphs)):
            compare_graph(d, f"{where} graphs[{i}]", a, b, nested=True)
    elif t == A.TYPE_PROTO:
        d.check(where, type_str(ours.tp), type_str(theirs.tp))
    elif t == A.TYPE_PROTOS:
        d.check(where, [type_str(x) for x in ours.type_protos], [type_str(x) for x in theirs.type_protos])
    elif t == A.SPARSE_TENSOR:
        d.check(where, ours.sparse_tensor.SerializeToString(), theirs.sparse_tensor.SerializeToString())
    elif t == A.SPARSE_TENSORS:
        d.check(where, [x.SerializeToString() for x in ours.sparse_tensors], [x.SerializeToString() for x in theirs.sparse_tensors])


def compare_nodes(d: Diffs, where: str, ours, theirs) -> None:
    d.check(f"{where} node count", len(ours), len(theirs))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        w = f"{where} node[{i}]"
        d.check(f"{w} op_type", a.op_type, b.op_type)
        d.check(f"{w} domain", a.domain, b.domain)
        d.check(f"{w} overload", a.overload, b.overload)
        d.check(f"{w} name", a.name, b.name)
        d.check(f"{w} inputs", list(a.input), list(b.input))
        d.check(f"{w} outputs", list(a.output), list(b.output))
        d.check(f"{w} attribute names", [x.name for x in a.attribute], [x.name for x in b.attribute])
        for x, y in zip(a.attribute, b.attribute):
            compare_attribute(d, f"{w} attribute {y.name}", x, y)


def compare_graph(d: Diffs, where: str, ours: onnx.GraphProto, theirs: onnx.GraphProto, nested: bool = False) -> None:
    if not (nested and not writable_in_attribute(theirs.name) and writable_in_attribute(ours.name)):
        d.check(f"{where} name", ours.name, theirs.name)
    d.check(f"{where} inputs", value_infos(ours.input), value_infos(theirs.input))
    d.check(f"{where} outputs", value_infos(ours.output), value_infos(theirs.output))
    d.check(f"{where} value_info", value_infos(ours.value_info), value_infos(theirs.value_info))
    d.check(f"{where} initializer names", [t.name for t in ours.initializer], [t.name for t in theirs.initializer])
    for a, b in zip(ours.initializer, theirs.initializer):
        compare_tensor(d, f"{where} initializer {b.name}", a, b)
    d.check(f"{where} sparse_initializer count", len(ours.sparse_initializer), len(theirs.sparse_initializer))
    compare_nodes(d, where, ours.node, theirs.node)


def opsets(ops) -> list[tuple[str, int]]:
    return [(o.domain, o.version) for o in ops]


def compare_models(ours: onnx.ModelProto, theirs: onnx.ModelProto) -> list[str]:
    d = Diffs()
    d.check("ir_version", ours.ir_version, theirs.ir_version)
    d.check("opset_import", opsets(ours.opset_import), opsets(theirs.opset_import))
    for field in ("producer_name", "producer_version", "domain", "model_version"):
        d.check(field, getattr(ours, field), getattr(theirs, field))
    d.check("metadata_props", [(e.key, e.value) for e in ours.metadata_props], [(e.key, e.value) for e in theirs.metadata_props])
    compare_graph(d, "graph", ours.graph, theirs.graph)
    d.check("function count", len(ours.functions), len(theirs.functions))
    for i, (a, b) in enumerate(zip(ours.functions, theirs.functions)):
        w = f"function[{i}]"
        for field in ("name", "domain", "overload"):
            d.check(f"{w} {field}", getattr(a, field), getattr(b, field))
        d.check(f"{w} inputs", list(a.input), list(b.input))
        d.check(f"{w} outputs", list(a.output), list(b.output))
        d.check(f"{w} attributes", list(a.attribute), list(b.attribute))
        d.check(f"{w} attribute_proto names", [x.name for x in a.attribute_proto], [x.name for x in b.attribute_proto])
        for x, y in zip(a.attribute_proto, b.attribute_proto):
            compare_attribute(d, f"{w} attribute_proto {y.name}", x, y)
        d.check(f"{w} opset_import", opsets(a.opset_import), opsets(b.opset_import))
        d.check(f"{w} value_info", value_infos(a.value_info), value_infos(b.value_info))
        compare_nodes(d, w, a.node, b.node)
    return d.items


def round_trip(text: str, model: onnx.ModelProto) -> tuple[bool, str | None, list[str]]:
    try:
        parsed = onnx.parser.parse_model(text)
    except Exception as e:
        return False, f"{type(e).__name__}: {str(e)[:500]}", []
    try:
        mismatches = compare_models(parsed, model)
    except Exception as e:
        return False, f"comparison failed: {type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}", []
    return not mismatches, None, mismatches


def check_pair(text_path: str, model_path: str) -> dict:
    result: dict = {"text": text_path, "model": model_path, "load_error": None, "ok": False, "error": None,
                    "mismatches": [], "python_ok": False, "python_error": None, "python_mismatches": [],
                    "same_as_printer": False}
    try:
        model = onnx.load(model_path)
    except Exception as e:
        result["load_error"] = f"{type(e).__name__}: {str(e)[:300]}"
        return result
    with open(text_path, encoding="utf-8") as f:
        text = f.read()
    result["ok"], result["error"], result["mismatches"] = round_trip(text, model)
    try:
        py_text = onnx.printer.to_text(model)
    except Exception as e:
        result["python_error"] = f"onnx.printer.to_text failed: {type(e).__name__}: {str(e)[:300]}"
        return result
    result["same_as_printer"] = py_text == text
    result["python_ok"], result["python_error"], result["python_mismatches"] = round_trip(py_text, model)
    return result


def main() -> int:
    pairs = json.load(sys.stdin)
    if not isinstance(pairs, list):
        print("parse_text.py: stdin must be a JSON list of pairs", file=sys.stderr)
        return 2
    results = []
    for p in pairs:
        text_path, model_path = (p["text"], p["model"]) if isinstance(p, dict) else (p[0], p[1])
        results.append(check_pair(text_path, model_path))
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
