"""Probe benchmarks: the four figures of issue 3, printed as measured values against targets.

    python bench/bench_probe.py            # all four
    python bench/bench_probe.py overhead   # one of: overhead, hook-cost, histogram, overlap, trace-size

1. overhead    median step time with the tracer / without it (a step of >= 5 ms), target <= 1.05
   hook-cost   the tracer's fixed cost per step, on a tiny model (explains the ratio above)
2. histogram   class counts of a 5,000,000-sample TensorDataset, target <= 0.5 s
3. overlap     exact train/validation overlap of 1,000,000 x 784 float32 samples, target <= 5 s
               and peak extra memory <= 2x the data
4. trace-size  trace file of a 10,000-step probe, target <= 1 MB
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import tracemalloc

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def bench_overhead(blocks: int = 16, steps: int = 25) -> None:
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    from trainlint.probe.tracer import Tracer

    torch.manual_seed(0)
    data = TensorDataset(torch.randn(256 * steps, 784), torch.randint(0, 10, (256 * steps,)))
    loader = DataLoader(data, batch_size=256, shuffle=True)
    model = nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Dropout(0.1), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def block() -> float:
        """Median CPU time of this thread per step (other processes' load does not count)."""
        times = []
        model.train()
        start = time.thread_time()
        for inputs, targets in loader:
            optimizer.zero_grad()
            criterion(model(inputs), targets).backward()
            optimizer.step()
            now = time.thread_time()
            times.append(now - start)
            start = now
        return statistics.median(times)

    block()  # warm-up: allocator, kernels
    plain: list[float] = []
    traced: list[float] = []
    tracer = Tracer(__file__, mode="api")
    # Alternate the two so that machine load drifting over time hits both alike, and judge by
    # the median of the pairs' ratios: a shared machine makes single blocks vary by +-30%.
    for _ in range(blocks):
        plain.append(block())
        tracer.install()
        try:
            traced.append(block())
        finally:
            tracer.uninstall()
    tracer.snapshot()  # the once-per-epoch sync work must also work after the runs
    ratios = sorted(t / p for p, t in zip(plain, traced))
    p, t = statistics.median(plain), statistics.median(traced)
    print(
        f"overhead: median step {p * 1e3:.2f} ms plain, {t * 1e3:.2f} ms traced (CPU time, {blocks} alternating "
        f"blocks of {steps} steps); median ratio of the pairs {statistics.median(ratios):.3f}, "
        f"quartiles {ratios[len(ratios) // 4]:.3f}-{ratios[3 * len(ratios) // 4]:.3f} (target <= 1.05)"
    )


def bench_hook_cost(blocks: int = 16, steps: int = 200) -> None:
    """The tracer's fixed cost per step, on a model so small that the cost dominates: what a
    step of any size pays on top (plus a gradient norm that grows with the parameter count)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from trainlint.probe.tracer import Tracer

    torch.manual_seed(0)
    loader = DataLoader(TensorDataset(torch.randn(16 * steps, 8), torch.randint(0, 2, (16 * steps,))), batch_size=16)
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def block() -> float:
        start = time.thread_time()
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        return (time.thread_time() - start) / steps

    block()
    tracer = Tracer(__file__, mode="api")
    extra = []
    for _ in range(blocks):
        plain = block()
        tracer.install()
        try:
            extra.append(block() - plain)
        finally:
            tracer.uninstall()
    print(f"hook-cost: the tracer adds a median {statistics.median(extra) * 1e6:.0f} us per step to a 3-module model "
          f"(a 5 ms step would pay {statistics.median(extra) / 5e-3:.1%})")


def bench_histogram(n: int = 5_000_000) -> None:
    import torch
    from torch.utils.data import TensorDataset

    from trainlint.probe.tracer import _dataset_info

    g = torch.Generator().manual_seed(0)
    dataset = TensorDataset(torch.zeros(n, 1), torch.randint(0, 10, (n,), generator=g))
    start = time.perf_counter()
    info = _dataset_info(dataset)
    elapsed = time.perf_counter() - start
    assert sum(info["class_counts"].values()) == n
    print(f"histogram: class counts of a {n:,}-sample TensorDataset in {elapsed:.3f} s (target <= 0.5 s)")


def bench_overlap(n: int = 1_000_000, dim: int = 784, planted: int = 1000) -> None:
    from trainlint.probe.overlap import overlapping_rows

    rng = np.random.default_rng(0)
    data = rng.standard_normal((n, dim), dtype=np.float32)
    n_train = int(n * 0.8)
    train, val = data[:n_train], data[n_train:]
    picks = rng.choice(n_train, size=planted, replace=False)
    val[:planted] = train[picks]  # exact copies, the leak to find
    tracemalloc.start()
    start = time.perf_counter()
    count, _ = overlapping_rows(train, val)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == planted, count
    ratio = peak / data.nbytes
    print(
        f"overlap: {count} of {len(val):,} validation rows found among {n_train:,} training rows "
        f"({n:,} x {dim} float32, {data.nbytes / 2**30:.2f} GiB) in {elapsed:.2f} s (target <= 5 s); "
        f"peak extra memory {peak / 2**20:.0f} MiB = {ratio:.3f}x the data (target <= 2x)"
    )


TEN_THOUSAND_STEPS = """
import torch
from torch.utils.data import DataLoader, TensorDataset
torch.manual_seed(0)
train_loader = DataLoader(TensorDataset(torch.randn(8000, 4), torch.randint(0, 2, (8000,))), batch_size=4, shuffle=True)
val_loader = DataLoader(TensorDataset(torch.randn(64, 4), torch.randint(0, 2, (64,))), batch_size=32)
model = torch.nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10000)
for epoch in range(5):
    for x, y in train_loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        scheduler.step()
    with torch.no_grad():
        for x, y in val_loader:
            torch.nn.functional.cross_entropy(model(x), y)
"""


def bench_trace_size() -> None:
    from trainlint.probe import Budgets, run_probe

    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "ten_thousand_steps.py")
        with open(script, "w") as fh:
            fh.write(TEN_THOUSAND_STEPS)
        trace = run_probe(script, [], Budgets(max_batches=None, max_epochs=None, timeout_s=600.0), quiet=True)
        out = os.path.join(tmp, "trace.json")
        trace.save(out)
        size = os.path.getsize(out)
    steps = trace.main_optimizer()["steps"]
    print(f"trace-size: {steps:,}-step probe ({trace.status}) writes a {size / 1024:.1f} KiB trace (target <= 1024 KiB)")


BENCHES = {"overhead": bench_overhead, "hook-cost": bench_hook_cost, "histogram": bench_histogram, "overlap": bench_overlap, "trace-size": bench_trace_size}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    for name in names:
        BENCHES[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
