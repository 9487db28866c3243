"""The model under training: the base (bf16 where it is fast), LoRA from the config, and a forward that runs
the output head only on trained positions.

Computing logits only where there is a loss is the largest single saving on a small model: SmolLM2-135M's
tied head is 49152 x 576 (28M of its 135M weights), and assistant tokens are a minority of a RAG prompt.
"""

from __future__ import annotations

import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from domainlm.config import TrainConfig
from domainlm.models.base import cpu_supports_bf16
from domainlm.train.data import IGNORE, Batch
from domainlm.train.errors import TrainError


def use_bf16(cfg: TrainConfig, device: torch.device) -> bool:
    """Whether to run under bf16 autocast: `auto` means on GPUs with bf16 and CPUs with avx512_bf16/AMX."""
    if cfg.bf16 == "off":
        return False
    if device.type == "cuda":
        supported = torch.cuda.is_bf16_supported()
    else:
        supported = cpu_supports_bf16()
    if cfg.bf16 == "on" and not supported:
        warnings.warn(f"train.bf16 is `on` but this {device.type} has no fast bf16; it will be slow", stacklevel=2)
        return True
    return supported


def load_for_training(base_dir: Path, cfg: TrainConfig, device: torch.device, bf16: bool,
                      adapter_dir: Path | None = None):
    """The base model with a trainable LoRA: new from `cfg`, or continued from `adapter_dir` (DPO, resume)."""
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM

    kwargs: dict = {}
    if cfg.qlora:
        if device.type != "cuda":
            raise TrainError(
                "train.qlora is true, but QLoRA (4-bit bitsandbytes) needs a CUDA GPU and this run is on "
                f"{device.type}. Set train.qlora: false to train LoRA on the bf16/fp32 base instead."
            )
        try:
            from transformers import BitsAndBytesConfig
            import bitsandbytes  # noqa: F401
        except ImportError:
            raise TrainError("train.qlora needs bitsandbytes: pip install bitsandbytes") from None
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16 if bf16 else torch.float16,
        )
        kwargs["device_map"] = {"": device.index or 0}
    # Frozen base weights are stored in bf16 when autocast runs in bf16 anyway: half the memory and no
    # per-step casts. LoRA weights stay fp32 (peft's autocast_adapter_dtype) so the optimiser state is exact.
    dtype = torch.bfloat16 if bf16 else torch.float32
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=dtype, attn_implementation="sdpa", **kwargs)
    if cfg.qlora:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    else:
        model.to(device)
    model.config.use_cache = False
    if adapter_dir is not None:
        model = PeftModel.from_pretrained(model, adapter_dir, is_trainable=True)
    else:
        lora = LoraConfig(
            r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
            target_modules=cfg.target_modules, use_dora=cfg.use_dora, use_rslora=cfg.use_rslora,
            task_type="CAUSAL_LM", bias="none",
        )
        model = get_peft_model(model, lora)
    for p in model.parameters():
        if p.requires_grad and p.dtype != torch.float32:
            p.data = p.data.float()
    if device.type == "cpu":
        use_cheap_dropout(model)
    if bf16:
        # Under autocast the LoRA branch runs in bf16 anyway; peft's default upcast of every adapted layer's
        # input to the fp32 adapter dtype would add a full-activation copy (and an fp32 dropout) per layer.
        from peft.tuners.tuners_utils import BaseTunerLayer

        for module in model.modules():
            if isinstance(module, BaseTunerLayer):
                module.cast_input_dtype_enabled = False
    return model


def _keep_mask(seed: int, shape: torch.Size, threshold: int, device: torch.device) -> torch.Tensor:
    """A keep mask at drop rate threshold/65536: 16-bit slices of 64-bit random words from a generator seeded `seed`."""
    n = shape.numel()
    generator = torch.Generator(device=device).manual_seed(seed)
    # The full signed range: `random_()` on int64 leaves the top bit 0, which would bias one slice in four.
    words = torch.randint(-2**63, 2**63 - 1, ((n + 3) // 4,), dtype=torch.int64, device=device, generator=generator)
    return words.view(torch.int16)[:n].view(shape) >= threshold - 32768


class DropoutPool:
    """Pre-scaled dropout multipliers (0 or 1/(1-p)) that every CheapDropout of a model takes its masks from.

    Why not a fresh mask per call: on a 2-core CPU, drawing masks was ~29% of a SmolLM2-135M LoRA step at
    4 x 512 (torch's CPU generator is serial, ~10 ms for a 2048 x 1536 mask with its compare and select),
    while one multiply by a window of this pool takes ~0.6 ms. Each mask is a contiguous window at a random
    offset, so within a mask the drops are i.i.d. at rate p exactly; masks drawn in one micro-batch may overlap
    (one is then the other shifted by a random number of elements), and `refresh`, which `TokenLogProbs` calls
    at every training forward, draws a new pool, so micro-batches never share masks. Offsets and pools come
    from torch's default generator: seeded and checkpointed like nn.Dropout, so a resumed run draws the same.
    """

    SMALLEST, LARGEST = 2**20, 2**24

    def __init__(self):
        self.want = 0  # elements of the largest mask expected before the next refresh (0: as they come)
        self._pools: dict[tuple, torch.Tensor] = {}
        self._drawn = 0

    def refresh(self, largest_mask: int = 0) -> None:
        """Forget the pools; the next masks come from new ones sized for masks of up to `largest_mask`."""
        self.want, self._pools, self._drawn = largest_mask, {}, 0

    def window(self, n: int, threshold: int, scale: float, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        key = (threshold, dtype, device)
        pool = self._pools.get(key)
        # Without refreshes (a model called directly), a pool is drawn again once it has lent 16 times its size.
        if pool is None or pool.numel() < n or self._drawn >= 16 * pool.numel():
            size = max(2 * n, min(self.LARGEST, max(self.SMALLEST, 4 * max(n, self.want))))
            seed = int(torch.randint(0, 2**62, (1,)))
            keep = _keep_mask(seed, torch.Size((size,)), threshold, device)
            pool = self._pools[key] = torch.zeros(size, dtype=dtype, device=device).masked_fill_(keep, scale)
            self._drawn = 0
        self._drawn += n
        offset = int(torch.randint(0, pool.numel() - n + 1, (1,)))
        return pool[offset:offset + n]


class _PoolScale(torch.autograd.Function):
    """x * window: forward and backward multiply by the same window of the pool (the view keeps it alive)."""

    @staticmethod
    def forward(ctx, x, window):
        ctx.window = window
        return x * window.view(x.shape)

    @staticmethod
    def backward(ctx, grad):
        window = ctx.window.view(grad.shape)
        return grad * (window if window.dtype == grad.dtype else window.to(grad.dtype)), None


class CheapDropout(nn.Module):
    """Inverted dropout whose masks are windows of a shared `DropoutPool` (see there for why and what it keeps).

    The drop probability is quantised to 1/65536 (0.05 -> 0.050003) and the scale uses that exact value, so
    the expectation is unchanged.
    """

    def __init__(self, p: float, pool: DropoutPool | None = None):
        super().__init__()
        self.threshold = round(p * 65536)
        self.p = self.threshold / 65536
        self.scale = 1.0 / (1.0 - self.p)
        self.pool = pool or DropoutPool()
        self._last: tuple | None = None  # (weakref to the last input, its version, weakref to its output)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.threshold == 0:
            return x
        # A sibling projection already dropped this very tensor (q/k/v read one input, gate/up another):
        # reuse its output. Weak references only, so nothing outlives the step.
        if self._last is not None:
            source, version, out = self._last[0](), self._last[1], self._last[2]()
            if source is x and version == x._version and out is not None and out.requires_grad == x.requires_grad:
                return out
        out = self._drop(x)
        self._last = (weakref.ref(x), x._version, weakref.ref(out))
        return out

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return _PoolScale.apply(x, self.pool.window(x.numel(), self.threshold, self.scale, x.dtype, x.device))

    def extra_repr(self) -> str:
        return f"p={self.p:.6f}"


def use_cheap_dropout(model) -> None:
    """Swap every LoRA `nn.Dropout` for CheapDropout (same p); LoRA without dropout keeps peft's Identity.

    The adapted projections of one block (attention's q/k/v/o, the MLP's gate/up/down) share one CheapDropout,
    so those that read the same input tensor (q/k/v, gate/up) get one mask and one dropped copy, as if the
    dropout sat on the block's input: 4 masks a Llama layer instead of 7. Each still sees inputs dropped at rate
    p; what changes is that q, k and v drop the same features in a step. On SmolLM2-135M at 4 x 512 in bf16 that
    is 3 fewer masks and dropped copies a layer, about 10 MB of activations a layer not kept for the backward.
    All of them take their masks from one `DropoutPool`.
    """
    from peft.tuners.lora import LoraLayer

    pool = DropoutPool()
    shared: dict[tuple[str, str, float], CheapDropout] = {}
    for qualified, module in model.named_modules():
        if isinstance(module, LoraLayer):
            parent = qualified.rpartition(".")[0]
            for name, layer in module.lora_dropout.items():
                if isinstance(layer, nn.Dropout) and layer.p > 0:
                    key = (parent, name, layer.p)
                    if key not in shared:
                        shared[key] = CheapDropout(layer.p, pool)
                    module.lora_dropout[name] = shared[key]


def dropout_pools(model) -> tuple[list[DropoutPool], int]:
    """The DropoutPools of a model's CheapDropouts and the widest input one of them drops (0 if none)."""
    from peft.tuners.lora import LoraLayer

    pools: dict[int, DropoutPool] = {}
    widest = 0
    for module in model.modules():
        if isinstance(module, LoraLayer):
            for layer in module.lora_dropout.values():
                if isinstance(layer, CheapDropout):
                    pools[id(layer.pool)] = layer.pool
                    widest = max(widest, module.in_features)
    return list(pools.values()), widest


class TokenLogProbs(nn.Module):
    """log p(target) for every trained position of a batch: (n_trained,) plus each one's segment id.

    Wrapping the forward in one module lets DDP see a single call (its gradient hooks fire on `forward`).
    """

    def __init__(self, model):
        super().__init__()
        self.model = model
        self._pools, self._widest = dropout_pools(model)

    def forward(self, input_ids, position_ids, labels, segment_ids):
        if self.training:  # every micro-batch draws its dropout masks from a new pool (see DropoutPool)
            for pool in self._pools:
                pool.refresh(input_ids.numel() * self._widest)
        base = self.model.get_base_model()
        # No attention_mask: transformers sees position_ids restart and builds a block-diagonal causal mask.
        hidden = base.get_decoder()(input_ids=input_ids, position_ids=position_ids, use_cache=False).last_hidden_state
        targets = labels[:, 1:]
        keep = targets != IGNORE
        logits = base.get_output_embeddings()(hidden[:, :-1][keep]).float()  # (n_trained, vocab)
        logp = -F.cross_entropy(logits, targets[keep], reduction="none")
        return logp, segment_ids[:, 1:][keep]


def run_logps(module: nn.Module, batch: Batch):
    return module(batch.input_ids, batch.position_ids, batch.labels, batch.segment_ids)


@dataclass
class MemoryEstimate:
    params_gb: float
    optimizer_gb: float
    activations_gb: float
    available_gb: float
    where: str

    @property
    def total_gb(self) -> float:
        return self.params_gb + self.optimizer_gb + self.activations_gb


def available_memory_gb(device: torch.device) -> tuple[float, str]:
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return free / 2**30, f"free memory on {torch.cuda.get_device_name(device)}"
    import psutil

    return psutil.virtual_memory().available / 2**30, "available RAM"


# Attention implementations that never hold the [heads, seq, seq] scores (fused kernels): for these the
# quadratic part of the activation count is left out.
FUSED_ATTENTION = frozenset({"sdpa", "flash_attention_2", "flash_attention_3", "flex_attention"})


def estimate_memory(model, cfg: TrainConfig, device: torch.device, bf16: bool) -> MemoryEstimate:
    """Params + optimiser + activations for one micro-batch (Korthikanti et al.'s per-layer count
    s*b*h*(34 + 5*a*s/h), 2-byte activations, plus fp32 logits of every position as an upper bound on the
    trained ones).

    The 5*a*s/h term is the attention scores, softmax and their dropout, which a fused attention kernel
    (SDPA, flash) never stores, so it is counted only for eager attention. With it, SmolLM2-135M at batch
    4 x 1024 in fp32 was estimated at 17.1 GiB against a measured peak RSS of 6.7 GiB (2-core AMD EPYC, the
    example's product-expert); without it, 6.6 GiB. At 4 x 512 in bf16 it gives 2.2-2.5 GiB against the 2.54 GB
    bench/train_throughput.py measured on a Xeon.
    """
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer = trainable * (4 + 4 + 8)  # grad + fp32 copy headroom + Adam moments
    config = model.get_base_model().config
    b, s = cfg.batch_size, cfg.max_seq_len
    h = getattr(config, "hidden_size", 1024)
    layers = getattr(config, "num_hidden_layers", 12)
    heads = getattr(config, "num_attention_heads", 16)
    vocab = getattr(config, "vocab_size", 32000)
    act_bytes = 2 if bf16 else 4
    fused = getattr(config, "_attn_implementation", None) in FUSED_ATTENTION
    per_layer = s * b * h * (34 + (0 if fused else 5 * heads * s / h)) * act_bytes / 2
    activations = layers * per_layer + b * s * vocab * 4 * 2
    available, where = available_memory_gb(device)
    return MemoryEstimate(params / 2**30, optimizer / 2**30, activations / 2**30, available, where)


def memory_warning(est: MemoryEstimate) -> str | None:
    """A warning when the estimate exceeds 90% of what is available, with what to change."""
    if est.total_gb <= 0.9 * est.available_gb:
        return None
    return (
        f"this config may not fit in memory: about {est.total_gb:.1f} GiB needed (params {est.params_gb:.1f}, "
        f"optimiser {est.optimizer_gb:.1f}, activations {est.activations_gb:.1f}) vs {est.available_gb:.1f} GiB "
        f"{est.where}. Lower train.batch_size or train.max_seq_len (and raise train.grad_accum), or set train.qlora on a GPU."
    )
