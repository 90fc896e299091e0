"""Softmax focal loss + gradient of [N, 80] f32 in PyTorch, eager and torch.compile, as
people write it from log_softmax: M logits/s, best of rounds. Run it alternately with
`focal-bench --loss softmax --output loss-grad --sizes 16M` for ratios from one run:

    python python/bench_softmax_torch.py [LOGITS (16M)] [ROUNDS (5)]
"""
import sys, time
import torch
import torch.nn.functional as F

n_logits = int(sys.argv[1]) if len(sys.argv) > 1 else 16 * 1024 * 1024
classes, gamma, rounds = 80, 2.0, int(sys.argv[2]) if len(sys.argv) > 2 else 5
rows = n_logits // classes
g = torch.Generator().manual_seed(0)
x = (torch.randn(rows, classes, generator=g) * 2 - 2).requires_grad_(True)
t = torch.randint(0, classes, (rows,), generator=g)

def focal(x, t):
    logp = F.log_softmax(x, dim=1)
    logp_t = logp.gather(1, t[:, None]).squeeze(1)
    p_t = logp_t.exp()
    return (-(1 - p_t) ** gamma * logp_t).mean()

def step(fn):
    x.grad = None
    fn(x, t).backward()

compiled = torch.compile(focal)
for fn in (focal, compiled):
    step(fn)  # warm-up (compiles)
best = {"eager": float("inf"), "compile": float("inf")}
for _ in range(rounds):
    for name, fn in (("eager", focal), ("compile", compiled)):
        start = time.perf_counter()
        step(fn)
        best[name] = min(best[name], time.perf_counter() - start)
for name, s in best.items():
    print(f"torch {name}: {rows * classes / s / 1e6:.0f} M logits/s ({torch.get_num_threads()} threads)")
