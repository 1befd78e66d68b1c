"""Which stack frames belong to the user's code, and how their paths are shown.

Shared by the tracer (walking live frames) and the runner (reading a faulthandler dump of a
crashed or hung child). No torch here.
"""

from __future__ import annotations

import os
import re
import sys
import sysconfig

_TRAINLINT_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY_DIRS = tuple(
    {
        os.path.abspath(p)
        for p in (
            sysconfig.get_paths().get("stdlib"),
            sysconfig.get_paths().get("platstdlib"),
            sysconfig.get_paths().get("purelib"),
            sysconfig.get_paths().get("platlib"),
        )
        if p
    }
)
_FAULT_FRAME_RE = re.compile(r'^\s*File "(?P<path>.+)", line (?P<line>\d+) in (?P<function>\S+)')


def is_user_file(filename: str) -> bool:
    """True for a real file outside trainlint, the standard library and installed packages."""
    if not filename or filename.startswith("<"):
        return False
    path = os.path.abspath(filename)
    if path.startswith(_TRAINLINT_DIR + os.sep):
        return False
    if "site-packages" in path or "dist-packages" in path:
        return False
    return not any(path.startswith(d + os.sep) for d in _LIBRARY_DIRS)


class PathDisplay:
    """Shows the probed script by the path the user typed, other files relative to the working
    directory when under it, so that probe findings line up with static ones."""

    def __init__(self, script: str, script_display: str | None = None):
        self.script_abs = os.path.abspath(script)
        self.script_display = script_display or script
        self.cwd = os.getcwd()

    def __call__(self, filename: str) -> str:
        path = os.path.abspath(filename)
        if path == self.script_abs:
            return self.script_display
        if path.startswith(self.cwd + os.sep):
            return os.path.relpath(path, self.cwd)
        return path


def user_frame(display: PathDisplay, start=None) -> dict | None:
    """The innermost live frame in the user's code, as a trace frame dict."""
    frame = start or sys._getframe(1)
    while frame is not None:
        if is_user_file(frame.f_code.co_filename):
            return {"path": display(frame.f_code.co_filename), "line": frame.f_lineno, "function": frame.f_code.co_name}
        frame = frame.f_back
    return None


def frame_from_fault_dump(text: str, display: PathDisplay) -> dict | None:
    """The innermost user frame of the main thread in a faulthandler dump (most recent first)."""
    blocks = re.split(r"\n(?=(?:Current thread|Thread) 0x)", text)
    # The handler runs in the main thread, so its block is the "Current thread" one.
    blocks.sort(key=lambda b: 0 if "Current thread" in b.split("\n", 1)[0] else 1)
    for block in blocks:
        for line in block.splitlines():
            m = _FAULT_FRAME_RE.match(line)
            if m and is_user_file(m["path"]):
                return {"path": display(m["path"]), "line": int(m["line"]), "function": m["function"]}
    return None
