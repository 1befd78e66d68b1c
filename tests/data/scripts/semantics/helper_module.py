"""A module next to main_script.py."""

ANSWER = 42
