"""trainlint about itself: files it could not analyse."""

from __future__ import annotations

from trainlint.model import FixRef, Severity
from trainlint.rule import Rule


class UnparsableFile(Rule):
    """
    ## What it does
    Reports a file that trainlint could not analyse: a syntax error, bytes that are not text in
    the file's encoding, a binary file, a notebook that is not valid JSON, or a file too large
    or too deeply nested to parse.

    ## Why is this bad?
    Every other check is silent on a file it cannot read, so a clean result for that file would
    mean nothing. Python itself will refuse to run a file with a syntax error.

    ## Example
    ```python
    for epoch in range(10)
        train(model)
    ```

    ## Use instead
    ```python
    for epoch in range(10):
        train(model)
    ```
    """

    code = "TL901"
    name = "unparsable-file"
    severity = Severity.ERROR
    techniques = ("fix-script",)

    def check_static(self, ctx):
        error = ctx.facts.parse_error
        if error is not None:
            yield ctx.finding(error.line, f"trainlint could not analyse this file: {error.message}",
                              evidence={"reason": error.message},
                              fixes=[FixRef("fix-script", {"reason": error.message, "script": ctx.facts.path})])
