#!/bin/sh
# Install llama-cpp-python (the `llamacpp` extra) from a wheel built once and cached.
# Building from the PyPI source takes about 5 minutes on a laptop CPU, so the wheel is kept in
# ${DOMAINLM_HOME:-~/.cache/domainlm}/wheels and later installs reuse it offline.
#   PYTHON=.venv/bin/python scripts/install_llamacpp.sh        # CMAKE_ARGS passes through (e.g. -DGGML_CUDA=on)
set -eu
PYTHON="${PYTHON:-python}"
SPEC="${LLAMACPP_SPEC:-llama-cpp-python>=0.3}"
WHEELS="${DOMAINLM_HOME:-$HOME/.cache/domainlm}/wheels"
mkdir -p "$WHEELS"
if "$PYTHON" -c "import llama_cpp" 2>/dev/null; then
  echo "llama-cpp-python is already installed: $("$PYTHON" -c 'import llama_cpp; print(llama_cpp.__version__)')"
  exit 0
fi
if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "Building llama-cpp-python once (about 5 minutes); the wheel is cached in $WHEELS"
  "$PYTHON" -m pip wheel --no-deps --wheel-dir "$WHEELS" "$SPEC"
fi
"$PYTHON" -m pip install --no-index --find-links "$WHEELS" "$SPEC" || {
  # its pure-Python dependencies are not in the wheel folder; fetch those normally, never the source again
  "$PYTHON" -m pip install --find-links "$WHEELS" --only-binary llama-cpp-python "$SPEC"
}
