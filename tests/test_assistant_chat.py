"""`domainlm chat -m`: one message through the real pipeline, printed with its products and verifier marks."""

from __future__ import annotations

from typer.testing import CliRunner

from support.embedders import HashEmbedder
from test_assistant import use_tiny_model


def test_chat_message_answers_once_and_shows_context(small_project, tiny_model_dir, monkeypatch):
    import domainlm.retrieval.embed as embed
    from domainlm.cli import app

    monkeypatch.setattr(embed, "get_embedder", lambda spec, root=None: spec if not isinstance(spec, str) else HashEmbedder())
    use_tiny_model(small_project, tiny_model_dir)
    result = CliRunner().invoke(app, ["chat", "-c", str(small_project), "-m", "How much is Hendrick's Gin?",
                                      "--max-tokens", "6", "--set", "serve.guard=false"])
    assert result.exit_code == 0, result.output
    assert "Vera:" in result.output
    assert "context [S-0002] Hendrick's Gin $34.00" in result.output
    assert "verifier" in result.output and "base" in result.output


def test_chat_interactive_keeps_history_and_switches_adapter(small_project, tiny_model_dir, monkeypatch):
    import domainlm.retrieval.embed as embed
    from domainlm.cli import app

    monkeypatch.setattr(embed, "get_embedder", lambda spec, root=None: spec if not isinstance(spec, str) else HashEmbedder())
    use_tiny_model(small_project, tiny_model_dir)
    session = "How much is Hendrick's Gin?\n/adapters\n/adapter nope\n/adapter base\n/reset\n/exit\n"
    result = CliRunner().invoke(app, ["chat", "-c", str(small_project), "--max-tokens", "4", "--engine", "transformers",
                                      "--set", "serve.guard=false"], input=session)
    assert result.exit_code == 0, result.output
    assert result.output.count("Vera:") == 1 and "unknown adapter 'nope'" in result.output
    assert "adapter: base" in result.output and "conversation cleared" in result.output
