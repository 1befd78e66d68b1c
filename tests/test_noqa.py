"""Suppression comments: ``# noqa`` on the reported line, ``# trainlint: noqa`` for a file."""

from __future__ import annotations

import json

import pytest

from trainlint.config import Config
from trainlint.engine import check
from trainlint.rule import Rule


class Marked(Rule):
    """Reports each line containing ``word``."""

    code = "TL811"
    name = "marked"
    word = "flagme"

    def check_static(self, ctx):
        for n, line in enumerate(ctx.facts.text.splitlines(), start=1):
            if self.word in line:
                yield ctx.finding(n, f"marked {self.word}")


class MarkedTwice(Marked):
    code = "TL812"
    name = "marked-twice"
    word = "both"


RULES = [Marked, MarkedTwice]


def run(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    report = check([str(path)], Config(root=str(tmp_path)), rules=RULES)
    return [(f.location.line, f.code) for f in report.findings]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("x = 1  # flagme", [(1, "TL811")]),
        ("x = 1  # flagme  # noqa: TL811", []),
        ("x = 1  # flagme  # noqa:TL811", []),
        ("x = 1  # flagme  # NOQA: tl811", []),
        ("x = 1  # flagme  # noqa", []),
        ("x = 1  # flagme  # noqa: TL501", [(1, "TL811")]),
        ("x = 1  # flagme both  # noqa: TL811", [(1, "TL812")]),
        ("x = 1  # flagme both  # noqa: TL811, TL812", []),
        ("x = 1  # flagme both  # noqa: TL812 TL811", []),
        # flake8's codes alongside ours on one comment.
        ("x = 1  # flagme  # noqa: E501, TL811", []),
    ],
)
def test_line_noqa(tmp_path, line, expected):
    assert run(tmp_path, "train.py", line + "\n") == expected


def test_noqa_applies_only_to_its_own_line(tmp_path):
    text = "a = 1  # flagme  # noqa: TL811\nb = 2  # flagme\n"
    assert run(tmp_path, "train.py", text) == [(2, "TL811")]


def test_file_noqa_skips_the_file(tmp_path):
    text = "# trainlint: noqa\na = 1  # flagme both\n"
    assert run(tmp_path, "train.py", text) == []


def test_file_noqa_with_codes_suppresses_only_those(tmp_path):
    text = "a = 1  # flagme both\n  # trainlint: noqa: TL812\n"
    assert run(tmp_path, "train.py", text) == [(1, "TL811")]


def test_file_noqa_must_stand_on_its_own_line(tmp_path):
    text = "a = 1  # flagme  # trainlint: noqa\n"
    assert run(tmp_path, "train.py", text) == [(1, "TL811")]


def test_noqa_in_a_notebook_cell(tmp_path):
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": ["# flagme in prose is not code\n"]},
            {"cell_type": "code", "source": ["a = 1\n", "b = 2  # flagme\n"]},
            {"cell_type": "code", "source": ["c = 3  # flagme  # noqa: TL811\n"]},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook))
    report = check([str(path)], Config(root=str(tmp_path)), rules=RULES)
    assert [(f.location.cell, f.location.line, f.code) for f in report.findings] == [(1, 2, "TL811")]


def test_noqa_silences_the_shipped_syntax_error_rule(tmp_path):
    text = "x = 1\nfor i in range(3)  # noqa: TL901\n    pass\n"
    (tmp_path / "broken.py").write_text(text)
    report = check([str(tmp_path / "broken.py")], Config(select=["TL901"]))
    assert report.findings == []


class BothSides(Rule):
    """Reports line 1 statically and line 2 from the trace."""

    code = "TL813"
    name = "both-sides"

    def check_static(self, ctx):
        yield ctx.finding(1, "static side")

    def check_trace(self, ctx):
        yield ctx.finding({"path": ctx.trace.script, "line": 2}, "probe side")


class ProbeOnly(Rule):
    """Reports line 3 of the traced script."""

    code = "TL814"
    name = "probe-only"

    def check_trace(self, ctx):
        yield ctx.finding({"path": ctx.trace.script, "line": 3}, "probe only")


def probe_run(tmp_path, text):
    from trainlint.probe.trace import Trace

    path = tmp_path / "train.py"
    path.write_text(text)
    report = check([str(path)], Config(root=str(tmp_path)), trace=Trace(script=str(path)), rules=[BothSides, ProbeOnly])
    return [(f.location.line, f.code, f.sources) for f in report.findings]


def test_noqa_on_the_static_line_silences_the_merged_probe_finding(tmp_path):
    assert probe_run(tmp_path, "a = 1\nb = 2\nc = 3\n") == [
        (1, "TL813", ["static", "probe"]),
        (3, "TL814", ["probe"]),
    ]
    assert probe_run(tmp_path, "a = 1  # noqa: TL813\nb = 2\nc = 3\n") == [(3, "TL814", ["probe"])]


def test_noqa_on_a_probe_finding_line(tmp_path):
    assert probe_run(tmp_path, "a = 1\nb = 2\nc = 3  # noqa: TL814\n") == [(1, "TL813", ["static", "probe"])]
