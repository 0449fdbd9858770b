"""Where the shared real public data lives (beside the repository), for tests that read it."""

from pathlib import Path

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
