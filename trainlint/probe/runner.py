"""Parent side of the probe: run a script in a child process under the tracer, get its trace.

The child (``python -m trainlint.probe.bootstrap``) may raise, exit, hang or die by a signal; in
every case this returns a Trace whose ``run`` says what happened. No torch here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Sequence

from trainlint.probe.frames import PathDisplay, frame_from_fault_dump
from trainlint.probe.trace import Budgets, Trace, TraceError

# After the time limit the child gets this long to dump its stack before it is killed.
_DUMP_GRACE_S = 0.5
_OUTPUT_TAIL_LINES = 30


class ProbeError(Exception):
    """The probe could not be started (missing script, unusable arguments)."""


def run_probe(
    script: str,
    args: Sequence[str] = (),
    budgets: Budgets | None = None,
    device: str | None = None,
    quiet: bool = False,
) -> Trace:
    """Run ``python script *args`` under the tracer and return what it recorded."""
    budgets = budgets or Budgets()
    if not os.path.isfile(script):
        raise ProbeError(f"cannot probe {script}: no such file")
    if device not in (None, "cpu", "cuda"):
        raise ProbeError(f"unknown device {device!r}: use 'cpu' or 'cuda'")
    workdir = tempfile.mkdtemp(prefix="trainlint-probe-")
    try:
        return _run(script, list(args), budgets, device, quiet, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(script, args, budgets, device, quiet, workdir) -> Trace:
    trace_path = os.path.join(workdir, "trace.json")
    fault_path = os.path.join(workdir, "faults.txt")
    output_path = os.path.join(workdir, "output.txt")
    env = dict(os.environ)
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    progress_read, progress_write = os.pipe()
    env["TRAINLINT_PROGRESS_FD"] = str(progress_write)
    cmd = [
        sys.executable,
        "-m",
        "trainlint.probe.bootstrap",
        "--trace-out", trace_path,
        "--fault-file", fault_path,
        "--budgets", json.dumps(budgets.to_dict()),
        "--script-display", script,
        "--",
        script,
        *args,
    ]
    started = time.monotonic()
    with open(output_path, "wb") as output:
        child = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            pass_fds=(progress_write,),
            start_new_session=True,
        )
        os.close(progress_write)
        progress = threading.Thread(target=_show_progress, args=(progress_read, quiet, budgets), daemon=True)
        progress.start()
        timed_out = False
        try:
            child.wait(timeout=budgets.timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop(child)
        progress.join(timeout=1.0)
    wall = time.monotonic() - started
    if not quiet:
        sys.stderr.write("\r\033[K")
        sys.stderr.flush()
    return _collect(script, args, budgets, child.returncode, timed_out, wall, trace_path, fault_path, output_path)


def _stop(child: subprocess.Popen) -> None:
    """Ask the hung child for a stack dump (SIGUSR1, see bootstrap), then kill its whole group
    (DataLoader workers included)."""
    try:
        if hasattr(signal, "SIGUSR1"):
            os.kill(child.pid, signal.SIGUSR1)
            time.sleep(_DUMP_GRACE_S)
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    child.wait()


def _show_progress(fd: int, quiet: bool, budgets: Budgets) -> None:
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as pipe:
        for line in pipe:
            if quiet:
                continue
            parts = line.split()
            if len(parts) != 3:
                continue
            epoch, step, elapsed = parts
            of = ""
            if budgets.max_epochs:
                # After the last epoch the script may still evaluate: that is still the last one.
                epoch, of = str(min(int(epoch), budgets.max_epochs)), f"/{budgets.max_epochs}"
            sys.stderr.write(f"\r\033[Ktrainlint probe: epoch {epoch}{of}, step {step}, {float(elapsed):.1f}s")
            sys.stderr.flush()


def _collect(script, args, budgets, returncode, timed_out, wall, trace_path, fault_path, output_path) -> Trace:
    display = PathDisplay(script)
    trace = None
    read_error = None
    if os.path.exists(trace_path):
        try:
            trace = Trace.load(trace_path)
        except TraceError as exc:
            read_error = str(exc)
    if trace is None:
        trace = Trace(script=script, run={"argv": list(args), "budgets": budgets.to_dict(), "mode": "probe"})
    run = trace.run
    run.setdefault("argv", list(args))
    run.setdefault("budgets", budgets.to_dict())
    run["wall_s"] = round(wall, 3)
    run["output_tail"] = _tail(output_path)
    fault_text = _read(fault_path)
    if timed_out:
        run.update(status="timeout", exit_code=None, signal=None)
        run["frame"] = frame_from_fault_dump(fault_text, display) or run.get("frame")
    elif returncode is not None and returncode < 0:
        sig = -returncode
        run.update(status="crash", exit_code=None, signal=_signal_name(sig))
        run["frame"] = frame_from_fault_dump(fault_text, display) or run.get("frame")
    elif run.get("status") in (None, "running"):
        # The child ended without its final write (os._exit, or the bootstrap itself failed).
        run.update(status="crash" if returncode == 0 else "exit", exit_code=returncode, signal=None)
        if read_error or not os.path.exists(trace_path):
            run["exception"] = {
                "type": "ProbeError",
                "message": read_error or "the script ended before trainlint could record its trace",
                "traceback": run["output_tail"],
            }
    return trace


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _tail(path: str) -> str:
    lines = _read(path).splitlines()
    return "\n".join(lines[-_OUTPUT_TAIL_LINES:])
