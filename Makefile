# Every target sets up .venv first, so each works on a fresh clone.
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
CORPUS  ?= corpus
INDEX   ?= data/index

.PHONY: setup chat index test test-st lint soak bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# `make chat` needs only the default install; `make test` adds the test extra; `make test-st`
# the sentence-transformers extra (torch, pinned to the CPU build); `make lint` the lint extra.
$(VENV)/.installed-base: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-st: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[st,test]'
	touch $@

$(VENV)/.installed-lint: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test,lint]'
	touch $@

setup: $(STAMP)

index: $(VENV)/.installed-base
	$(VENV)/bin/essaybot index build --corpus $(CORPUS) --index $(INDEX)

chat: index
	$(VENV)/bin/essaybot chat --index $(INDEX)

test: setup
	$(PY) -m pytest -q

# the tests that need the st extra (marked `st`); they skip with the reason where it is absent
test-st: $(VENV)/.installed-st
	$(PY) -m pytest -q -m st

lint: $(VENV)/.installed-lint
	$(VENV)/bin/ruff check bot index tests bench scripts
	$(VENV)/bin/ruff format --check bot index tests bench scripts
	$(VENV)/bin/mypy

soak: setup
	$(PY) -m pytest -q -m slow

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) data .pytest_cache
