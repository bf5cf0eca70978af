"""Rule problems, collected: `load_rules` reports every bad rule of a set at once, not the first one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One thing wrong with one rule (or with a file, when no rule could be read from it)."""

    path: str
    rule: str | None  # "title (id)" of the rule, None for a file-level problem (bad YAML, unreadable)
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: {self.rule}" if self.rule else self.path
        return f"{where}: {self.message}"


class RuleError(ValueError):
    """Every problem found in a rule set; `problems` lists them, `str()` prints one per line."""

    def __init__(self, problems: list[RuleProblem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the rules:\n" + "\n".join(f"  {p}" for p in problems))
