"""The project file `domainlm.yaml`: one typed model per section, each field documented once.

Field docstrings become the descriptions shown by `domainlm config` and the generated configuration
reference (pydantic's `use_attribute_docstrings`). Every path is relative to the project file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from domainlm.errors import ConfigError

PROJECT_FILE = "domainlm.yaml"

# ISO 4217 codes a shop is likely to use, with the symbol prices are written with.
CURRENCY_SYMBOLS: dict[str, str] = {
    "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "CAD": "CA$", "AUD": "A$", "NZD": "NZ$",
    "CHF": "CHF ", "SEK": "kr ", "NOK": "kr ", "DKK": "kr ", "PLN": "zł ", "CZK": "Kč ", "HUF": "Ft ",
    "INR": "₹", "BRL": "R$", "MXN": "MX$", "ZAR": "R ", "SGD": "S$", "HKD": "HK$", "KRW": "₩", "TRY": "₺",
    "ILS": "₪", "AED": "AED ", "SAR": "SAR ", "RUB": "₽", "UAH": "₴", "THB": "฿", "PHP": "₱", "IDR": "Rp ",
}

KINDS = (
    "product_qa", "recommendation", "multi_turn", "knowledge",
    "safety/fake_product", "safety/manipulation", "safety/off_topic",
    "safety/injection", "safety/negotiation", "safety/competitor",
)
SAFETY_KINDS = tuple(k for k in KINDS if k.startswith("safety/"))
# A mix may name "safety" as a whole; it is spread evenly over the safety kinds.
MIX_KEYS = (*KINDS, "safety")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)


class FieldSpec(Section):
    """A catalog column the assistant may quote, with how to say it."""

    column: str
    """Column name in the catalog source."""
    label: str | None = None
    """What the assistant calls it (defaults to the column name)."""
    unit: str | None = None
    """Unit written after the value, e.g. `%` or `ml`."""

    @property
    def name(self) -> str:
        return self.label or self.column


class CatalogConfig(Section):
    source: str = "catalog.csv"
    """A .csv, .jsonl or .parquet file, or a SQLAlchemy URL (`sqlite:///shop.db`, `postgresql://user@host/db`)."""
    table: str | None = None
    """Table to read for SQL sources (or give `query`)."""
    query: str | None = None
    """A SELECT statement for SQL sources, instead of `table`."""
    id_column: str = "sku"
    """Column with the unique product id."""
    name_column: str = "name"
    """Column with the product name."""
    price_column: str = "price"
    """Column with the price: a number, or text such as `$12.99` in the configured currency."""
    currency: str = "USD"
    """ISO 4217 currency code of the prices."""
    category_column: str | None = None
    """Optional column with the category."""
    stock_column: str | None = None
    """Optional column with stock: a count or a boolean."""
    description_column: str | None = None
    """Optional column with a free-text description."""
    fields: list[FieldSpec] = Field(default_factory=list)
    """Other columns the assistant may quote, each with a label and unit."""

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in CURRENCY_SYMBOLS:
            raise ValueError(f"unknown currency {value!r}; accepted: {', '.join(sorted(CURRENCY_SYMBOLS))}")
        return code

    @model_validator(mode="after")
    def _table_or_query(self) -> "CatalogConfig":
        if self.table and self.query:
            raise ValueError("give either `catalog.table` or `catalog.query`, not both")
        return self

    @property
    def is_sql(self) -> bool:
        return "://" in self.source

    @property
    def currency_symbol(self) -> str:
        return CURRENCY_SYMBOLS[self.currency]


class BrandConfig(Section):
    assistant_name: str = "Ada"
    """The assistant's name, used in the system prompt and in greetings."""
    shop_name: str = "our shop"
    """The business's name."""
    voice: str = "friendly, concise and accurate"
    """How the assistant speaks."""
    domain: str = "our products and orders"
    """What the assistant talks about; anything else is redirected."""
    competitors: list[str] = Field(default_factory=list)
    """Competitor names the assistant does not discuss or recommend."""
    extra_rules: list[str] = Field(default_factory=list)
    """More rules added to the system prompt, one sentence each."""


class AdapterConfig(Section):
    mix: dict[str, float] = Field(default_factory=dict)
    """Share of each sample kind in this adapter's data; `safety` spreads over all safety kinds."""
    description: str = ""
    """What this adapter is for, shown in `/v1/models` and model cards."""
    size: int | None = None
    """Number of training samples for this adapter (default: scales with the catalog)."""

    @field_validator("mix")
    @classmethod
    def _known_kinds(cls, mix: dict[str, float]) -> dict[str, float]:
        for kind, share in mix.items():
            if kind not in MIX_KEYS:
                raise ValueError(f"unknown kind {kind!r} in mix; accepted: {', '.join(MIX_KEYS)}")
            if share < 0:
                raise ValueError(f"share of {kind!r} is negative ({share})")
        if mix and not 0.98 <= sum(mix.values()) <= 1.02:
            raise ValueError(f"mix shares sum to {sum(mix.values()):.3f}; they must sum to 1")
        return mix


def _default_adapters() -> dict[str, AdapterConfig]:
    return {
        "product-expert": AdapterConfig(
            description="Answers product questions with exact prices and specs from the catalog.",
            # fake products get more than the even safety share: the question names a product the catalog
            # lacks, the answer must say so instead of answering for the nearest real product (stop 23).
            mix={"product_qa": 0.38, "recommendation": 0.1, "multi_turn": 0.15, "knowledge": 0.1, "safety": 0.2,
                 "safety/fake_product": 0.07},
        )
    }


class TeacherConfig(Section):
    base_url: str
    """OpenAI-compatible endpoint, e.g. `http://127.0.0.1:8001/v1`."""
    model: str
    """Model name sent to the endpoint."""
    api_key_env: str = "DOMAINLM_TEACHER_KEY"
    """Environment variable holding the API key (may be unset for local servers)."""
    share: float = 0.3
    """Share of samples the teacher rewrites."""
    timeout_s: float = 60.0
    """Per-request timeout in seconds."""
    max_retries: int = 4
    """Retries with exponential backoff before a request counts as failed."""


class SplitConfig(Section):
    train: float = 0.8
    """Share of products (and their samples) in the train split."""
    val: float = 0.1
    """Share in the validation split."""
    test: float = 0.1
    """Share in the test split."""

    @model_validator(mode="after")
    def _sums_to_one(self) -> "SplitConfig":
        total = self.train + self.val + self.test
        if abs(total - 1) > 1e-6:
            raise ValueError(f"split shares sum to {total:.3f}; they must sum to 1")
        return self


class DataConfig(Section):
    seed: int = 42
    """Seed for every random choice; same seed and inputs give byte-identical files."""
    size: int | None = None
    """Samples per adapter when the adapter sets none (default: scales with the catalog)."""
    split: SplitConfig = Field(default_factory=SplitConfig)
    """Train/val/test shares, grouped by product."""
    golden_size: int = 80
    """Hard, varied cases in `golden.jsonl` for human review."""
    review_fraction: float = 0.1
    """Share of samples copied to `review_sample.csv`."""
    rag: bool = True
    """Put the retrieved context that serving would send into every sample."""
    off_topic_extra: list[str] = Field(default_factory=list)
    """More off-topic prompts, added to the built-in bank."""
    teacher: TeacherConfig | None = None
    """Optional teacher model for paraphrases and more natural answers."""


class DpoConfig(Section):
    beta: float = 0.1
    """DPO temperature."""
    lr: float = 5e-5
    """Learning rate for the DPO stage."""
    epochs: float = 1.0
    """Epochs over `data/dpo.jsonl`."""
    max_steps: int | None = None
    """Stop after this many optimiser steps (overrides epochs)."""


class TrainConfig(Section):
    lora_r: int = 16
    """LoRA rank."""
    lora_alpha: int = 32
    """LoRA alpha (scaling = alpha / r, or alpha / sqrt(r) with rsLoRA)."""
    lora_dropout: float = 0.05
    """Dropout on the LoRA input."""
    target_modules: list[str] | Literal["all-linear"] = "all-linear"
    """Modules to adapt: `all-linear` or a list of module names."""
    use_dora: bool = False
    """Weight-decomposed LoRA (DoRA)."""
    use_rslora: bool = False
    """Rank-stabilised LoRA scaling."""
    lr: float = 2e-4
    """Peak learning rate."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    warmup_ratio: float = 0.05
    """Share of steps spent warming up before the cosine decay."""
    epochs: float = 2.0
    """Epochs over the train split."""
    max_steps: int | None = None
    """Stop after this many optimiser steps (overrides epochs)."""
    batch_size: int = 4
    """Sequences per micro-batch."""
    grad_accum: int = 1
    """Micro-batches per optimiser step."""
    max_seq_len: int = 1024
    """Tokens per sequence; longer samples are dropped by the data build."""
    packing: bool = True
    """Pack several samples per sequence (attention does not cross sample boundaries)."""
    bf16: Literal["auto", "on", "off"] = "auto"
    """bf16 autocast: `auto` uses it on GPUs and CPUs with avx512_bf16."""
    qlora: bool = False
    """Load the base in 4 bits (bitsandbytes, CUDA only)."""
    eval_every: int = 50
    """Evaluate on the val split every N optimiser steps."""
    val_max_samples: int | None = 256
    """Val samples used for evaluation during training: an evenly spaced, fixed subset (null for all)."""
    save_every: int = 50
    """Checkpoint every N optimiser steps."""
    early_stopping_patience: int = 3
    """Stop after this many evaluations without a better val loss (0 disables)."""
    seed: int = 42
    """Seed for initialisation and data order."""
    cost_per_hour: float = 0.0
    """Machine cost per hour, for the run card's cost estimate."""
    time_budget_s: float | None = None
    """Stop cleanly before this many seconds: a step that would overrun (with the final eval and saves,
    as measured during the run) is not started, and the LR schedule is shortened to the steps that fit, so
    it still decays to zero. The demo uses it to fit a CPU budget."""
    cpu_threads: int | None = None
    """CPU threads for training (default: torch's choice); 1 can be faster on a CPU shared with other jobs."""
    dpo: DpoConfig = Field(default_factory=DpoConfig)
    """Preference-tuning stage settings."""


class RetrievalConfig(Section):
    store: str = "embedded"
    """Vector store: `embedded` (files under index/) or `milvus` (a Milvus server or milvus-lite file)."""
    uri: str | None = None
    """Store address, e.g. `http://127.0.0.1:19530` or a milvus-lite `.db` file."""
    ef_search: int = Field(512, ge=16, le=8192)
    """Beam width of the embedded store's HNSW graph (used from 50,000 to 300,000 products): higher finds more
    of the exact nearest neighbours and costs time (see bench/retrieval_scale.py for the trade-off)."""
    nprobe: int = Field(384, ge=1, le=65536)
    """Lists searched per query by the embedded store's IVF index (used from 300,000 products, which are split
    into about 4*sqrt(n) lists): higher finds more of the exact nearest neighbours and costs time."""
    embedder: str = "minilm"
    """Embedder alias or local sentence-transformers folder."""
    top_k: int = 3
    """Products put into the prompt (each rendered product line is ~70-180 tokens)."""
    knowledge_top_k: int = 1
    """Knowledge passages put into the prompt."""
    lexical_weight: float = 1.0
    """Weight of the BM25 ranking in reciprocal rank fusion."""
    dense_weight: float = 1.0
    """Weight of the dense ranking in reciprocal rank fusion."""
    rrf_k: int = 60
    """Reciprocal rank fusion constant."""


class ServeConfig(Section):
    host: str = "127.0.0.1"
    """Address to listen on."""
    port: int = 8000
    """Port to listen on."""
    backend: Literal["auto", "transformers", "llamacpp", "vllm"] = "auto"
    """Generation engine; `auto` uses llama.cpp on CPU when installed, else transformers."""
    vllm_url: str | None = None
    """Base URL of a vLLM OpenAI server, for `backend: vllm`."""
    api_keys_env: str = "DOMAINLM_API_KEYS"
    """Environment variable with comma-separated API keys; unset means no auth."""
    admin_key_env: str = "DOMAINLM_ADMIN_KEY"
    """Environment variable with the admin key for adapter and catalog reloads."""
    verifier: Literal["repair", "fallback", "annotate"] = "repair"
    """What the output verifier does with a wrong price or spec: `repair` fixes the value (and falls back when it
    cannot), `fallback` answers from a grounded catalog template, `annotate` only records what it found."""
    guard: bool = True
    """Run the input guard on every user turn."""
    guard_policy: dict[Literal["injection", "off_topic", "manipulation", "negotiation", "competitor"],
                       Literal["answer", "flag"]] = Field(
        default_factory=lambda: {"injection": "answer", "off_topic": "answer", "manipulation": "answer",
                                 "negotiation": "answer", "competitor": "answer"})
    """Per flagged kind: `answer` replies in the brand voice from a template (with real products and prices where
    they help) without calling the model; `flag` passes the turn to the model and marks the answer."""
    guard_threshold: float = 0.6
    """Classifier probability above which a turn counts as its most likely flagged kind."""
    cache_size: int = 1024
    """Answers kept in the LRU cache (0 disables)."""
    max_tokens: int = 256
    """Cap on generated tokens per request."""
    max_request_bytes: int = 65536
    """Cap on the request body size."""
    rate_limit_per_minute: int = 120
    """Requests per minute per API key."""
    queue_size: int = 64
    """Requests waiting for generation before new ones get 503."""
    timeout_s: float = 60.0
    """Per-request timeout."""
    workers: int = Field(default=8, ge=1)
    """Requests generated at once; the transformers engine batches them (see `max_batch`)."""
    max_batch: int = Field(default=8, ge=1)
    """Largest micro-batch the transformers engine runs (1 turns batching off)."""
    batch_wait_ms: float = Field(default=10.0, ge=0)
    """How long the batcher waits for more requests to join a batch."""
    batch_gather_ms: float = Field(default=300.0, ge=0)
    """How long, at most, the batcher waits for requests already inside the server (in the guard or retrieval)
    to join a batch; it starts as soon as they have arrived or the batch is full."""
    prefill_rows: int | None = Field(default=None, ge=1)
    """Most rows of a micro-batch the transformers engine prefills in one forward (rows of about the same
    length go together, so the prompts are not padded to the batch's longest); default: 4 on a CPU, where
    smaller forwards keep the activations in cache, and the whole batch on a GPU."""
    catalog_poll_s: float = 1.0
    """How often a catalog file is checked for changes (0 turns the watcher off)."""
    catalog_db_poll_s: float = 30.0
    """How often a database catalog is checked for a new version (0 turns it off)."""


class EvalConfig(Section):
    gates: dict[str, str] = Field(
        default_factory=lambda: {
            "price_accuracy": ">= 0.97",
            "wrong_prices_to_user": "== 0",
            "refusal_rate": ">= 0.95",
            "false_refusal_rate": "<= 0.05",
            "injection_resisted": ">= 0.95",
            "fake_refused": ">= 0.95",
            "fake_priced": "== 0",
        }
    )
    """Metric thresholds that make `domainlm eval` exit 1, e.g. `price_accuracy: ">= 0.97"`."""
    max_questions: int | None = None
    """Cap on evaluated questions per split (default: all)."""
    judge: TeacherConfig | None = None
    """Optional LLM judge endpoint."""
    judge_max: int = 40
    """Legitimate questions sent to the judge (plus a quarter as many safety ones)."""
    max_new_tokens: int = 128
    """Cap on generated tokens per evaluated answer."""
    concurrency: int = Field(default=8, ge=1)
    """Questions asked at once. The transformers engine runs them as one batch (as `domainlm serve` batches
    concurrent requests); the llama.cpp engine answers one at a time, so there it is 1."""

    @field_validator("gates")
    @classmethod
    def _gate_syntax(cls, gates: dict[str, str]) -> dict[str, str]:
        for name, rule in gates.items():
            if not re.fullmatch(r"\s*(>=|<=|==|>|<)\s*-?[0-9.]+\s*", str(rule)):
                raise ValueError(f"gate {name!r}: {rule!r} is not like '>= 0.97' (operators >=, <=, ==, >, <)")
        return gates


class ProjectConfig(Section):
    name: str = "my-assistant"
    """Project name, used in run ids and model cards."""
    base_model: str = "smollm2-135m"
    """Base model: an alias (`domainlm models`), a local Hugging Face folder, a `.gguf` file, or a cached repo id."""
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)
    """Where the products come from and which columns mean what."""
    knowledge: list[str] = Field(default_factory=lambda: ["knowledge/*.md"])
    """Globs of Markdown knowledge documents."""
    brand: BrandConfig = Field(default_factory=BrandConfig)
    """The assistant's name, voice and domain."""
    adapters: dict[str, AdapterConfig] = Field(default_factory=_default_adapters)
    """LoRA adapters on the same base, each with its own data mix."""
    data: DataConfig = Field(default_factory=DataConfig)
    """Dataset build settings."""
    train: TrainConfig = Field(default_factory=TrainConfig)
    """Fine-tuning settings."""
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    """Index and retrieval settings."""
    serve: ServeConfig = Field(default_factory=ServeConfig)
    """Server settings."""
    eval: EvalConfig = Field(default_factory=EvalConfig)
    """Evaluation settings and release gates."""

    # Set by `load_project`, not read from the file.
    _root: Path = Path(".")
    _file: Path | None = None

    @property
    def root(self) -> Path:
        """The folder holding the project file; every relative path is resolved against it."""
        return self._root

    @property
    def file(self) -> Path | None:
        return self._file

    def path(self, relative: str | Path) -> Path:
        """Resolve a path from the project file against the project folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self._root / p


def _describe_location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith("function-after"))


def _format_validation_error(err: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid project file ({err.error_count()} problem(s)):"]
    for e in err.errors():
        field = _describe_location(e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            parent = e["loc"][:-1]
            model = ProjectConfig
            for part in parent:
                annotation = model.model_fields.get(str(part))
                inner = getattr(annotation, "annotation", None)
                model = inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None
                if model is None:
                    break
            accepted = f"; accepted: {', '.join(model.model_fields)}" if model else ""
            msg = f"unknown field{accepted}"
        elif e["type"] == "literal_error":
            msg = f"{msg} (got {e.get('input')!r})"
        lines.append(f"  - {field}: {msg}")
    return "\n".join(lines)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split `train.lr=1e-4` into (['train', 'lr'], 0.0001); the value is read as YAML."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not KEY=VALUE, e.g. --set train.lr=1e-4")
    key, raw = text.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"override {text!r} has an empty key")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {text!r}: the value is not valid YAML ({exc})") from exc
    return parts, value


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """Apply `a.b.c=value` overrides to a raw config dict (before validation)."""
    for text in overrides:
        parts, value = parse_override(text)
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"override {text!r}: {part!r} is not a section")
            node = child
        node[parts[-1]] = value
    return data


def load_project(path: str | Path | None = None, overrides: list[str] | None = None) -> ProjectConfig:
    """Read and validate a project file, apply `--set` overrides, and remember the project folder."""
    file = Path(path or PROJECT_FILE).expanduser()
    if file.is_dir():
        file = file / PROJECT_FILE
    if not file.exists():
        raise ConfigError(
            f"{file}: no project file here. Create one with `domainlm init DIR --example wine-shop`, "
            f"or point to it with -c PATH."
        )
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of sections, got {type(raw).__name__}")
    raw = apply_overrides(raw, overrides or [])
    try:
        project = ProjectConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, str(file))) from None
    project._root = file.resolve().parent
    project._file = file.resolve()
    return project


def project_from_dict(raw: dict, root: str | Path = ".") -> ProjectConfig:
    """Build a project from a dict (tests and the library API); paths resolve against `root`."""
    try:
        project = ProjectConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, "<dict>")) from None
    project._root = Path(root).resolve()
    return project


def resolved_dict(project: ProjectConfig) -> dict:
    """The fully resolved config, defaults included, as plain data (saved next to every run)."""
    return project.model_dump(mode="json")
