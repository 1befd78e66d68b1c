"""The fix catalog: the techniques of optimizing-neural-networks.md in our own words.

Rules point at techniques by id (``FixRef("weighted-loss", {...})``); they never embed fix prose.
Each technique says when it helps and why, and carries a code template that the finding's
params fill with the user's names and numbers. See techniques.py for the entries.
"""

from trainlint.catalog.technique import RenderedFix, Technique, get, render, techniques

__all__ = ["RenderedFix", "Technique", "get", "render", "techniques"]
