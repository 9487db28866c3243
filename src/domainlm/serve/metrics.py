"""Prometheus metrics of one server (its own registry, so several servers can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64)


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("domainlm_requests", "HTTP requests by route and status", ["route", "status"], registry=r)
        self.latency = Histogram("domainlm_request_latency_seconds", "Chat completion latency", ["stream"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.ttft = Histogram("domainlm_time_to_first_token_seconds", "Time to the first streamed text",
                              buckets=LATENCY_BUCKETS, registry=r)
        self.tokens = Counter("domainlm_tokens", "Tokens processed", ["kind"], registry=r)
        self.cache = Counter("domainlm_cache_lookups", "Answer cache lookups", ["hit"], registry=r)
        self.guard = Counter("domainlm_guard_verdicts", "Input guard verdicts", ["kind", "action"], registry=r)
        self.verifier = Counter("domainlm_verifier_actions", "Output verifier actions", ["action"], registry=r)
        self.rejected = Counter("domainlm_rejected", "Requests refused before generation", ["reason"], registry=r)
        self.reloads = Counter("domainlm_catalog_reloads", "Catalog reloads", ["outcome"], registry=r)
        self.queue_depth = Gauge("domainlm_queue_depth", "Requests waiting for generation", registry=r)
        self.in_flight = Gauge("domainlm_in_flight", "Requests generating now", registry=r)
        self.cancelled = Counter("domainlm_cancelled", "Requests whose generation stopped because the client left "
                                 "or timed out", ["stream"], registry=r)
        self.engine_tokens = Gauge("domainlm_engine_generated_tokens", "Tokens the batching engine generated, "
                                   "cancelled rows included (up to where they stopped)", registry=r)
        self.engine_rows = Gauge("domainlm_engine_active_rows", "Rows of the batch generating now", registry=r)
        self.engine_batches = Gauge("domainlm_engine_batches", "Batches the batching engine has run", registry=r)
        self.engine_batch_rows = Gauge("domainlm_engine_batch_rows", "Rows of all the batches run (divided by "
                                       "domainlm_engine_batches: the mean batch size)", registry=r)
        self.engine_prefill = Gauge("domainlm_engine_prefill_seconds", "Seconds the batching engine spent up to "
                                    "each batch's first token (layout, prefix states, prefill), summed", registry=r)
        self.engine_decode = Gauge("domainlm_engine_decode_seconds", "Seconds the batching engine spent from each "
                                   "batch's first token to its end, summed", registry=r)
        self.engine_prefix_saved = Gauge("domainlm_engine_prefix_tokens_saved", "Prompt tokens not prefilled "
                                         "because their shared prefix's states were stored", registry=r)

    def watch_engine(self, engine) -> None:
        """Read the batching engine's counters at each scrape (engines without them leave the gauges at 0)."""
        if hasattr(engine, "tokens_generated"):
            self.engine_tokens.set_function(lambda: engine.tokens_generated)
            self.engine_rows.set_function(lambda: engine.rows_active)
            self.engine_batches.set_function(lambda: engine.batches_run)
            self.engine_batch_rows.set_function(lambda: engine.rows_run)
            self.engine_prefill.set_function(lambda: engine.prefill_s)
            self.engine_decode.set_function(lambda: engine.decode_s)
            self.engine_prefix_saved.set_function(lambda: engine.prefixes.tokens_saved)

    def text(self) -> bytes:
        return generate_latest(self.registry)
