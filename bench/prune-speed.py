"""Pruning speed: `prunemap prune` against a straightforward NumPy implementation of the same scheme.

Run through bench/prune-speed.sh. The job: block-punched (8, 4) at rate 0.875 on every Conv of the
model whose F and C divide by (8, 4) (group 1) — load, score, mask, write.

  ours (CLI)     node dist/cli.js prune MODEL --plan PLAN -o OUT --force --json   (whole command, node start-up included)
  ours (in-proc) node prune-speed.js MODEL OUT                                   (bench/prune-speed.ts bundled by esbuild
                                                                                    as the CLI is; loadModel → renamed output, timed inside)
  numpy          python bench/prune-speed.py numpy MODEL OUT                       (onnx.load → onnx.save, timed inside;
                                                                                    the whole command is timed too)

All three alternate, round by round, in a rotating order, after one untimed warm-up of each; the
figures are medians of N >= 3 runs. Afterwards the two outputs are compared layer by layer: the
NumPy masks must equal ours exactly (same unit scores in float64 summed in the same order, same
tie rule: stable sort, lower unit index first; same count rule: the prefix closest to the target).
"""

import argparse
import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import numpy_helper

BF, BC, RATE = 8, 4, 0.875
GOAL = 2.0  # numpy / ours


def numpy_prune(model_path, out_path):
    """The reference: onnx.load → per layer reshape to units, L2 scores, stable argsort, zero → onnx.save."""
    m = onnx.load(model_path)
    inits = {t.name: t for t in m.graph.initializer}
    layers = 0
    for node in m.graph.node:
        if node.op_type != "Conv" or len(node.input) < 2 or node.input[1] not in inits:
            continue
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        t = inits[node.input[1]]
        w = numpy_helper.to_array(t)
        f, c = w.shape[:2]
        if group != 1 or f % BF or c % BC:
            continue
        k = int(np.prod(w.shape[2:]))
        units = w.reshape(f // BF, BF, c // BC, BC, k).astype(np.float64)
        # Σ over the block's channels of the L2 norm over its filters, per kernel position; summed
        # in the order the engine sums (row by row, then channel by channel) so scores are bit-equal.
        sq = np.zeros((f // BF, c // BC, BC, k))
        for r in range(BF):
            sq += units[:, r] ** 2
        l2 = np.sqrt(sq)
        score = np.zeros((f // BF, c // BC, k))
        for ch in range(BC):
            score += l2[:, :, ch]
        flat = score.reshape(-1)  # unit order: filter block, channel block, kernel position
        target, size = RATE * w.size, BF * BC
        n = math.floor(target / size + 1e-12)
        if (n + 1) * size - target < target - n * size - 1e-9:
            n += 1
        order = np.argsort(flat, kind="stable")
        keep = np.ones(flat.size, dtype=bool)
        keep[order[:n]] = False
        mask = keep.reshape(f // BF, 1, c // BC, 1, k)
        pruned = np.where(mask, w.reshape(f // BF, BF, c // BC, BC, k), np.float32(0)).reshape(w.shape)
        t.CopyFrom(numpy_helper.from_array(pruned.astype(w.dtype), t.name))
        layers += 1
    onnx.save(m, out_path)
    return layers


def compare(dense_path, ours_path, numpy_path):
    """Layer-by-layer: equal zero patterns and equal values in the two outputs."""
    dense, ours, ref = (onnx.load(p) for p in (dense_path, ours_path, numpy_path))
    d = {t.name: t for t in dense.graph.initializer}
    o = {t.name: t for t in ours.graph.initializer}
    r = {t.name: t for t in ref.graph.initializer}
    layers, same, rates, first_diff = 0, 0, [], None
    for name in d:
        a, b, c = (numpy_helper.to_array(x[name]) for x in (d, o, r))
        if np.array_equal(a, c):
            if not np.array_equal(a, b):
                first_diff = first_diff or f"{name}: ours changed a tensor NumPy did not prune"
            continue
        layers += 1
        if np.array_equal(b, c):
            same += 1
            rates.append(float(np.mean(b == 0)))
        else:
            first_diff = first_diff or f"{name}: {int(np.sum((b == 0) != (c == 0)))} elements differ in the zero pattern"
    return {"layers": layers, "identical": same, "minRate": min(rates) if rates else None,
            "maxRate": max(rates) if rates else None, "firstDifference": first_diff}


def run_json(cmd, env=None):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    ms = (time.perf_counter() - t0) * 1000
    if r.returncode != 0:
        sys.exit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.decode(errors='replace')}")
    text = r.stdout.decode().strip()
    try:
        return ms, json.loads(text)  # the CLI's indented report
    except json.JSONDecodeError:
        return ms, json.loads(text.splitlines()[-1])  # the scripts' one-line figures


def bench(args):
    work = args.work
    os.makedirs(work, exist_ok=True)
    plan = os.path.join(work, "plan.json")
    node, script = args.node, args.script
    _, info = run_json([node, script, args.model, "--write-plan", plan])
    out_cli, out_inproc, out_np = (os.path.join(work, f) for f in ("ours-cli.onnx", "ours-inproc.onnx", "numpy.onnx"))
    kinds = {
        "ours-cli": lambda: run_json([node, args.cli, "prune", args.model, "--plan", plan, "-o", out_cli, "--force", "--json"]),
        "ours-inproc": lambda: run_json([node, script, args.model, out_inproc]),
        "numpy": lambda: run_json([sys.executable, __file__, "numpy", args.model, out_np]),
    }
    names = list(kinds)
    for n in names:  # warm-up: page cache
        kinds[n]()
    times = {n: [] for n in names}
    inside = {"ours-inproc": [], "numpy": []}
    for i in range(args.runs):
        for n in names[i % 3:] + names[:i % 3]:
            ms, out = kinds[n]()
            times[n].append(ms)
            if n in inside:
                inside[n].append(out["ms"])
            phases = f" (load {out['loadMs']:.0f}, masks {out['maskMs']:.0f}, write {out['writeMs']:.0f})" if "maskMs" in out else ""
            print(f"  round {i + 1} {n:<12} whole {ms:8.0f} ms" + (f"   inside {out['ms']:8.0f} ms{phases}" if n in inside else ""), flush=True)
    med = {n: statistics.median(v) for n, v in times.items()}
    med_inside = {n: statistics.median(v) for n, v in inside.items()}
    check = compare(args.model, out_cli, out_np)
    result = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"), "model": args.model, "layers": info["layers"],
        "block": [BF, BC], "rate": RATE, "runs": args.runs, "cpus": os.cpu_count(), "loadavg": os.getloadavg(),
        "wholeMs": med, "insideMs": med_inside,
        "ratioWhole": med["numpy"] / med["ours-cli"], "ratioInside": med_inside["numpy"] / med_inside["ours-inproc"],
        "masks": check,
    }
    print()
    print(f"model {os.path.basename(args.model)}: {info['layers']} Conv layers, block-punched {BF}x{BC} at {RATE}; median of {args.runs} runs; "
          f"{os.cpu_count()} CPUs, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"  whole command   ours (prunemap prune) {med['ours-cli']:7.0f} ms   numpy (python …) {med['numpy']:7.0f} ms   numpy/ours {result['ratioWhole']:.2f}x")
    print(f"  in-process      ours (load→write)     {med_inside['ours-inproc']:7.0f} ms   numpy (load→save) {med_inside['numpy']:6.0f} ms   numpy/ours {result['ratioInside']:.2f}x")
    print(f"  goal: ours >= {GOAL:.0f}x faster: {'met' if min(result['ratioWhole'], result['ratioInside']) >= GOAL else 'NOT met'}")
    print(f"  masks: {check['identical']}/{check['layers']} pruned layers identical to NumPy's" +
          (f" (rates {check['minRate']:.4f}…{check['maxRate']:.4f})" if check["minRate"] is not None else "") +
          (f"; first difference: {check['firstDifference']}" if check["firstDifference"] else ""))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(result, f, indent=1)
        print(f"  figures: {args.json_out}")
    if check["identical"] != check["layers"] or check["layers"] != info["layers"] or check["firstDifference"]:
        sys.exit("masks differ from the NumPy reference")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "numpy":
        t0 = time.perf_counter()
        layers = numpy_prune(sys.argv[2], sys.argv[3])
        print(json.dumps({"ms": (time.perf_counter() - t0) * 1000, "layers": layers}))
        return
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--node", required=True)
    p.add_argument("--cli", required=True)
    p.add_argument("--script", required=True, help="bench/prune-speed.ts bundled by esbuild")
    p.add_argument("--work", required=True)
    p.add_argument("--json-out")
    bench(p.parse_args())


if __name__ == "__main__":
    main()
