"""Static-path speed: start-up on one script, and a corpus side by side with flake8.

    python bench/bench_static.py [--runs 7] [--count 240]

(a) ``trainlint check one_script.py`` against ``python -c pass`` in the same run: the extra
    wall time is what a pre-commit user waits for (goal: at most 0.15 s).
(b) ``trainlint check CORPUS`` against ``flake8 CORPUS`` on the same generated files
    (bench/make_corpus.py), median wall time of several runs each (goal: ratio at most 1.0).
Both tools run as a user runs them, output discarded, their configs ignored.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_corpus import REPO, make_corpus  # noqa: E402

ONE_SCRIPT = REPO / "fixtures" / "static" / "style_mnist_example.py"


# An installed package has its bytecode compiled; a checkout run with PYTHONDONTWRITEBYTECODE
# would recompile every module on every run. Keep the bytecode outside the tree.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "trainlint-bench-pycache"))


def measure(cmds: dict[str, list[str]], runs: int) -> dict[str, tuple[float, float]]:
    """Median wall seconds and median CPU seconds (user + system, the process and what it
    waited for) of each command over ``runs`` runs, after one warm-up run each.

    The commands take turns (A B A B ...) so that other work on the machine slows each of
    them alike. CPU time is printed too because it barely moves with the machine's load;
    wall time does."""
    walls: dict[str, list[float]] = {name: [] for name in cmds}
    cpus: dict[str, list[float]] = {name: [] for name in cmds}
    for i in range(runs + 1):
        for name, cmd in cmds.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV)
            elapsed = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i:
                walls[name].append(elapsed)
                cpus[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {name: (statistics.median(walls[name]), statistics.median(cpus[name])) for name in cmds}


def ms(pair: tuple[float, float]) -> str:
    return f"{pair[0] * 1000:8.1f} ms wall {pair[1] * 1000:8.1f} ms cpu"


def tool(name: str) -> list[str] | None:
    """The console script installed next to this interpreter (not a shim that wraps it)."""
    beside = Path(sys.executable).with_name(name)
    if beside.exists():
        return [str(beside)]
    found = shutil.which(name)
    return [found] if found else None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--count", type=int, default=240, help="corpus size (files)")
    args = parser.parse_args(argv)
    trainlint = tool("trainlint") or [sys.executable, "-m", "trainlint"]
    check = [*trainlint, "check", "--isolated", "--exit-zero", "--quiet"]

    print(f"machine   {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    startup = measure({"bare": [sys.executable, "-c", "pass"], "one": [*check, str(ONE_SCRIPT)]}, args.runs)
    bare, one = startup["bare"], startup["one"]
    print(f"start-up  python -c pass          {ms(bare)}")
    print(f"start-up  trainlint check 1 file  {ms(one)}")
    extra = [(o - b) * 1000 for o, b in zip(one, bare)]
    print(
        f"start-up  extra over python       {extra[0]:8.1f} ms wall {extra[1]:8.1f} ms cpu"
        f"  (goal <= 150 ms)  ratio {one[0] / bare[0]:.2f}x"
    )

    flake8 = tool("flake8")
    with tempfile.TemporaryDirectory(prefix="trainlint-corpus-") as tmp:
        files = make_corpus(Path(tmp), args.count)
        lines = sum(p.read_text(encoding="utf-8").count("\n") for p in files)
        print(f"corpus    {len(files)} files, {lines} lines")
        cmds = {"trainlint": [*check, tmp]}
        if flake8 is not None:
            cmds["flake8"] = [*flake8, "--isolated", "--exit-zero", tmp]
        corpus = measure(cmds, args.runs)
        print(f"corpus    trainlint               {ms(corpus['trainlint'])}")
        if flake8 is None:
            print("corpus    flake8 not installed: pip install -e '.[bench]'")
            return
        ours, theirs = corpus["trainlint"], corpus["flake8"]
        print(f"corpus    flake8                  {ms(theirs)}")
        print(f"corpus    ratio trainlint/flake8  {ours[0] / theirs[0]:8.2f} wall {ours[1] / theirs[1]:8.2f} cpu  (goal <= 1.0)")
    print(f"machine   load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
