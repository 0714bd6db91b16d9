# The two set-up commands of README.md: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt
OUT ?= results/demo

.PHONY: demo test test-images images test-llm bench install install-dev browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps: re-install only when the package definition changes.
$(VENV)/.installed-local: setup.py constraints.txt | $(BIN)/python
	$(PIP) -e ".[local,dashboard,eval]"
	touch $@

# dev adds pyannote.audio (its backend is tested here) and the bench extra its baseline.
$(VENV)/.installed-dev: setup.py constraints.txt tools/torchaudio_python_only.py $(VENV)/.installed-local
	$(PIP) -e ".[local,dashboard,dev,bench]"
	$(BIN)/python tools/torchaudio_python_only.py
	touch $@

install: $(VENV)/.installed-local
install-dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/callscope analyze examples/calls --out $(OUT)
	@echo "Dashboard: $(BIN)/callscope serve $(OUT) --audio examples/calls"

# The dashboard's browser tests drive Debian's chromium (no browser download): installed here when
# running as root (CI); elsewhere `apt-get install chromium` once, or those tests skip with the reason.
browser:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install-dev browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# Both container images built with podman on this machine (containers/local/build_images.sh: the base
# image from Debian's packages, nothing pulled from an image registry; about 15 minutes the first time),
# then run: each serves a real call, and the model-build pipeline runs every step in its image.
IMAGE_TAG ?= dev
images:
	CALLSCOPE_IMAGE_TAG=$(IMAGE_TAG) bash containers/local/build_images.sh

test-images: install-dev images
	CALLSCOPE_IMAGES_TAG=$(IMAGE_TAG) $(BIN)/python -m pytest tests/test_images.py

# The llama.cpp insight backend with a real model: builds llama-cpp-python (minutes), so not part
# of `make test`, whose llama.cpp tests skip with the reason when it is not installed.
test-llm: install-dev
	PIP="$(BIN)/pip" bash tools/build_llama_cpp.sh
	$(PIP) -e ".[llm]"
	$(BIN)/python -m pytest tests/test_insight_backends.py

bench: install-dev
	$(BIN)/python bench/bench_analyze.py --repeat 3 --out docs/bench-results-diarized.json

clean:
	rm -rf $(VENV) results build *.egg-info
