"""Release gates: `eval.gates` thresholds checked against the metrics; `domainlm eval` exits 1 on a failure."""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass

OPS = {">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}


@dataclass
class GateResult:
    metric: str
    rule: str
    value: float | None
    passed: bool
    support: int | None = None  # questions (or claims) the metric was measured over, where known

    def describe(self) -> str:
        shown = "not measured" if self.value is None else f"{self.value:g}"
        if self.value is not None and self.support is not None:
            shown += f" (over {self.support})"
        return f"{self.metric} {self.rule.strip()}: {shown} -> {'pass' if self.passed else 'FAIL'}"

    def as_dict(self) -> dict:
        return {"metric": self.metric, "rule": self.rule.strip(), "value": self.value, "passed": self.passed,
                "support": self.support}


def lookup(metrics: dict, name: str):
    """A headline key (`price_accuracy`) or a dotted path into the levels (`model.tuned.pass_rate.knowledge`)."""
    if name in metrics.get("metrics", {}):
        return metrics["metrics"][name]
    node = metrics.get("levels", {})
    parts = name.split(".")
    for i in range(len(parts)):
        head = parts[i]
        if isinstance(node, dict) and head in node:
            node = node[head]
            rest = ".".join(parts[i + 1:])
            if isinstance(node, dict) and rest in node:
                return node[rest]
        else:
            return None
    return node if isinstance(node, (int, float)) else None


def check_gates(gates: dict[str, str], metrics: dict) -> list[GateResult]:
    """Every gate, in config order; a metric that was not measured fails its gate."""
    results = []
    for name, rule in gates.items():
        op, threshold = re.fullmatch(r"\s*(>=|<=|==|>|<)\s*(-?[0-9.]+)\s*", rule).groups()
        value = lookup(metrics, name)
        passed = value is not None and not isinstance(value, bool) and OPS[op](float(value), float(threshold))
        results.append(GateResult(name, rule, value, passed, _support(metrics, name)))
    return results


def _support(metrics: dict, name: str) -> int | None:
    """How many questions (or claims) metric `name` was measured over: its `SUPPORT` key at the same level
    (the system level's tuned variant for a headline key)."""
    from domainlm.eval.aggregate import SUPPORT, headline_level

    head, _, last = name.rpartition(".")
    if last not in SUPPORT:
        return None
    if head:
        value = lookup(metrics, f"{head}.{SUPPORT[last]}")
    else:
        levels = metrics.get("levels", {})
        top = headline_level(levels)
        value = levels[top].get("tuned", {}).get(SUPPORT[last]) if top else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
