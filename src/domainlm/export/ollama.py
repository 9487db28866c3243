"""Ollama: a Modelfile (FROM base GGUF, ADAPTER LoRA GGUF, TEMPLATE, stops, system prompt) per adapter."""

from __future__ import annotations

from domainlm.export.errors import ExportError
from domainlm.prompt import chat_text, end_of_turn_token

_PROBE = [{"role": "user", "content": "USER_MARK"}]


def _chatml_default_system(tokenizer) -> str | None:
    """The system text the template adds when a conversation has none, or None if it adds nothing.

    Raises ExportError when the tokenizer's template is not ChatML (`<|im_start|>role\\n...<|im_end|>\\n`),
    the only family this Go template is written for.
    """
    with_system = chat_text(tokenizer, [{"role": "system", "content": "SYS_MARK"}, *_PROBE], add_generation_prompt=True)
    expected = "<|im_start|>system\nSYS_MARK<|im_end|>\n<|im_start|>user\nUSER_MARK<|im_end|>\n<|im_start|>assistant\n"
    if with_system != expected:
        raise ExportError(
            "the base model's chat template is not ChatML; the Ollama template is written for ChatML models only "
            f"(rendered {with_system[:120]!r})."
        )
    without = chat_text(tokenizer, _PROBE, add_generation_prompt=True)
    head = without.split("<|im_start|>user\n", 1)[0]
    if not head:
        return None
    prefix, suffix = "<|im_start|>system\n", "<|im_end|>\n"
    if not (head.startswith(prefix) and head.endswith(suffix)):
        raise ExportError(f"unexpected default system block in the chat template: {head!r}")
    return head[len(prefix) : -len(suffix)]


def ollama_template(tokenizer) -> str:
    """A Go template that renders `.Messages` exactly as the tokenizer's chat template (with generation prompt)."""
    default_system = _chatml_default_system(tokenizer)
    default_block = ""
    if default_system is not None:
        if "{{" in default_system:
            raise ExportError("the default system prompt contains '{{' and cannot be put in a Go template.")
        default_block = (
            '{{- if or (eq (len .Messages) 0) (ne (index .Messages 0).Role "system") }}'
            f"<|im_start|>system\n{default_system}<|im_end|>\n"
            "{{ end }}"
        )
    return (
        default_block
        + "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
        + "<|im_start|>assistant\n"
    )


def modelfile(base_gguf: str, adapter_gguf: str | None, tokenizer, system: str | None, num_ctx: int = 2048) -> str:
    """The Modelfile text; paths are relative to the Modelfile's folder."""
    template = ollama_template(tokenizer)
    stop = end_of_turn_token(tokenizer)
    lines = [f"FROM {base_gguf}"]
    if adapter_gguf:
        lines.append(f"ADAPTER {adapter_gguf}")
    lines.append(f'TEMPLATE """{template}"""')
    for token in dict.fromkeys([stop, "<|im_start|>"]):
        lines.append(f'PARAMETER stop "{token}"')
    lines.append("PARAMETER temperature 0")
    lines.append(f"PARAMETER num_ctx {num_ctx}")
    if system:
        if '"""' in system:
            raise ExportError('the system prompt contains """ and cannot be written to a Modelfile.')
        lines.append(f'SYSTEM """{system}"""')
    return "\n".join(lines) + "\n"
