"""`domainlm chat`: a terminal chat through the same Assistant pipeline that serve and eval use."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.prompt import Prompt

from domainlm.cli.app import DEFAULT_CONFIG, ConfigOption, SetOption, app, console, load

HELP = "/reset clears the conversation, /adapter NAME switches adapter, /adapters lists them, /exit quits."


def _marks(answer) -> list[str]:
    """One line per thing worth seeing under an answer: guard verdict, verifier actions, products, timings."""
    lines = []
    if answer.guard.get("kind") != "ok":
        lines.append(f"[yellow]guard[/] {answer.guard['kind']} ({answer.guard['score']:.2f}, {answer.guard['action']})")
    for action in answer.verifier.get("actions", []):
        found = escape(str(action.get("found") or ""))
        expected = escape(str(action.get("expected") or ""))
        arrow = f" {found} -> {expected}" if expected else (f" {found}" if found else "")
        state = "" if action.get("applied", True) else " (not applied)"
        lines.append(f"[magenta]verifier[/] {action['type']}{arrow}{state}")
    if not answer.verifier.get("actions") and answer.verifier.get("mode") != "off":
        lines.append("[green]verifier[/] every price, spec and stock claim checked")
    for product in answer.context.products:
        from domainlm.prompt import format_price

        lines.append(f"[dim]context [{escape(product.id)}] {escape(product.name)} {format_price(product.price, product.currency)}[/]")
    t = answer.timings_ms
    cached = " (cached)" if answer.cache_hit else ""
    lines.append(f"[dim]{answer.adapter} · catalog {answer.catalog_version} · {t.get('total', 0):.0f} ms{cached}[/]")
    return lines


def _say(assistant, text: str, history: list, adapter: str | None, max_tokens: int) -> None:
    from domainlm.generate import GenerationParams

    params = GenerationParams(max_new_tokens=max_tokens)
    console.print(f"[bold cyan]{escape(assistant.project.brand.assistant_name)}:[/] ", end="")
    answer = None
    for piece in assistant.stream(text, history, params=params, adapter=adapter):
        if isinstance(piece, str):
            console.print(escape(piece), end="", highlight=False, soft_wrap=True)
        else:
            answer = piece
    console.print()
    for line in _marks(answer):
        console.print("  " + line, highlight=False)
    history += [{"role": "user", "content": text}, {"role": "assistant", "content": answer.text}]


@app.command("chat")
def chat(
    config: ConfigOption = DEFAULT_CONFIG,
    set_: SetOption = None,
    adapter: Annotated[Optional[str], typer.Option("--adapter", "-a", help="Adapter to answer with (`base` = none).")] = None,
    message: Annotated[Optional[str], typer.Option("--message", "-m", help="Answer this one message and exit.")] = None,
    engine: Annotated[str, typer.Option(help="Generation engine: auto, transformers or llamacpp.")] = "auto",
    max_tokens: Annotated[Optional[int], typer.Option(help="Cap on generated tokens (default: serve.max_tokens).")] = None,
) -> None:
    """Chat in the terminal through the Assistant pipeline: guard, retrieval, adapter, verifier."""
    from domainlm.assistant import Assistant

    project = load(config, set_)
    with console.status("Loading the catalog, index, base model and adapters"):
        assistant = Assistant.from_project(project, engine=engine)
    for note in assistant.notes:
        console.print(f"[dim]note: {escape(note)}[/]")
    limit = max_tokens or project.serve.max_tokens
    name = adapter or assistant.default_adapter
    history: list[dict] = []
    if message is not None:
        _say(assistant, message, history, name, limit)
        return
    console.print(f"[bold]{escape(project.brand.shop_name)}[/] · adapter [bold]{name}[/] "
                  f"(loaded: {', '.join(['base', *assistant.adapters])}) · {HELP}")
    while True:
        try:
            text = Prompt.ask("[bold]you[/]", console=console).strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if not text:
            continue
        if text in ("/exit", "/quit"):
            return
        if text == "/reset":
            history.clear()
            console.print("[dim]conversation cleared[/]")
        elif text == "/adapters":
            console.print(", ".join(["base", *assistant.adapters]))
        elif text.startswith("/adapter"):
            wanted = text.split(maxsplit=1)[1] if " " in text else ""
            if wanted in ["base", *assistant.adapters]:
                name = wanted
                console.print(f"[dim]adapter: {name}[/]")
            else:
                console.print(f"[red]unknown adapter {escape(wanted)!r}[/]; loaded: {', '.join(['base', *assistant.adapters])}")
        else:
            _say(assistant, text, history, name, limit)
