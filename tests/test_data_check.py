"""`domainlm data check`: shapes, mixed files, duplicates, empty/over-long samples, end-of-turn, conversion."""

from __future__ import annotations

import json
from pathlib import Path

from domainlm.data.check import check_file, detect_shape, to_messages


def write(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


ALPACA = {"instruction": "How much is the Lagavulin?", "input": "", "output": "It is $89.99."}
SHAREGPT = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello! How can I help?"}]}
MESSAGES = {"messages": [{"role": "user", "content": "Do you ship?"}, {"role": "assistant", "content": "Yes."}]}


def test_shapes_convert_to_messages():
    assert detect_shape(ALPACA) == "alpaca" and detect_shape(SHAREGPT) == "sharegpt"
    assert detect_shape(MESSAGES) == "messages" and detect_shape({"text": "x"}) == "unknown"
    assert to_messages({**ALPACA, "input": "750 ml"}, "alpaca") == [
        {"role": "user", "content": "How much is the Lagavulin?\n\n750 ml"}, {"role": "assistant", "content": "It is $89.99."}]
    assert to_messages(SHAREGPT, "sharegpt")[1] == {"role": "assistant", "content": "Hello! How can I help?"}


def test_clean_file_passes_and_converts(tmp_path, tiny_tokenizer):
    path = write(tmp_path / "a.jsonl", [ALPACA, {**ALPACA, "instruction": "Is it in stock?"}])
    result = check_file(path, tiny_tokenizer)
    assert result.ok and not result.mixed and len(result.converted) == 2


def test_mixed_shapes_and_problems_are_reported(tmp_path, tiny_tokenizer):
    long = {"messages": [{"role": "user", "content": "Tell me everything."},
                         {"role": "assistant", "content": "word " * 600}]}
    records = [
        ALPACA, SHAREGPT, MESSAGES, MESSAGES,  # mixed shapes, one duplicate
        {"instruction": "Empty answer", "output": ""},
        {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                      {"role": "user", "content": "no answer"}]},
        long, "{not json", {"messages": [{"role": "user", "content": "a"},
                                         {"role": "assistant", "content": "b<|im_end|>"}]},
    ]
    result = check_file(write(tmp_path / "mixed.jsonl", records), tiny_tokenizer, max_seq_len=512)
    assert result.mixed and set(result.shapes) == {"alpaca", "sharegpt", "messages"}
    assert result.first_line == {"alpaca": 1, "sharegpt": 2, "messages": 3}
    assert result.duplicates == [(4, 3)]
    problems = {k: v for k, v in result.problems.items()}
    assert problems["empty turn"] == [5]
    assert problems["does not end with an assistant turn (no end-of-turn to learn)"] == [6]
    assert problems["longer than 512 tokens"] == [7]
    assert any(k.startswith("not valid JSON") and v == [8] for k, v in problems.items())
    assert problems["contains the tokenizer's special tokens as text"] == [9]
    assert len(result.converted) == 3 and not result.ok


def test_cli_check_converts(tmp_path, monkeypatch, tiny_tokenizer):
    from domainlm.cli import main
    import domainlm.models.base as base

    monkeypatch.setattr(base, "load_tokenizer", lambda name, root=None: tiny_tokenizer)
    source = write(tmp_path / "in.jsonl", [ALPACA, SHAREGPT])
    out = tmp_path / "out.jsonl"
    try:
        main(["data", "check", str(source), "--to", str(out)])
    except SystemExit as exc:
        assert exc.code == 1  # mixed shapes
    converted = [json.loads(line) for line in out.read_text().splitlines()]
    assert [len(r["messages"]) for r in converted] == [2, 2]
    import datasets
    from trl.data_utils import is_conversational

    ds = datasets.load_dataset("json", data_files=str(out), split="train")
    assert is_conversational(ds[0])
