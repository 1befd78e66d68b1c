"""The probed script itself: a run that raised, exited, hung or crashed."""

from __future__ import annotations

from trainlint.model import FixRef, Severity
from trainlint.rule import Rule

_FAILED = ("exception", "exit", "timeout", "crash")


class ProbeScriptFailed(Rule):
    """
    ## What it does
    Reports a probe run that did not finish normally: the script raised an exception, called
    `sys.exit` with a non-zero status, ran past the time limit (`--timeout`), or the interpreter
    died (a signal such as SIGSEGV). The finding names what happened and the line of the user's
    code where it happened. A run stopped by the epoch budget is not a failure.

    ## Why is this bad?
    The probe's other checks only see what ran before the failure, so a short or empty trace
    means they have little to judge; and a script that fails under the probe usually fails the
    same way when run on its own.

    ## Example
    ```python
    import torch

    weights = torch.randn(3, 4)
    inputs = torch.randn(2, 3)
    print(inputs @ weights.T)  # shapes (2, 3) and (4, 3) do not multiply
    ```

    ## Use instead
    ```python
    import torch

    weights = torch.randn(3, 4)
    inputs = torch.randn(2, 3)
    print(inputs @ weights)
    ```
    """

    code = "TL902"
    name = "probe-script-failed"
    severity = Severity.ERROR
    techniques = ("fix-script",)

    def check_trace(self, ctx):
        trace = ctx.trace
        run = trace.run or {}
        status = run.get("status")
        if status not in _FAILED:
            return
        frame = run.get("frame")
        where = f" at line {frame['line']} in {frame.get('function') or '?'}" if frame else ""
        exc = run.get("exception") or {}
        if status == "exception":
            what = f"raised {exc.get('type', 'an exception')}: {exc.get('message', '')}".rstrip(": .")
        elif status == "exit":
            what = f"exited with status {run.get('exit_code')}"
        elif status == "timeout":
            limit = (run.get("budgets") or {}).get("timeout_s")
            what = f"was still running after the {limit:g}s time limit and was stopped" if limit else "timed out"
        else:
            what = f"crashed ({run.get('signal') or 'exit code ' + str(run.get('exit_code'))})"
            if exc.get("message"):
                what += f": {exc['message']}"
        epochs = len(trace.epochs)
        message = f"the script {what}{where}" + (f" after {epochs} epoch(s)" if epochs else "")
        error = f"{exc.get('type')}: {exc.get('message')}" if exc.get("type") else what
        yield ctx.finding(
            frame,
            message,
            evidence={
                "status": status,
                "exit_code": run.get("exit_code"),
                "signal": run.get("signal"),
                "exception": exc or None,
                "frame": frame,
                "output_tail": run.get("output_tail"),
                "epochs": epochs,
            },
            fixes=[FixRef("fix-script", {"script": trace.script, "args": " ".join(run.get("argv") or []), "error": error})],
        )
