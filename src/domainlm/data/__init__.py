"""Dataset building from catalog, knowledge and brand, and checks for datasets users bring.

    from domainlm.data import build_dataset
    result = build_dataset(project)            # writes data/{train,val,test,golden,dpo}.jsonl + report
"""

from domainlm.data.build import BuildResult, build_dataset, default_size
from domainlm.data.generators import GENERATORS
from domainlm.data.grounding import GroundingCheck

__all__ = ["BuildResult", "GENERATORS", "GroundingCheck", "build_dataset", "default_size"]
