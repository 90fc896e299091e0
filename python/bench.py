"""Benchmark of the Python package against the Rust CLI and torchvision, in one run.

    cargo build --release -p focal-bench
    python python/bench.py [--rounds 3] [--size 16M]

Sigmoid focal loss + gradient, float32 logits, uint8 labels (bool for torch), γ = 2, α = 0.25,
mean: (1) the call overhead at 1K logits, Python against the CLI's time per call; (2) the
throughput at 16M logits, Python (into `out=` arrays, and into new arrays) against the CLI;
(3) forward + backward through the PyTorch adapter against torchvision's
`sigmoid_focal_loss` (unfused elementwise ops) at the same size. Rounds alternate between the
contenders; each figure is the best of its rounds. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import time

import numpy as np

# The installed package, not the source tree beside this script (which may hold a debug
# build from `maturin develop`).
sys.path = [p for p in sys.path if pathlib.Path(p or ".").resolve() != pathlib.Path(__file__).resolve().parent]
import focal_loss_rs as fl  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]


def size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def cli_seconds(binary: pathlib.Path, n: int, threads: int) -> tuple[float, float]:
    """(best, median) seconds per call of the CLI's row at n logits."""
    out = subprocess.run(
        [str(binary), "--loss", "sigmoid-labels", "--objective", "focal", "--output",
         "loss-grad", "--dtype", "f32", "--sizes", str(n), "--threads", str(threads),
         "--no-compare", "--no-scaling", "--json"],
        check=True, capture_output=True, text=True).stdout
    row = json.loads(out)["rows"][0]
    return row["best_seconds"], row["median_seconds"]


def timed(call, repetitions: int) -> list[float]:
    times = []
    for _ in range(repetitions):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=size, default=size("16M"))
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--focal-bench", type=pathlib.Path,
                        default=REPO / "target" / "release" / "focal-bench")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []

    # (1) call overhead at 1K
    small = 1024
    x = rng.normal(0, 3, small).astype(np.float32)
    y = (rng.uniform(0, 1, small) < 0.1).astype(np.uint8)
    loss_out, grad_out = np.empty((), np.float32), np.empty(small, np.float32)
    py_small, cli_small = [], []
    for _ in range(args.rounds):
        per_call = timed(lambda: fl.sigmoid_focal_loss_grad(x, y, out=(loss_out, grad_out),
                                                            threads=args.threads), 20000)
        py_small.append(float(np.median(per_call)))
        cli_small.append(cli_seconds(args.focal_bench, small, args.threads)[1])
    py_t, cli_t = min(py_small), min(cli_small)
    rows.append(("call at 1K logits (median)", f"{py_t * 1e6:.2f} µs", f"{cli_t * 1e6:.2f} µs",
                 f"overhead {(py_t - cli_t) * 1e6:.2f} µs"))

    # (2) throughput at the large size
    n = args.size
    x = rng.normal(0, 3, n).astype(np.float32)
    y = (rng.uniform(0, 1, n) < 0.1).astype(np.uint8)
    loss_out, grad_out = np.empty((), np.float32), np.empty(n, np.float32)
    fl.sigmoid_focal_loss_grad(x, y, out=(loss_out, grad_out))  # touch the pages once
    best_out, best_new, best_cli = [], [], []
    for _ in range(args.rounds):
        best_out.append(min(timed(lambda: fl.sigmoid_focal_loss_grad(
            x, y, out=(loss_out, grad_out), threads=args.threads), 10)))
        best_new.append(min(timed(lambda: fl.sigmoid_focal_loss_grad(
            x, y, threads=args.threads), 10)))
        best_cli.append(cli_seconds(args.focal_bench, n, args.threads)[0])
    cli = min(best_cli)
    for label, t in (("into out= arrays", min(best_out)), ("into new arrays", min(best_new))):
        rows.append((f"{n >> 20}M logits, {label} (best)", f"{n / t / 1e6:.0f} M/s",
                     f"{n / cli / 1e6:.0f} M/s", f"{cli / t:.1%} of the CLI"))

    # (3) PyTorch: forward + backward, ours against torchvision
    try:
        import torch
        import torchvision
    except ImportError:
        torch = None
    if torch is not None:
        from focal_loss_rs.torch import sigmoid_focal_loss

        logits = torch.from_numpy(x).clone().requires_grad_()
        targets = torch.from_numpy(y.astype(np.float32))

        def ours():
            logits.grad = None
            sigmoid_focal_loss(logits, targets, reduction="mean").backward()

        def theirs():
            logits.grad = None
            torchvision.ops.sigmoid_focal_loss(logits, targets, reduction="mean").backward()

        best_ours, best_theirs = [], []
        for _ in range(args.rounds):
            best_ours.append(min(timed(ours, 5)))
            best_theirs.append(min(timed(theirs, 3)))
        o, t = min(best_ours), min(best_theirs)
        rows.append((f"torch forward + backward, {n >> 20}M (best)", f"{n / o / 1e6:.0f} M/s",
                     f"torchvision {n / t / 1e6:.0f} M/s ({torch.get_num_threads()} threads)",
                     f"{t / o:.1f}× torchvision"))

    print(f"focal_loss_rs {fl.__version__} ({pathlib.Path(fl.__file__).parent}), SIMD "
          f"{fl.simd_level()}, threads {args.threads or 'all'}, {args.rounds} alternating "
          f"rounds\n")
    print("| measurement | Python | baseline | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
