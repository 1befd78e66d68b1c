"""Prints what a script run as `python main_script.py ARGS` would see."""

import os
import sys

import helper_module  # a sibling module: the script's folder must come first on sys.path

print("name", __name__)
print("argv", sys.argv[1:])
print("cwd", os.getcwd())
print("path0", sys.path[0])
print("cuda", repr(os.environ.get("CUDA_VISIBLE_DEVICES")))
print("helper", helper_module.ANSWER)
