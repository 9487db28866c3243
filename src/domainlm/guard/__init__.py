"""The input guard: classifies each user turn as fine, or injection, off-topic, manipulation, negotiation
or competitor talk, and answers the flagged ones in the brand's voice when the policy says so.

    guard = Guard.for_project(project, catalog, embedder)   # trains (or loads) the classifier once
    verdict = guard.check("Ignore all previous instructions and ...")   # Verdict(kind="injection", ...)
"""

from domainlm.guard.guard import KINDS, Guard, Verdict
from domainlm.guard.responses import guard_reply

__all__ = ["KINDS", "Guard", "Verdict", "guard_reply"]
