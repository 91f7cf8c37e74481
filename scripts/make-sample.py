"""Writes samples/tiny-cnn.onnx: a small CNN shaped for 28×28 grey images (fashion-mnist), with
seeded random weights. It has one of each layer kind the mapper cares about: a first conv, a 3×3
conv, a depthwise conv, a 1×1 conv and a classifier. The trained sample comes with the pruning issue.

Run: .venv-ref/bin/python scripts/make-sample.py
"""
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261129)


def weight(name, shape):
    fan_in = int(np.prod(shape[1:]))
    return numpy_helper.from_array((rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(np.float32), name)


def bias(name, n):
    return numpy_helper.from_array((rng.standard_normal(n) * 0.01).astype(np.float32), name)


def conv(name, x, w, b, **attrs):
    return helper.make_node("Conv", [x, w, b], [name + "_out"], name=name, **attrs)


nodes = [
    conv("stem", "image", "stem.w", "stem.b", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["stem_out"], ["a1"], name="stem_relu"),
    conv("block1.conv3x3", "a1", "block1.w", "block1.b", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
    helper.make_node("Relu", ["block1.conv3x3_out"], ["a2"], name="block1_relu"),
    conv("block2.depthwise", "a2", "block2.dw.w", "block2.dw.b", kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=32, strides=[2, 2]),
    helper.make_node("Relu", ["block2.depthwise_out"], ["a3"], name="block2_relu"),
    conv("block2.pointwise", "a3", "block2.pw.w", "block2.pw.b", kernel_shape=[1, 1]),
    helper.make_node("Relu", ["block2.pointwise_out"], ["a4"], name="block2_pw_relu"),
    helper.make_node("GlobalAveragePool", ["a4"], ["pooled"], name="pool"),
    helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten", axis=1),
    helper.make_node("Gemm", ["flat", "classifier.w", "classifier.b"], ["logits"], name="classifier", transB=1),
]
initializers = [
    weight("stem.w", [16, 1, 3, 3]), bias("stem.b", 16),
    weight("block1.w", [32, 16, 3, 3]), bias("block1.b", 32),
    weight("block2.dw.w", [32, 1, 3, 3]), bias("block2.dw.b", 32),
    weight("block2.pw.w", [64, 32, 1, 1]), bias("block2.pw.b", 64),
    weight("classifier.w", [10, 64]), bias("classifier.b", 10),
]
graph = helper.make_graph(
    nodes, "tiny_cnn",
    [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 28, 28])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
    initializers,
)
model = helper.make_model(graph, producer_name="prunemap-sample", opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model, full_check=True)
out = Path(__file__).resolve().parent.parent / "samples" / "tiny-cnn.onnx"
onnx.save(model, out)
print(f"wrote {out} ({out.stat().st_size} bytes)")
