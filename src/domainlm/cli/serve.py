"""`domainlm serve`: the OpenAI-compatible HTTP API and chat page of a project."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from domainlm.cli.app import DEFAULT_CONFIG, ConfigOption, SetOption, app, console


@app.command("serve")
def serve(
    config: ConfigOption = DEFAULT_CONFIG,
    host: Annotated[Optional[str], typer.Option(help="Address to listen on (default: serve.host).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port to listen on (default: serve.port).")] = None,
    set_: SetOption = None,
) -> None:
    """Serve the assistant: POST /v1/chat/completions, GET /v1/models, /health, /metrics and a chat page at /."""
    import uvicorn

    from domainlm.cli.app import load
    from domainlm.serve import create_app

    project = load(config, set_)
    host = host or project.serve.host
    port = port or project.serve.port
    with console.status(f"Loading {project.base_model} and the index"):
        server = create_app(project)
    service = server.state.service
    console.print(f"Serving [bold]{service.base_id}[/] with adapters: {', '.join(service.adapters) or 'none'}")
    console.print(f"Chat page: http://{host}:{port}/   API: http://{host}:{port}/v1")
    uvicorn.run(server, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)
