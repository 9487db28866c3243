"""Export: run folders -> merged HF folder, GGUF files, Ollama Modelfile, vLLM launch; bad input leaves nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

GREEDY = dict(do_sample=False, temperature=None, top_p=None, top_k=None)
PROMPTS = ["What goes with salmon?", "Do you have Rioja?", "How fast do you ship?"]


def make_adapter(model, folder: Path, seed: int, scale: float = 0.05, r: int = 4) -> None:
    """A PEFT LoRA on `model` with random lora_B (PEFT starts B at zero, which would change nothing)."""
    import torch
    from peft import LoraConfig, get_peft_model

    peft_model = get_peft_model(model, LoraConfig(r=r, lora_alpha=2 * r, target_modules="all-linear", lora_dropout=0.0))
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=generator) * scale)
    peft_model.save_pretrained(folder)
    peft_model.unload()


def make_run(root: Path, base_model: str, model, name: str, seed: int, **adapter) -> Path:
    """A minimal run folder as the trainer writes it: adapter/, run.json, config.yaml, metrics.jsonl."""
    import yaml

    folder = root / "runs" / f"20260101-0000-{name}-sft"
    folder.mkdir(parents=True)
    make_adapter(model, folder / "adapter", seed, **adapter)
    run_id = folder.name
    (folder / "run.json").write_text(json.dumps({"run_id": run_id, "adapter": name, "stage": "sft", "base_model": base_model}))
    config = {"name": "test-shop", "base_model": base_model, "brand": {"assistant_name": "Vera", "shop_name": "Test Cellars"}}
    (folder / "config.yaml").write_text(yaml.safe_dump(config))
    (folder / "metrics.jsonl").write_text(json.dumps({"step": 10, "val_loss": 1.23}) + "\n")
    return folder


@pytest.fixture()
def project(tmp_path, tiny_model_dir, tiny_tokenizer):
    """A project folder with two runs (adapters `alpha` and `beta`) on the tiny model."""
    from transformers import AutoModelForCausalLM

    root = tmp_path / "shop"
    runs = {}
    for name, seed in (("alpha", 1), ("beta", 2)):
        model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
        runs[name] = make_run(root, str(tiny_model_dir), model, name, seed)
    return root, runs


def greedy(model, tokenizer, prompt: str, n: int = 12) -> list[int]:
    import torch

    from domainlm.prompt import chat_text

    ids = tokenizer(chat_text(tokenizer, [{"role": "user", "content": prompt}], add_generation_prompt=True), add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(torch.tensor([ids["input_ids"]]), max_new_tokens=n, min_new_tokens=n, **GREEDY)
    return out[0, len(ids["input_ids"]):].tolist()


def test_merged_export_reloads_and_matches_base_with_adapter(project, tiny_model_dir, tiny_tokenizer):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from domainlm.export import export_runs, load_run

    root, runs = project
    out = export_runs([load_run(runs["alpha"])], "merged")
    assert out == (root / "exports" / f"{runs['alpha'].name}-merged").resolve()
    merged = AutoModelForCausalLM.from_pretrained(out / "alpha").eval()
    tokenizer = AutoTokenizer.from_pretrained(out / "alpha")
    assert tokenizer.chat_template == tiny_tokenizer.chat_template
    reference = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), runs["alpha"] / "adapter").eval()
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    changed = 0
    for prompt in PROMPTS:
        expected = greedy(reference, tiny_tokenizer, prompt)
        assert greedy(merged, tokenizer, prompt) == expected
        changed += expected != greedy(base, tiny_tokenizer, prompt)
    assert changed, "the adapter should change at least one answer"
    card = (out / "README.md").read_text()
    for heading in ("## Intended use", "## Limitations", "### Evaluation", "val_loss=1.23"):
        assert heading in card
    # the base weights on disk are untouched by the merge
    assert json.loads((out / "export.json").read_text())["format"] == "merged"


def test_lora_gguf_has_llamacpp_adapter_layout(project, tmp_path):
    import gguf

    from domainlm.export.gguf_llama import read_config, write_lora_gguf
    from domainlm.export import load_run

    _, runs = project
    run = load_run(runs["alpha"])
    target = write_lora_gguf(run.adapter_dir, read_config(run.base_folder), tmp_path / "a.gguf", "alpha")
    reader = gguf.GGUFReader(target)
    assert reader.fields["general.type"].contents() == "adapter"
    assert reader.fields["adapter.type"].contents() == "lora"
    assert reader.fields["adapter.lora.alpha"].contents() == pytest.approx(8.0)
    names = {t.name: t for t in reader.tensors}
    a, b = names["blk.0.attn_q.weight.lora_a"], names["blk.0.attn_q.weight.lora_b"]
    assert list(a.shape) == [64, 4] and list(b.shape) == [4, 64]  # GGUF order: [in, r] and [r, out]
    assert "blk.1.ffn_down.weight.lora_b" in names


def test_permutation_matches_llamacpp_interleaved_rope():
    import numpy as np

    from domainlm.export.gguf_llama import permute_rows

    # one head of 4 dims, HF rotate-half pairs (0,2) and (1,3); llama.cpp wants pairs adjacent: 0,2,1,3
    weight = np.arange(4)[:, None] * np.ones((1, 3))
    assert permute_rows(weight, 1)[:, 0].tolist() == [0, 2, 1, 3]


def test_vllm_export_names_every_adapter(project):
    from domainlm.export import export_runs, load_run

    root, runs = project
    out = export_runs([load_run(runs["alpha"]), load_run(runs["beta"])], "vllm", root / "exports" / "vllm")
    script = (out / "vllm_serve.sh").read_text()
    assert "--enable-lora" in script and "--max-lora-rank 8" in script
    assert "alpha=./adapters/alpha" in script and "beta=./adapters/beta" in script
    assert (out / "adapters" / "beta" / "adapter_config.json").exists()
    serve = (out / "domainlm-serve.yaml").read_text()
    assert "backend: vllm" in serve and "README.md" in {p.name for p in out.iterdir()}


def test_ollama_template_renders_like_the_tokenizer(tiny_tokenizer, tmp_path):
    """The Go template, run by Go's own text/template, renders conversations as the tokenizer does."""
    from domainlm.export.ollama import ollama_template
    from domainlm.prompt import chat_text

    go = shutil.which("go")
    if go is None:
        pytest.skip("Go is not installed (apt-get install golang-go) to run Ollama's text/template")
    conversations = [
        [{"role": "user", "content": "Hi there"}],
        [{"role": "system", "content": "You are Vera."}, {"role": "user", "content": "Do you have Rioja?"}],
        [
            {"role": "system", "content": "You are Vera.\n\nProducts:\n[W-1] A | price: $12.50"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "answer one"},
            {"role": "user", "content": "second"},
        ],
    ]
    program = tmp_path / "render.go"
    program.write_text(GO_RENDERER)
    (tmp_path / "template.txt").write_text(ollama_template(tiny_tokenizer))
    for messages in conversations:
        (tmp_path / "messages.json").write_text(json.dumps(messages))
        rendered = subprocess.run(
            [go, "run", str(program)], cwd=tmp_path, capture_output=True, text=True, check=True,
            env={"HOME": str(tmp_path), "GOCACHE": str(tmp_path / "gocache"), "PATH": "/usr/bin:/bin", "GO111MODULE": "off"},
        ).stdout
        assert rendered == chat_text(tiny_tokenizer, messages, add_generation_prompt=True)


GO_RENDERER = """
package main

import (
	"encoding/json"
	"os"
	"text/template"
)

type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

func main() {
	text, _ := os.ReadFile("template.txt")
	raw, _ := os.ReadFile("messages.json")
	var messages []Message
	if err := json.Unmarshal(raw, &messages); err != nil {
		panic(err)
	}
	tmpl := template.Must(template.New("t").Parse(string(text)))
	if err := tmpl.Execute(os.Stdout, map[string]any{"Messages": messages}); err != nil {
		panic(err)
	}
}
"""


def test_modelfile_has_from_adapter_template_stop_and_system(tiny_tokenizer):
    from domainlm.export.ollama import modelfile

    text = modelfile("./base-f16.gguf", "./alpha.lora.gguf", tiny_tokenizer, "You are Vera.")
    assert text.startswith("FROM ./base-f16.gguf\nADAPTER ./alpha.lora.gguf\nTEMPLATE \"\"\"")
    assert 'PARAMETER stop "<|im_end|>"' in text and 'SYSTEM """You are Vera."""' in text


# -- bad input: an error that names the problem, and no output folder ---------------------------------


def _nothing_written(root: Path) -> bool:
    exports = root / "exports"
    return not exports.exists() or not any(exports.iterdir())


def test_missing_base_model_is_named(project, tmp_path):
    from domainlm.export import ExportError, load_run

    _, runs = project
    info = json.loads((runs["alpha"] / "run.json").read_text())
    info["base_model"] = str(tmp_path / "gone-model")
    (runs["alpha"] / "run.json").write_text(json.dumps(info))
    with pytest.raises(ExportError, match="gone-model"):
        load_run(runs["alpha"])


def test_corrupt_adapter_is_named(project):
    from domainlm.export import ExportError, load_run

    _, runs = project
    weights = runs["beta"] / "adapter" / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(ExportError, match="adapter_model.safetensors"):
        load_run(runs["beta"])


def test_unsupported_architecture_writes_nothing(project, tiny_model_dir):
    from domainlm.export import ExportError, export_runs, load_run

    root, runs = project
    config = json.loads((tiny_model_dir / "config.json").read_text())
    config["architectures"] = ["GPT2LMHeadModel"]
    (tiny_model_dir / "config.json").write_text(json.dumps(config))
    with pytest.raises(ExportError, match="GPT2LMHeadModel"):
        export_runs([load_run(runs["alpha"])], "gguf")
    assert _nothing_written(root)


def test_nan_adapter_is_refused(project):
    from safetensors.torch import load_file, save_file

    from domainlm.export import ExportError, load_run

    _, runs = project
    path = runs["alpha"] / "adapter" / "adapter_model.safetensors"
    tensors = load_file(path)
    key = next(k for k in tensors if "lora_B" in k)
    tensors[key][0, 0] = float("nan")
    save_file(tensors, path)
    with pytest.raises(ExportError, match="NaN"):
        load_run(runs["alpha"])


def test_cli_export_smoke(project):
    from typer.testing import CliRunner

    from domainlm.cli import app

    root, runs = project
    (root / "domainlm.yaml").write_text("name: test-shop\n")
    result = CliRunner().invoke(app, ["export", "-c", str(root / "domainlm.yaml"), "--run", runs["alpha"].name, "--format", "vllm"])
    assert result.exit_code == 0, result.output
    assert (root / "exports" / f"{runs['alpha'].name}-vllm" / "vllm_serve.sh").exists()
    again = CliRunner().invoke(app, ["export", "-c", str(root), "--run", "no-such-run", "--format", "vllm"])
    assert again.exit_code != 0 and "no-such-run" in str(again.exception)
