"""Evaluation: the Assistant pipeline measured on held-out questions, attacks and a forgetting set.

    from domainlm.eval import evaluate
    result = evaluate(project, run="20261123-1530-product-expert-sft")   # eval/<run>/{metrics.json,report.html}

Metrics read facts out of the answers and compare them with the catalog (`facts.py`), classify refusals
and leaks (`detect.py`), and add reference overlap, forgetting, held-out loss and an optional LLM judge.
"""

from domainlm.eval.items import EvalError, EvalItem

__all__ = ["EvalError", "EvalItem", "evaluate"]


def __getattr__(name: str):
    if name == "evaluate":
        from domainlm.eval.recipe import evaluate

        return evaluate
    raise AttributeError(name)
