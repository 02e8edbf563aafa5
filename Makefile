# Every target sets up .venv first, so each works on a fresh clone.
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
CORPUS  ?= corpus
INDEX   ?= data/index

.PHONY: setup chat index test lint soak bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# `make chat` needs only the default install; `make test` adds the test and st extras.
$(VENV)/.installed-base: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[st,test]'
	touch $@

setup: $(STAMP)

index: $(VENV)/.installed-base
	$(VENV)/bin/essaybot index build --corpus $(CORPUS) --index $(INDEX)

chat: index
	$(VENV)/bin/essaybot chat --index $(INDEX)

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check bot index tests bench scripts
	$(VENV)/bin/ruff format --check bot index tests bench scripts
	$(VENV)/bin/mypy

soak: setup
	$(PY) -m pytest -q -m slow

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) data .pytest_cache
