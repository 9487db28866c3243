"""The HTTP server: an OpenAI-compatible API and a chat page over the Assistant pipeline.

`protocol` holds the request and response models, `service` the serving logic (auth, limits, queue,
metrics, hot reload), `app` the thin FastAPI routes. `create_app(project)` builds the whole server.
"""

from domainlm.serve.app import create_app

__all__ = ["create_app"]
