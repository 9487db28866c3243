"""Export trained runs to where users run models: a merged HF folder, GGUF (llama.cpp), Ollama, vLLM."""

from domainlm.export.errors import ExportError
from domainlm.export.formats import EXPORTERS, export_runs
from domainlm.export.run import Run, find_run, load_run

__all__ = ["EXPORTERS", "ExportError", "Run", "export_runs", "find_run", "load_run"]
