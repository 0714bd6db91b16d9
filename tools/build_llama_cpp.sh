#!/usr/bin/env bash
# Builds llama-cpp-python's trimmed, portable wheel once into a cache dir and installs it.
#
# The registries carry llama-cpp-python only as an sdist. Its default build compiles the tools,
# examples, server and llava for the build machine's CPU (16-26 minutes on 2 cores, and a wheel
# that may crash on an older CPU); this build keeps the library only, for any AVX2/FMA/F16C x86-64
# CPU (5.6 minutes on 2 idle cores, 11.5 on 2 busy ones; 570 CPU-seconds; same inference speed).
# The wheel is cached, so a second run installs in seconds, and nothing is done when the venv has
# this version already.
#
#   tools/build_llama_cpp.sh                 # build if not cached, install into .venv
#   PIP="flock /tmp/pip.lock .venv/bin/pip" tools/build_llama_cpp.sh   # a shared venv
#
# Environment: VENV (.venv), PIP (the install command, $VENV/bin/pip; the build itself always
# runs $VENV/bin/pip wheel, in an isolated build env), LLAMA_CPP_VERSION (0.3.36),
# LLAMA_CPP_WHEEL_DIR (~/.cache/callscope/wheels), LLAMA_CPP_PREBUILT_DIR (../shared/wheels: looked in,
# never written), LLAMA_CPP_BUILD_ONLY=1 (build, do not install).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PIP=${PIP:-$VENV/bin/pip}
VERSION=${LLAMA_CPP_VERSION:-0.3.36}
WHEEL_DIR=${LLAMA_CPP_WHEEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/callscope/wheels}
PREBUILT_DIR=${LLAMA_CPP_PREBUILT_DIR:-../shared/wheels}
mkdir -p "$WHEEL_DIR"

installed=$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('llama-cpp-python'))" 2>/dev/null || true)
if [[ "$installed" == "$VERSION" && "${LLAMA_CPP_BUILD_ONLY:-0}" != 1 ]]; then
    echo "llama-cpp-python $VERSION is installed in $VENV"
    exit 0
fi

find_wheel() { ls "$1"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -n 1; }

# A wheel built earlier with these flags: this machine's cache, else a read-only prebuilt dir.
wheel=$(find_wheel "$WHEEL_DIR" || true)
if [[ -z "$wheel" && -d "$PREBUILT_DIR" ]]; then
    wheel=$(find_wheel "$PREBUILT_DIR" || true)
fi
if [[ -z "$wheel" ]]; then
    # Library only; GGML_NATIVE=OFF so the wheel runs on other machines than the one that built it.
    export CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF"
    export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
    start=$(date +%s)
    echo "building llama-cpp-python $VERSION (trimmed, portable) into $WHEEL_DIR ..."
    # nice: the build must not starve tests or other jobs sharing the cores
    nice -n 10 "$VENV/bin/pip" wheel --no-deps --no-binary llama-cpp-python -w "$WHEEL_DIR" "llama-cpp-python==$VERSION"
    echo "built in $(( $(date +%s) - start )) s"
    wheel=$(find_wheel "$WHEEL_DIR")
fi
echo "wheel: $wheel"

if [[ "${LLAMA_CPP_BUILD_ONLY:-0}" != 1 ]]; then
    # its dependencies (numpy, typing-extensions, diskcache, jinja2) come from the registries
    constraints=()
    [[ -f constraints.txt ]] && constraints=(-c constraints.txt)
    read -ra pip_command <<< "$PIP"  # PIP may be a command line ("flock /tmp/pip.lock .venv/bin/pip")
    "${pip_command[@]}" install --disable-pip-version-check -q "${constraints[@]}" "$wheel"
fi
