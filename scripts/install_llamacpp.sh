#!/bin/sh
# Install llama-cpp-python (the `llamacpp` extra) from a wheel built once and cached.
# Building from the PyPI source takes about 5 minutes on a laptop CPU, so the wheel is kept in
# ${DOMAINLM_HOME:-~/.cache/domainlm}/wheels and later installs reuse it offline.
#   PYTHON=.venv/bin/python scripts/install_llamacpp.sh        # CMAKE_ARGS passes through (e.g. -DGGML_CUDA=on)
#
# On CPUs with AMX the build leaves out ggml's AMX kernels: built natively on a 2-core Xeon with AMX
# (llama-cpp-python 0.3.36), they crash the process with SIGILL at `tileloadd` in ggml_backend_amx_mul_mat
# on quantized weights (the Q4_1 SmolLM2 GGUF, q8_0 exports), although AMX itself runs there. The flags
# are explicit -mno-* so they win over the -march=native that ggml adds.
set -eu
PYTHON="${PYTHON:-python}"
SPEC="${LLAMACPP_SPEC:-llama-cpp-python>=0.3}"
NO_AMX="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
AVOID_AMX=""
if [ -z "${CMAKE_ARGS:-}" ] && grep -q amx_tile /proc/cpuinfo 2>/dev/null; then
  AVOID_AMX=1
  export CMAKE_ARGS="-DCMAKE_C_FLAGS='$NO_AMX' -DCMAKE_CXX_FLAGS='$NO_AMX'"
fi
# One wheel folder per set of build flags, so a cached wheel is never one built with other flags.
TAG=$(printf '%s' "${CMAKE_ARGS:-}" | sha256sum | cut -c1-12)
WHEELS="${DOMAINLM_HOME:-$HOME/.cache/domainlm}/wheels/llamacpp-$TAG"
mkdir -p "$WHEELS"
if "$PYTHON" -c "import llama_cpp" 2>/dev/null; then
  if [ -n "$AVOID_AMX" ] &&
     "$PYTHON" -c "import llama_cpp, sys; sys.exit(b'AMX_INT8 = 1' not in llama_cpp.llama_print_system_info())"; then
    echo "llama-cpp-python was built with AMX kernels, which crash on this CPU: rebuilding without them"
    "$PYTHON" -m pip uninstall --yes --quiet llama-cpp-python
  else
    echo "llama-cpp-python is already installed: $("$PYTHON" -c 'import llama_cpp; print(llama_cpp.__version__)')"
    exit 0
  fi
fi
if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "Building llama-cpp-python once (about 5 minutes); the wheel is cached in $WHEELS"
  # --no-cache-dir: pip's own wheel cache keys on the source, not on CMAKE_ARGS, and would hand back a wheel
  # built with other flags.
  "$PYTHON" -m pip wheel --no-cache-dir --no-deps --wheel-dir "$WHEELS" "$SPEC"
fi
"$PYTHON" -m pip install --no-index --find-links "$WHEELS" "$SPEC" || {
  # its pure-Python dependencies are not in the wheel folder; fetch those normally, never the source again
  "$PYTHON" -m pip install --find-links "$WHEELS" --only-binary llama-cpp-python "$SPEC"
}
