# Every target sets up what it needs: a pinned uv in .tools/, then .venv from uv.lock.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: demo test lint bench screenshots clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Bytecode at install: where Python may not write __pycache__ (PYTHONDONTWRITEBYTECODE, read-only
# installs, CI) every command would otherwise compile ~500 modules again (about 2.5 s). uv compiles
# the dependencies; Shipyard itself is an editable install, so compileall does src/.
$(STAMP): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	$(VENV)/bin/python -m compileall -q src >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/shipyard demo

test: $(STAMP)
	$(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy src

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/run.py

# PNGs of Studio's main pages (docs/screenshots/, shown in the README): a small demo project
# served on loopback, driven by Debian's Chromium (apt-get install chromium).
screenshots: $(STAMP)
	$(VENV)/bin/python tools/screenshots.py --out docs/screenshots

clean:
	rm -rf .tools $(VENV) .pytest_cache .ruff_cache .mypy_cache
