"""GGUF files for the Llama family: the base model (f16 / q8_0) and PEFT LoRA adapters in llama.cpp's format.

Written by hand with `gguf.GGUFWriter`: llama.cpp's `convert_hf_to_gguf.py` and `convert_lora_to_gguf.py`
are scripts in the llama.cpp repository, not part of the `gguf` package, so the Llama-specific parts
(metadata keys, the GPT-2 style BPE tokenizer, the q/k row permutation) are reproduced here for the Llama
architecture only; any other architecture is refused with an error that names it. Tensor names come from
the `gguf` package's own HF -> GGUF mapping.

Shapes: a Hugging Face linear weight is `[out, in]` in torch; GGUF lists dimensions fastest-first, so the
same array appears as `[in, out]` in GGUF, and the writer reverses the numpy shape for us.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import SafetensorError

from domainlm.export.errors import ExportError


# Output formats for the base model: name -> (GGML tensor type for 2-D weights, llama.cpp file type).
GGUF_TYPES = {"f16": ("F16", 1), "q8_0": ("Q8_0", 7), "f32": ("F32", 0)}

SUPPORTED_ARCHITECTURES = {"LlamaForCausalLM"}

# tokenizer.json pre-tokenizer -> llama.cpp's `tokenizer.ggml.pre`. llama.cpp itself identifies the
# pre-tokenizer by hashing the tokens of a probe text; we match the structure instead, which covers the
# tokenizers this project ships. A plain byte-level pre-tokenizer is GPT-2's; SmolLM2's upstream
# tokenizer adds single-digit splitting first, which llama.cpp calls "smollm".
_PRE_TOKENIZERS = {
    json.dumps({"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}): "gpt-2",
    json.dumps(
        {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Digits", "individual_digits": True},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            ],
        }
    ): "smollm",
}


@dataclass(frozen=True)
class LlamaShape:
    """The few hyperparameters the GGUF metadata and the q/k permutation need."""

    n_layer: int
    n_embd: int
    n_ff: int
    n_head: int
    n_head_kv: int
    head_dim: int
    context_length: int
    rope_theta: float
    rms_eps: float
    vocab_size: int
    tied_embeddings: bool

    @classmethod
    def from_config(cls, config: dict, where: str) -> "LlamaShape":
        archs = config.get("architectures") or [config.get("model_type", "?")]
        if archs[0] not in SUPPORTED_ARCHITECTURES:
            raise ExportError(
                f"{where}: architecture {archs[0]!r} is not supported for GGUF export "
                f"(supported: {', '.join(sorted(SUPPORTED_ARCHITECTURES))}). Export --format merged or vllm instead."
            )
        rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
        if rope.get("rope_type", "default") not in ("default", None):
            raise ExportError(f"{where}: rope type {rope.get('rope_type')!r} is not supported for GGUF export.")
        n_head = config["num_attention_heads"]
        return cls(
            n_layer=config["num_hidden_layers"],
            n_embd=config["hidden_size"],
            n_ff=config["intermediate_size"],
            n_head=n_head,
            n_head_kv=config.get("num_key_value_heads") or n_head,
            head_dim=config.get("head_dim") or config["hidden_size"] // n_head,
            context_length=config.get("max_position_embeddings", 2048),
            rope_theta=float(rope.get("rope_theta", config.get("rope_theta", 10000.0))),
            rms_eps=float(config.get("rms_norm_eps", 1e-6)),
            vocab_size=config["vocab_size"],
            tied_embeddings=bool(config.get("tie_word_embeddings", False)),
        )


def read_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.exists():
        raise ExportError(f"{folder}: not a Hugging Face model folder (no config.json).")
    return json.loads(path.read_text(encoding="utf-8"))


def permute_rows(weight: np.ndarray, n_head: int) -> np.ndarray:
    """Reorder q/k rows from HF's rotate-half layout to llama.cpp's interleaved RoPE layout.

    `weight` is `[n_head * head_dim, ...]` (rows = output features); the same permutation llama.cpp's
    converter applies, so a LoRA `B` matrix for q/k must get it too (`A` is untouched).
    """
    rows = weight.shape[0]
    return (
        weight.reshape(n_head, 2, rows // n_head // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)
    )


def _gguf_name(hf_name: str, n_layer: int) -> str:
    import gguf

    mapping = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_layer)
    name = mapping.get_name(hf_name, try_suffixes=(".weight", ".bias"))
    if name is None:
        raise ExportError(f"tensor {hf_name!r} has no GGUF name for the llama architecture.")
    return name


def _head_count_for(hf_name: str, shape: LlamaShape) -> int | None:
    """How many heads to permute by: q by n_head, k by n_head_kv, everything else not at all."""
    if hf_name.endswith("q_proj.weight") or ".q_proj." in hf_name:
        return shape.n_head
    if hf_name.endswith("k_proj.weight") or ".k_proj." in hf_name:
        return shape.n_head_kv
    return None


def _add_architecture(writer, shape: LlamaShape, name: str) -> None:
    writer.add_name(name)
    writer.add_context_length(shape.context_length)
    writer.add_embedding_length(shape.n_embd)
    writer.add_block_count(shape.n_layer)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head_kv)
    writer.add_rope_freq_base(shape.rope_theta)
    writer.add_layer_norm_rms_eps(shape.rms_eps)
    writer.add_rope_dimension_count(shape.head_dim)
    writer.add_vocab_size(shape.vocab_size)


def _add_tokenizer(writer, folder: Path, shape: LlamaShape) -> None:
    """A GPT-2 style BPE vocabulary from `tokenizer.json`, with merges, token types and the chat template."""
    import gguf
    from transformers import AutoTokenizer

    path = folder / "tokenizer.json"
    if not path.exists():
        raise ExportError(f"{folder}: no tokenizer.json; GGUF export needs a fast (BPE) tokenizer.")
    spec = json.loads(path.read_text(encoding="utf-8"))
    if spec["model"]["type"] != "BPE":
        raise ExportError(f"{path}: tokenizer model {spec['model']['type']!r} is not supported (BPE only).")
    pre = _PRE_TOKENIZERS.get(json.dumps(spec.get("pre_tokenizer")))
    if pre is None:
        raise ExportError(f"{path}: pre-tokenizer {spec.get('pre_tokenizer')} has no llama.cpp equivalent here.")

    tokenizer = AutoTokenizer.from_pretrained(folder)
    by_id = {i: t for t, i in tokenizer.get_vocab().items()}
    added = {a["id"]: a for a in spec.get("added_tokens", [])}
    tokens, types = [], []
    for i in range(shape.vocab_size):
        if i not in by_id:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.CONTROL if added[i].get("special") else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.NORMAL)
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    for setter, token in (
        (writer.add_bos_token_id, tokenizer.bos_token),
        (writer.add_eos_token_id, tokenizer.eos_token),
        (writer.add_unk_token_id, tokenizer.unk_token),
        (writer.add_pad_token_id, tokenizer.pad_token or tokenizer.eos_token),
    ):
        if token is not None:
            setter(tokenizer.convert_tokens_to_ids(token))
    probe = tokenizer("a")["input_ids"]
    writer.add_add_bos_token(bool(probe) and probe[0] == tokenizer.bos_token_id)
    writer.add_add_space_prefix(False)
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)


def _encode(array: np.ndarray, ggml_type: str):
    """(data, raw_dtype) for GGUFWriter.add_tensor; 1-D tensors (norms) always stay f32."""
    import gguf

    if array.ndim == 1 or ggml_type == "F32":
        return array.astype(np.float32), None
    if ggml_type == "F16":
        return array.astype(np.float16), None
    qtype = gguf.GGMLQuantizationType[ggml_type]
    return gguf.quants.quantize(array.astype(np.float32), qtype), qtype


def _load_torch_state(folder: Path) -> dict[str, np.ndarray]:
    """Like load_state_dict, but via torch so bf16 checkpoints load too."""
    import torch
    from safetensors.torch import load_file

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise ExportError(f"{folder}: no *.safetensors weights to export.")
    out: dict[str, np.ndarray] = {}
    for file in files:
        try:
            for k, v in load_file(str(file)).items():
                out[k] = v.to(torch.float32).numpy()
        except (OSError, RuntimeError, ValueError, SafetensorError) as exc:
            raise ExportError(f"{file}: cannot read the weights ({exc}).") from exc
    return out


def write_base_gguf(folder: Path, target: Path, gguf_type: str = "f16", name: str | None = None) -> Path:
    """Write the HF Llama model in `folder` to `target` as a GGUF llama.cpp loads (f16, q8_0 or f32)."""
    import gguf

    if gguf_type not in GGUF_TYPES:
        raise ExportError(f"GGUF type {gguf_type!r} is not supported; choose one of {', '.join(GGUF_TYPES)}.")
    ggml_type, file_type = GGUF_TYPES[gguf_type]
    shape = LlamaShape.from_config(read_config(folder), str(folder))
    state = _load_torch_state(folder)

    writer = gguf.GGUFWriter(str(target), "llama")
    writer.add_type(gguf.GGUFType.MODEL)
    _add_architecture(writer, shape, name or folder.name)
    writer.add_file_type(file_type)
    _add_tokenizer(writer, folder, shape)
    for hf_name, array in state.items():
        if hf_name == "lm_head.weight" and shape.tied_embeddings:
            continue  # llama.cpp reuses token_embd when output.weight is absent
        if "rotary_emb" in hf_name:
            continue
        heads = _head_count_for(hf_name, shape)
        if heads is not None:
            array = permute_rows(array, heads)
        check_finite(array, hf_name)
        data, raw = _encode(array, ggml_type)
        writer.add_tensor(_gguf_name(hf_name, shape.n_layer), data, raw_dtype=raw)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    _flush(writer)
    return target


def check_finite(array: np.ndarray, name: str) -> None:
    if not np.isfinite(array).all():
        raise ExportError(f"tensor {name!r} holds NaN or inf values; refusing to export it.")


def _flush(writer) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


# PEFT module names (the last component) this writer knows how to place in llama.cpp.
_LORA_TARGETS = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


def read_adapter_config(adapter_dir: Path) -> dict:
    path = adapter_dir / "adapter_config.json"
    if not path.exists():
        raise ExportError(f"{adapter_dir}: not a PEFT adapter folder (no adapter_config.json).")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ExportError(f"{path}: corrupt adapter config ({exc}).") from exc
    if config.get("peft_type", "LORA") != "LORA":
        raise ExportError(f"{path}: adapter type {config.get('peft_type')!r} is not LoRA.")
    return config


def load_adapter_tensors(adapter_dir: Path) -> dict[str, np.ndarray]:
    file = adapter_dir / "adapter_model.safetensors"
    if not file.exists():
        raise ExportError(f"{adapter_dir}: adapter weights adapter_model.safetensors are missing.")
    return _load_torch_state_file(file)


def _load_torch_state_file(file: Path) -> dict[str, np.ndarray]:
    import torch
    from safetensors.torch import load_file

    try:
        return {k: v.to(torch.float32).numpy() for k, v in load_file(str(file)).items()}
    except (OSError, RuntimeError, ValueError, SafetensorError) as exc:
        raise ExportError(f"{file}: corrupt adapter weights ({exc}).") from exc


def write_lora_gguf(adapter_dir: Path, base_config: dict, target: Path, name: str) -> Path:
    """Write a PEFT LoRA adapter as a llama.cpp GGUF LoRA adapter.

    llama.cpp scales each delta by `alpha / rank` read from `adapter.lora.alpha` and the tensor shapes,
    so rsLoRA's `alpha / sqrt(r)` is written as the equivalent alpha `alpha * sqrt(r)`. `lora_a` is PEFT's
    `A` (`[r, in]` in torch, `[in, r]` in GGUF), `lora_b` is `B` (`[out, r]`), with q/k rows of `B`
    permuted like the base weights.
    """
    import gguf

    shape = LlamaShape.from_config(base_config, "base model")
    config = read_adapter_config(adapter_dir)
    if config.get("use_dora"):
        raise ExportError(f"{adapter_dir}: DoRA adapters have no llama.cpp format; export --format merged.")
    rank, alpha = int(config["r"]), float(config["lora_alpha"])
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise ExportError(f"{adapter_dir}: per-module rank/alpha patterns are not supported for GGUF.")
    if config.get("use_rslora"):
        alpha = alpha * rank**0.5
    tensors = load_adapter_tensors(adapter_dir)

    pairs: dict[str, dict[str, np.ndarray]] = {}
    for key, array in tensors.items():
        # base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight
        if ".lora_A." in key or ".lora_B." in key:
            module, which = key.rsplit(".lora_", 1)
            pairs.setdefault(module, {})[which[0]] = array
        else:
            raise ExportError(f"{adapter_dir}: tensor {key!r} is not a LoRA A/B matrix (modules_to_save?).")
    if not pairs:
        raise ExportError(f"{adapter_dir}: the adapter has no LoRA tensors.")

    writer = gguf.GGUFWriter(str(target), "llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    writer.add_name(name)
    for module, ab in sorted(pairs.items()):
        if set(ab) != {"A", "B"}:
            raise ExportError(f"{adapter_dir}: module {module!r} is missing its lora_{'B' if 'A' in ab else 'A'}.")
        leaf = module.rsplit(".", 1)[-1]
        if leaf not in _LORA_TARGETS:
            raise ExportError(f"{adapter_dir}: LoRA on {leaf!r} cannot be written for llama.cpp (only {sorted(_LORA_TARGETS)}).")
        hf_name = module.removeprefix("base_model.model.") + ".weight"
        a, b = ab["A"], ab["B"]
        if a.shape[0] != rank or b.shape[1] != rank:
            raise ExportError(f"{adapter_dir}: {module} has rank {a.shape[0]}, the config says {rank}.")
        heads = _head_count_for(hf_name, shape)
        if heads is not None:
            b = permute_rows(b, heads)
        check_finite(a, module + ".lora_A")
        check_finite(b, module + ".lora_B")
        base = _gguf_name(hf_name, shape.n_layer)
        writer.add_tensor(base + ".lora_a", a.astype(np.float32))
        writer.add_tensor(base + ".lora_b", b.astype(np.float32))
    _flush(writer)
    return target
