"""Trains the bundled sample model, samples/fashion-cnn.onnx, on fashion-mnist, and writes the
512-image test slice samples/fashion-mnist-slice.bin that fast tests use.

Data: Debian's dataset-fashion-mnist (MIT, Zalando Research), read from
/usr/share/datasets/fashion-mnist. Nothing is downloaded. CPU only, seeded, single process.

Run (from the repository root, after `bash scripts/setup-reference.sh`):
    .venv-ref/bin/python scripts/sample/train_sample.py
Options: --epochs, --seed, --out, --slice-out, --data-dir, --threads, --no-slice (see --help).

Checks before it writes anything: onnx.checker passes, every node has a name, onnxruntime's top-1 on
the full 10,000-image test set is >= --min-accuracy, and onnxruntime's logits agree with torch's
(max abs diff <= 1e-4). Exit status 1 if any check fails.
"""
import argparse
import gzip
import io
import random
import struct
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# Mean and standard deviation of the training pixels (scaled to [0,1]); applied inside the model.
MEAN, STD = 0.2860, 0.3530
SLICE_MAGIC = b"FMS1"


# ----------------------------------------------------------------------------------------- data
def read_idx(path):
    """Reads an idx-ubyte(.gz) file: big-endian magic (0, 0, dtype=0x08, ndim), ndim uint32 dims, data."""
    raw = gzip.open(path, "rb").read() if str(path).endswith(".gz") else Path(path).read_bytes()
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file")
    dims = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} bytes of data, header says {dims}")
    return data.reshape(dims)


def load_split(data_dir, prefix):
    def find(stem):
        for name in (stem + ".gz", stem):
            if (data_dir / name).exists():
                return data_dir / name
        raise SystemExit(f"missing {data_dir / stem}(.gz): apt-get install dataset-fashion-mnist")
    images = read_idx(find(f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(find(f"{prefix}-labels-idx1-ubyte"))
    assert images.shape[0] == labels.shape[0] and images.shape[1:] == (28, 28)
    return images, labels


def write_slice(path, images, labels):
    """FMS1 format: 'FMS1', uint32 LE count, rows, cols; count*rows*cols uint8 pixels (row-major,
    image after image); count uint8 labels."""
    count, rows, cols = images.shape
    with open(path, "wb") as f:
        f.write(SLICE_MAGIC + struct.pack("<III", count, rows, cols))
        f.write(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
        f.write(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())


def read_slice(path):
    raw = Path(path).read_bytes()
    assert raw[:4] == SLICE_MAGIC
    count, rows, cols = struct.unpack("<III", raw[4:16])
    n = count * rows * cols
    assert len(raw) == 16 + n + count
    images = np.frombuffer(raw, np.uint8, n, 16).reshape(count, rows, cols)
    labels = np.frombuffer(raw, np.uint8, count, 16 + n)
    return images, labels


def augment(x, gen, pad):
    """Random horizontal flip, and (pad > 0) a random 28x28 crop of the image zero-padded by `pad`.
    x: float [B,1,28,28]; gen: torch.Generator (so the augmentation is seeded)."""
    b = x.shape[0]
    if pad > 0:
        padded = F.pad(x, (pad, pad, pad, pad))
        dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
        dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
        ar = torch.arange(28)
        rows = (dy[:, None] + ar[None, :])[:, :, None].expand(b, 28, 28)
        cols = (dx[:, None] + ar[None, :])[:, None, :].expand(b, 28, 28)
        x = padded[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)
    else:
        x = x.clone()
    flip = torch.rand(b, generator=gen) < 0.5
    x[flip] = x[flip].flip(-1)
    return x


# ---------------------------------------------------------------------------------------- model
def conv_bn(cin, cout, k, groups=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class Normalize(nn.Module):
    """(x - MEAN) / STD, exported as Sub and Mul so the ONNX input takes raw [0,1] pixels."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([[[[MEAN]]]]))
        self.register_buffer("inv_std", torch.tensor([[[[1.0 / STD]]]]))

    def forward(self, x):
        return (x - self.mean) * self.inv_std


class FashionCNN(nn.Module):
    """Feature maps: 28x28 -> stem -> pool 14x14 -> conv1 -> pool 7x7 -> dw2+pw2, conv2 -> pool 3x3
    -> dw3+pw3, conv3 -> global average -> fc1 -> fc2. Downsampling early keeps the MACs and the
    activations (hence the CPU training time) small; every channel count is a multiple of 16."""

    def __init__(self, width=(16, 32, 64, 128), hidden=64, dropout=0.1):
        super().__init__()
        c0, c1, c2, c3 = width
        self.features = nn.Sequential()
        self.features.add_module("norm", Normalize())
        self.features.add_module("stem", conv_bn(1, c0, 3))                 # 28x28
        self.features.add_module("pool0", nn.MaxPool2d(2))                  # 14x14
        self.features.add_module("conv1", conv_bn(c0, c1, 3))               # 3x3
        self.features.add_module("pool1", nn.MaxPool2d(2))                  # 7x7
        self.features.add_module("dw2", conv_bn(c1, c1, 3, groups=c1))      # depthwise 3x3
        self.features.add_module("pw2", conv_bn(c1, c2, 1))                 # pointwise 1x1
        self.features.add_module("conv2", conv_bn(c2, c2, 3))               # 3x3
        self.features.add_module("pool2", nn.MaxPool2d(2))                  # 3x3
        self.features.add_module("dw3", conv_bn(c2, c2, 3, groups=c2))      # depthwise 3x3
        self.features.add_module("pw3", conv_bn(c2, c3, 1))                 # pointwise 1x1
        self.features.add_module("conv3", conv_bn(c3, c3, 3))               # 3x3
        self.features.add_module("gap", nn.AdaptiveAvgPool2d(1))            # 1x1
        self.classifier = nn.Sequential()
        self.classifier.add_module("flatten", nn.Flatten(1))
        self.classifier.add_module("fc1", nn.Linear(c3, hidden))
        self.classifier.add_module("relu", nn.ReLU(inplace=True))
        self.classifier.add_module("dropout", nn.Dropout(dropout))
        self.classifier.add_module("fc2", nn.Linear(hidden, len(CLASSES)))

    def forward(self, x):
        return self.classifier(self.features(x))


def fold_batchnorm(model):
    """Returns an eval-mode copy with every Conv->BatchNorm pair folded into one biased Conv."""
    import copy
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    model = copy.deepcopy(model).eval()
    for block in model.features:
        if isinstance(block, nn.Sequential) and len(block) == 3 and isinstance(block[1], nn.BatchNorm2d):
            block[0] = fuse_conv_bn_eval(block[0], block[1])
            block[1] = nn.Identity()
    return model


def count_macs(model):
    """Multiply-accumulates of one 1x28x28 image through the Conv and Linear layers."""
    macs = []

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            macs.append(out.numel() * k)
        elif isinstance(mod, nn.Linear):
            macs.append(mod.in_features * mod.out_features)

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 1, 28, 28))
    for h in hs:
        h.remove()
    return sum(macs)


def layer_table(model):
    rows = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            kind = "depthwise" if m.groups == m.in_channels and m.groups > 1 else f"{m.kernel_size[0]}x{m.kernel_size[1]}"
            rows.append(f"  {name:22s} Conv {kind:9s} {m.in_channels:4d} -> {m.out_channels:4d}  groups={m.groups}")
        elif isinstance(m, nn.Linear):
            rows.append(f"  {name:22s} Linear          {m.in_features:4d} -> {m.out_features:4d}")
    return "\n".join(rows)


# ------------------------------------------------------------------------------------- training
def to_float(images):
    return torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)


@torch.no_grad()
def predict(model, x, batch=1000):
    model.eval()
    return torch.cat([model(x[i:i + batch]) for i in range(0, x.shape[0], batch)])


def keep_freed_memory():
    """Keeps glibc from returning large freed blocks to the kernel after every batch: on these VMs the
    page faults of re-mapping them cost more than the arithmetic of small layers. No effect on results."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)   # M_MMAP_THRESHOLD: serve blocks up to 32 MiB from the heap
        libc.mallopt(-1, 1 << 30)    # M_TRIM_THRESHOLD: trim the heap only above 1 GiB free
    except (OSError, AttributeError):
        pass


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=20261129)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=4e-3, help="OneCycle peak learning rate (AdamW)")
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--crop-pad", type=int, default=0, help="random-crop augmentation margin (0: flips only)")
    ap.add_argument("--dropout", type=float, default=0.1, help="before the last Linear")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", type=Path, default=DATA_DIR)
    ap.add_argument("--out", type=Path, default=ROOT / "samples" / "fashion-cnn.onnx")
    ap.add_argument("--slice-out", type=Path, default=ROOT / "samples" / "fashion-mnist-slice.bin")
    ap.add_argument("--slice-count", type=int, default=512, help="first N test images go into the slice")
    ap.add_argument("--no-slice", action="store_true", help="do not write the test slice")
    ap.add_argument("--min-accuracy", type=float, default=0.90)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    keep_freed_memory()
    seed_everything(args.seed)
    t_start = time.perf_counter()

    train_images, train_labels = load_split(args.data_dir, "train")
    test_images, test_labels = load_split(args.data_dir, "t10k")
    x_train, y_train = to_float(train_images), torch.from_numpy(train_labels.astype(np.int64))
    x_test, y_test = to_float(test_images), torch.from_numpy(test_labels.astype(np.int64))
    print(f"data: train {tuple(x_train.shape)}, test {tuple(x_test.shape)} from {args.data_dir}")

    model = FashionCNN(dropout=args.dropout)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters, {count_macs(model):,} MACs per image")
    print(layer_table(model))

    gen = torch.Generator().manual_seed(args.seed)
    steps_per_epoch = (x_train.shape[0] + args.batch_size - 1) // args.batch_size
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, epochs=args.epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.25)
    history = []
    t_train = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        t_epoch = time.perf_counter()
        model.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        total_loss, correct = 0.0, 0
        for i in range(0, x_train.shape[0], args.batch_size):
            idx = perm[i:i + args.batch_size]
            xb, yb = augment(x_train[idx], gen, args.crop_pad), y_train[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.item() * idx.numel()
            correct += (logits.argmax(1) == yb).sum().item()
        test_acc = (predict(model, x_test).argmax(1) == y_test).float().mean().item()
        history.append(test_acc)
        print(f"epoch {epoch}/{args.epochs}: loss {total_loss / x_train.shape[0]:.4f}  "
              f"train acc {correct / x_train.shape[0]:.4f}  test top-1 {test_acc:.4f}  "
              f"({time.perf_counter() - t_epoch:.0f} s)", flush=True)
    train_seconds = time.perf_counter() - t_train
    print(f"training: {train_seconds:.0f} s for {args.epochs} epochs")

    # ------------------------------------------------------------------------------- export
    import onnx
    import onnxruntime as ort

    folded = fold_batchnorm(model)
    logits_torch = predict(model, x_test)
    logits_folded = predict(folded, x_test)
    torch_acc = (logits_torch.argmax(1) == y_test).float().mean().item()
    print(f"torch full-test top-1: {torch_acc:.4f}; BN folding changes logits by at most "
          f"{(logits_torch - logits_folded).abs().max().item():.2e}")

    buf = io.BytesIO()
    # dynamo=False on purpose (the TorchScript exporter keeps the /features/... node names); silence
    # its deprecation notice.
    warnings.filterwarnings("ignore", message="You are using the legacy TorchScript-based ONNX export")
    torch.onnx.export(folded, torch.zeros(1, 1, 28, 28), buf, dynamo=False, opset_version=17,
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}},
                      do_constant_folding=True)
    m = onnx.load_from_string(buf.getvalue())
    m.producer_name = "PruneMap scripts/sample/train_sample.py"
    m.doc_string = ("Small CNN trained on fashion-mnist (Zalando Research, MIT; Debian dataset-fashion-mnist). "
                    "Input: image float32[N,1,28,28], pixels in [0,1]. Output: logits [N,10].")
    for n in m.graph.node:
        if not n.name:
            raise SystemExit(f"unnamed {n.op_type} node in the export")
    meta = {"classes": ",".join(CLASSES), "seed": str(args.seed), "epochs": str(args.epochs),
            "test_top1_torch": f"{torch_acc:.4f}", "input_range": "[0,1]",
            "normalisation": f"(x - {MEAN}) / {STD} inside the model"}
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(m, full_check=True)
    data = m.SerializeToString()

    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    x_np = x_test.numpy()
    logits_ort = np.concatenate([sess.run(["logits"], {"image": x_np[i:i + 1000]})[0]
                                 for i in range(0, x_np.shape[0], 1000)])
    ort_acc = float((logits_ort.argmax(1) == test_labels).mean())
    diff = float(np.abs(logits_ort - logits_torch.numpy()).max())
    diff_folded = float(np.abs(logits_ort - logits_folded.numpy()).max())
    print(f"onnxruntime full-test top-1: {ort_acc:.4f}; max |ORT - torch| {diff:.2e} "
          f"(vs the BN-folded torch model {diff_folded:.2e})")

    ops = {}
    for n in m.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    print("onnx ops:", ", ".join(f"{k} x{v}" for k, v in sorted(ops.items())))
    print(f"onnx initializers: {sum(int(np.prod(t.dims)) for t in m.graph.initializer):,} values "
          "(BatchNorm folded into the Conv weights and biases)")
    ok = True
    if ort_acc < args.min_accuracy:
        print(f"FAIL: onnxruntime top-1 {ort_acc:.4f} < {args.min_accuracy}")
        ok = False
    if diff > 1e-4:
        print(f"FAIL: ORT and torch logits differ by {diff:.2e} > 1e-4")
        ok = False
    if not ok:
        return 1

    # Metadata only (no effect on the graph): the accuracy onnxruntime just measured.
    m.metadata_props.add(key="test_top1_onnxruntime", value=f"{ort_acc:.4f}")
    data = m.SerializeToString()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data):,} bytes)")
    if not args.no_slice:
        k = args.slice_count
        write_slice(args.slice_out, test_images[:k], test_labels[:k])
        imgs, labs = read_slice(args.slice_out)
        assert np.array_equal(imgs, test_images[:k]) and np.array_equal(labs, test_labels[:k])
        s_logits = sess.run(["logits"], {"image": imgs[:, None].astype(np.float32) / 255.0})[0]
        s_acc = float((s_logits.argmax(1) == labs).mean())
        print(f"wrote {args.slice_out} ({args.slice_out.stat().st_size:,} bytes, first {k} test images); "
              f"onnxruntime top-1 on it: {s_acc:.4f} ({int(round(s_acc * k))}/{k})")
    print("per-epoch test top-1:", " ".join(f"{a:.4f}" for a in history))
    print(f"total time: {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
