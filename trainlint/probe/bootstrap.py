"""Child side of the probe: ``python -m trainlint.probe.bootstrap [options] -- script args``.

Installs the tracer, then runs the script as ``python script args`` would: ``__name__ ==
"__main__"``, the script's folder first on ``sys.path``, ``sys.argv`` set, the working
directory unchanged. Whatever happens (normal end, the epoch budget, an exception,
``sys.exit``) the trace is written to ``--trace-out``; it is also flushed every epoch, so a
hang or a crash still leaves a partial trace, and faulthandler writes the stack of a crash (or
of a hang, on the parent's SIGUSR1) to ``--fault-file``.
"""

from __future__ import annotations

import argparse
import atexit
import faulthandler
import json
import os
import runpy
import signal
import sys
import traceback

from trainlint.probe.frames import PathDisplay, is_user_file
from trainlint.probe.trace import Budgets, Trace


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="trainlint.probe.bootstrap")
    parser.add_argument("--trace-out", required=True)
    parser.add_argument("--fault-file", required=True)
    parser.add_argument("--budgets", required=True, help="JSON of Budgets")
    parser.add_argument("--script-display", default=None)
    parser.add_argument("script")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    args = opts.args[1:] if opts.args[:1] == ["--"] else opts.args

    fault_file = open(opts.fault_file, "w")
    faulthandler.enable(file=fault_file, all_threads=True)
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, file=fault_file, all_threads=True)

    display_name = opts.script_display or opts.script
    display = PathDisplay(opts.script, display_name)
    budgets = Budgets.from_dict(json.loads(opts.budgets))
    base_run = {"argv": list(args), "mode": "probe"}

    def write(trace: Trace) -> None:
        tmp = opts.trace_out + ".tmp"
        trace.save(tmp)
        os.replace(tmp, opts.trace_out)

    try:
        from trainlint.probe import tracer as tracer_mod
    except ImportError as exc:
        write(Trace(script=display_name, run={**base_run, "status": "exception", "exception": _exception_dict(exc)}))
        return 0

    progress_fd = os.environ.pop("TRAINLINT_PROGRESS_FD", None)
    progress_out = os.fdopen(int(progress_fd), "w", buffering=1) if progress_fd else None

    def progress(epoch: int, step: int, elapsed: float) -> None:
        try:
            progress_out.write(f"{epoch} {step} {elapsed:.2f}\n")
        except (OSError, ValueError):
            pass

    tracer = tracer_mod.Tracer(
        opts.script,
        budgets,
        script_display=display_name,
        progress=progress if progress_out else None,
        flush=lambda t: write(_with_run(t, base_run)),
    )
    outcome: dict = {}
    written = []

    def finish() -> None:
        if written:
            return
        written.append(True)
        tracer.uninstall()
        write(tracer.snapshot(run={**base_run, **outcome}))

    # A script that calls os._exit skips this; the periodic flush covers it.
    atexit.register(finish)

    # Written before the script starts, so that even a run that hangs at once leaves a trace.
    write(_with_run(tracer.snapshot(partial=True), base_run))
    sys.argv = [opts.script, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(opts.script))
    tracer.install()
    try:
        runpy.run_path(opts.script, run_name="__main__")
        outcome["status"] = "ok"
    except tracer_mod.BudgetStop:
        outcome["status"] = "stopped"
    except SystemExit as exc:
        code = exc.code
        if code is None or code == 0:
            outcome.update(status="ok", exit_code=0)
        else:
            outcome.update(status="exit", exit_code=code if isinstance(code, int) else 1)
            if not isinstance(code, int):
                print(code, file=sys.stderr)
            outcome["frame"] = _user_frame_of(exc, display)
    except BaseException as exc:  # the script's own failure is the finding, not ours
        outcome.update(status="exception", exception=_exception_dict(exc), frame=_user_frame_of(exc, display))
        traceback.print_exc()
    finally:
        finish()
        if progress_out:
            progress_out.close()
    return 0


def _with_run(trace: Trace, base_run: dict) -> Trace:
    trace.run.update(base_run)
    return trace


def _user_frames(exc: BaseException):
    return [fs for fs in traceback.extract_tb(exc.__traceback__) if is_user_file(fs.filename)]


def _user_frame_of(exc: BaseException, display: PathDisplay) -> dict | None:
    frames = _user_frames(exc)
    if not frames:
        return None
    last = frames[-1]
    return {"path": display(last.filename), "line": last.lineno, "function": last.name}


def _exception_dict(exc: BaseException) -> dict:
    frames = _user_frames(exc) or traceback.extract_tb(exc.__traceback__)
    tb = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
    tb += "".join(traceback.format_exception_only(type(exc), exc))
    return {"type": type(exc).__name__, "message": str(exc), "traceback": tb}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
