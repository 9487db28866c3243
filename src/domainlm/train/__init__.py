"""Fine-tuning: LoRA SFT and DPO on the project's datasets, into run folders the registry reads."""

from domainlm.train.errors import DatasetError, TrainError
from domainlm.train.recipe import train, train_all

__all__ = ["DatasetError", "TrainError", "train", "train_all"]
