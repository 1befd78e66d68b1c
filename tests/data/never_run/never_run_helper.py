"""Imported by train.py; trainlint importing it would leave a mark on disk."""
import os

with open(os.environ.get("TRAINLINT_EXECUTED_MARK", "trainlint-executed-user-code"), "w") as fh:
    fh.write("never_run_helper was imported\n")
raise ImportError("trainlint imported a user module")
