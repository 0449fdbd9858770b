"""A rejected piece of input: which file, which row or feature, which field, and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One reason a row or feature was not imported; ``raw`` keeps the input so nothing is lost."""

    file: str
    location: str  # "row 12", "feature 3", or "" for the whole file
    field: str | None
    kind: str  # short and stable, e.g. "bad code", "duplicate code"; summaries group by it
    detail: str
    raw: dict | None = None

    @property
    def reason(self) -> str:
        """Kind and detail in one sentence."""
        return f"{self.kind}: {self.detail}"

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.file, self.location) if part)
        field = f", field '{self.field}'" if self.field else ""
        return f"{where}{field}: {self.reason}"


def summarize(issues: list[Issue]) -> str:
    """How many rows or features were skipped, per kind of problem."""
    if not issues:
        return "nothing skipped"
    counts = Counter(issue.kind for issue in issues)
    return "\n".join([f"{len(issues)} skipped:"] + [f"  {n} × {kind}" for kind, n in sorted(counts.items())])
