"""The FastAPI routes: each one parses the request and calls `ChatService` (serve/service.py).

Every error, ours or FastAPI's, leaves as OpenAI's `{"error": {"message", "type", "param", "code"}}`;
a body that is not JSON or does not fit the schema is a 400, as OpenAI answers it (not FastAPI's 422).
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domainlm.config import ProjectConfig
from domainlm.serve import protocol as p
from domainlm.serve.service import ApiError, ChatService, build_assistant

ERRORS = {status: {"model": p.ErrorResponse, "description": text} for status, text in {
    400: "Malformed or invalid request", 401: "Missing or wrong API key", 404: "Unknown model or run",
    413: "Request body too large", 429: "Rate limit reached (see Retry-After)",
    503: "Queue full (see Retry-After)", 504: "Request timed out",
}.items()}


def create_app(project: ProjectConfig, assistant=None, env=None, watch_catalog: bool = True) -> FastAPI:
    """The server for `project`; `assistant` defaults to one built for `project.serve.backend`."""
    service = ChatService(assistant or build_assistant(project), project, env=env, watch_catalog=watch_catalog)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        service.close()

    app = FastAPI(title="domainlm", version="1", summary=f"OpenAI-compatible API of {project.name}",
                  lifespan=lifespan)
    app.state.service = service
    app.add_middleware(BodyLimit, limit=project.serve.max_request_bytes)
    _error_handlers(app)

    def api_key(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
        return service.authorize(authorization, request.client.host if request.client else "unknown")

    def admin_key(authorization: Annotated[str | None, Header()] = None) -> None:
        service.authorize_admin(authorization)

    # A streamed completion is text/event-stream: documented beside the JSON body, so clients (and schemathesis'
    # content-type check) know that a 200 may be either.
    streamed = {200: {"content": {"text/event-stream": {"schema": {
        "type": "string", "description": "Server-sent events: `data: <chat.completion.chunk JSON>` lines, then "
                                        "`data: [DONE]`"}}}}}

    @app.post("/v1/chat/completions", response_model=p.ChatCompletion, responses={**ERRORS, **streamed},
              summary="Chat completion (set stream=true for server-sent events)")
    async def chat_completions(body: p.ChatCompletionRequest, request: Request, _key: str = Depends(api_key)):
        route = "/v1/chat/completions"
        if body.stream:
            events = await service.start_stream(body)
            service.metrics.requests.labels(route, "200").inc()
            return StreamingResponse(events, media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        completion = await service.complete(body, disconnected=request.is_disconnected)
        service.metrics.requests.labels(route, "200").inc()
        return completion

    @app.get("/v1/models", response_model=p.ModelList, responses=ERRORS)
    def list_models(_key: str = Depends(api_key)) -> p.ModelList:
        return service.models()

    @app.get("/health", response_model=p.Health)
    def health() -> p.Health:
        return service.health()

    @app.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
    def metrics() -> Response:
        return Response(service.metrics.text(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.post("/admin/adapters", response_model=p.AdminResult, responses=ERRORS)
    async def load_adapter(body: p.AdapterLoadRequest, _admin: None = Depends(admin_key)) -> p.AdminResult:
        return await _in_thread(service.load_adapter, body)

    @app.post("/admin/catalog/reload", response_model=p.AdminResult, responses=ERRORS)
    async def reload_catalog(_admin: None = Depends(admin_key)) -> p.AdminResult:
        return await _in_thread(service.reload_catalog)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def chat_page() -> HTMLResponse:
        page = resources.files("domainlm.serve").joinpath("static/chat.html").read_text(encoding="utf-8")
        return HTMLResponse(page.replace("__SHOP__", project.brand.shop_name))

    return app


async def _in_thread(fn, *args):
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def _error(status: int, message: str, type: str = "invalid_request_error", param: str | None = None,
           code: str | None = None, headers: dict | None = None) -> JSONResponse:
    body = p.ErrorResponse(error=p.ErrorInfo(message=message, type=type, param=param, code=code))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        route = request.url.path
        if route.startswith("/v1/"):
            request.app.state.service.metrics.requests.labels(route, str(exc.status)).inc()
        return JSONResponse(exc.body.model_dump(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            return _error(400, f"We could not parse the JSON body of your request: {first.get('msg')}.",
                          code="invalid_json")
        loc = [str(part) for part in first.get("loc", ()) if part != "body"]
        param = ".".join(loc) or None
        message = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ()) if x != 'body') or 'body'}: {e.get('msg')}"
                            for e in errors[:5])
        return _error(400, f"Invalid request: {message}", param=param, code="invalid_value")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        kinds = {404: "not_found", 405: "method_not_allowed"}
        return _error(exc.status_code, str(exc.detail), code=kinds.get(exc.status_code), headers=exc.headers)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        return _error(500, f"Internal error: {type(exc).__name__}: {exc}", type="server_error")


class BodyLimit:
    """ASGI middleware: a body over `limit` bytes gets 413 before any route reads it."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._too_large(send)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                return await self._too_large(send)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send):
        body = json.dumps(p.ErrorResponse(error=p.ErrorInfo(
            message=f"The request body is larger than the {self.limit}-byte limit.",
            type="invalid_request_error", code="request_too_large")).model_dump()).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
