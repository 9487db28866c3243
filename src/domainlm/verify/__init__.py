"""The output verifier: every price, number-with-unit, stock claim and product name in an answer is checked
against the catalog and the retrieved products, then repaired, replaced by a grounded answer, or annotated.

    verifier = Verifier(catalog, mode="repair")
    result = verifier.check(answer_text, context)      # result.text, result.actions
"""

from domainlm.verify.claims import Claim, Mention, extract_claims
from domainlm.verify.verifier import MODES, Verification, Verifier, grounded_answer

__all__ = ["MODES", "Claim", "Mention", "Verification", "Verifier", "extract_claims", "grounded_answer"]
