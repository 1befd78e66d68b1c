import sys
from pathlib import Path

# Test helpers (expectations.py, browser.py) import as top-level modules.
sys.path.insert(0, str(Path(__file__).resolve().parent))
