# The two commands of the README: `make demo` and `make test`. Each creates the
# virtualenv and installs what it needs on first use (and again when pyproject.toml changes).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test bench install clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "socialdesk needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(INSTALLED)

install: $(INSTALLED)

demo: $(INSTALLED)
	$(VENV)/bin/socialdesk demo

test: $(INSTALLED)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(INSTALLED)
	$(PY) bench/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
