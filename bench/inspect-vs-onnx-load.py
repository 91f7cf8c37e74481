"""Times `prunemap inspect MODEL --json` against Python's `onnx.load(MODEL)` on the same file.

Run through bench/inspect-vs-onnx-load.sh (which finds node, the CLI and the reference venv). All
measurements alternate, round by round, in a rotating order, after one untimed warm-up of each so
the file is equally in the page cache for all of them:

  ours    node dist/cli.js inspect MODEL --json > /dev/null   (whole command, node start-up included)
  parse   onnx.load(MODEL) inside this long-running Python process (time.perf_counter, the C++
          protobuf parse and Python object creation; no interpreter start-up, no `import onnx`)
  whole   python -c "import onnx; onnx.load(MODEL)"           (whole command)

Peak RSS of ours (and of the whole Python command, for context) comes from `/usr/bin/time -f %M`
when it exists, otherwise from getrusage(RUSAGE_CHILDREN) of a one-shot wrapper process.
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

import onnx

GOAL_TIME_RATIO = 1.0   # ours / onnx.load parse alone
GOAL_RSS_RATIO = 1.5    # our peak RSS / file size


def run_quiet(cmd):
    """Runs a command with stdout to /dev/null; fails loudly when it fails."""
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.decode(errors='replace')}")


def timed(cmd):
    t0 = time.perf_counter()
    run_quiet(cmd)
    return (time.perf_counter() - t0) * 1000


def parse_ms(model):
    t0 = time.perf_counter()
    m = onnx.load(model)
    ms = (time.perf_counter() - t0) * 1000
    del m
    return ms


def peak_rss_kb(cmd):
    """Peak resident set size of one run of cmd, in KB."""
    gnu_time = shutil.which('time', path='/usr/bin:/bin')
    if gnu_time:
        r = subprocess.run([gnu_time, '-f', '%M', *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            sys.exit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.decode(errors='replace')}")
        return int(r.stderr.decode().strip().splitlines()[-1])
    # A fresh process whose only child is cmd: its RUSAGE_CHILDREN maximum is cmd's peak.
    wrapper = ('import resource, subprocess, sys\n'
               'subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n'
               'print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)')
    out = subprocess.run([sys.executable, '-c', wrapper, *cmd], check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', required=True)
    ap.add_argument('--runs', type=int, default=7)
    ap.add_argument('--node', default='node')
    ap.add_argument('--cli', required=True)
    ap.add_argument('--python', default=sys.executable, help='Python for the whole-command measurement')
    ap.add_argument('--rss-runs', type=int, default=3)
    ap.add_argument('--json-out', help='also write the figures to this JSON file')
    args = ap.parse_args()
    if args.runs < 5:
        sys.exit('--runs must be at least 5')

    model = os.path.abspath(args.model)
    size = os.path.getsize(model)
    ours_cmd = [args.node, args.cli, 'inspect', model, '--json']
    whole_cmd = [args.python, '-c', f'import onnx; onnx.load({model!r})']

    measures = {
        'ours': lambda: timed(ours_cmd),
        'parse': lambda: parse_ms(model),
        'whole': lambda: timed(whole_cmd),
    }
    for f in measures.values():  # warm-up: page cache, and Python's first-call costs
        f()
    samples = {k: [] for k in measures}
    order = list(measures)
    for i in range(args.runs):
        for k in order[i % 3:] + order[:i % 3]:
            samples[k].append(measures[k]())

    rss_ours = max(peak_rss_kb(ours_cmd) for _ in range(args.rss_runs)) * 1024
    rss_python = max(peak_rss_kb(whole_cmd) for _ in range(args.rss_runs)) * 1024

    med = {k: statistics.median(v) for k, v in samples.items()}
    ratio_parse = med['ours'] / med['parse']
    ratio_whole = med['ours'] / med['whole']
    rss_ratio = rss_ours / size
    mb = 1024 * 1024

    print(f'model      {model} ({size / mb:.1f} MB)')
    print(f'runs       {args.runs} each, alternating; median; peak RSS = max of {args.rss_runs} runs')
    print(f'machine    {os.cpu_count()} CPUs, load average {" ".join(f"{x:.2f}" for x in os.getloadavg())}; onnx {onnx.__version__}')
    print()
    header = ['ours ms', 'onnx.load parse ms', 'python whole ms', 'ours/parse', 'ours/whole', 'peak RSS MB', 'RSS/file']
    row = [f"{med['ours']:.0f}", f"{med['parse']:.0f}", f"{med['whole']:.0f}", f'{ratio_parse:.2f}', f'{ratio_whole:.2f}',
           f'{rss_ours / mb:.1f}', f'{rss_ratio:.2f}']
    widths = [max(len(h), len(c)) for h, c in zip(header, row)]
    print('  '.join(h.rjust(w) for h, w in zip(header, widths)))
    print('  '.join(c.rjust(w) for c, w in zip(row, widths)))
    print()
    for k, label in (('ours', 'ours'), ('parse', 'onnx.load parse'), ('whole', 'python whole')):
        print(f"{label:16} runs ms: {' '.join(f'{x:.0f}' for x in samples[k])}")
    print(f'python whole-command peak RSS: {rss_python / mb:.1f} MB (for context)')
    print()
    print(f"goal: ours/parse <= {GOAL_TIME_RATIO}: {'met' if ratio_parse <= GOAL_TIME_RATIO else 'NOT met'};"
          f" peak RSS <= {GOAL_RSS_RATIO} x file size: {'met' if rss_ratio <= GOAL_RSS_RATIO else 'NOT met'}")
    print()
    print('commands:')
    print(f"  ours   {' '.join(ours_cmd)} > /dev/null")
    print(f"  parse  {args.python} (long-running): t0 = time.perf_counter(); onnx.load({model!r}); time.perf_counter() - t0")
    print(f"  whole  {args.python} -c \"import onnx; onnx.load({model!r})\"")
    print(f"  RSS    /usr/bin/time -f %M {' '.join(ours_cmd)}")

    if args.json_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.json_out)), exist_ok=True)
        with open(args.json_out, 'w') as f:
            json.dump({
                'date': datetime.datetime.now().isoformat(timespec='seconds'), 'model': model, 'fileBytes': size,
                'runs': args.runs, 'samplesMs': samples, 'medianMs': med, 'ratioOursToParse': ratio_parse,
                'ratioOursToWhole': ratio_whole, 'peakRssBytes': rss_ours, 'rssToFileSize': rss_ratio,
                'pythonWholePeakRssBytes': rss_python, 'loadAverage': os.getloadavg(), 'onnx': onnx.__version__,
            }, f, indent=2)
        print(f'\nfigures written to {args.json_out}')


if __name__ == '__main__':
    main()
