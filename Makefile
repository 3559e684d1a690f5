# Two commands: `make run` (set up, seed, generate the first prompts, serve while the rest
# are generated in the background) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format bench clean

run: $(VENV)/.installed
	$(BIN)/arena db upgrade
	$(BIN)/arena seed
	$(BIN)/arena generate --all --provider builtin --first-prompts 3
	@echo "Generating the other prompts' outputs in the background (log: instance/generate.log)"
	$(BIN)/arena generate --all --provider builtin > instance/generate.log 2>&1 & $(BIN)/arena serve

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not faults"
	$(BIN)/python -m pytest -m faults

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/builtin_render.py
	$(BIN)/python bench/vote_path.py
	$(BIN)/python bench/vote_load.py --rate-limit 1000000/minute
	$(BIN)/python bench/recompute.py
	$(BIN)/python bench/calibration.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The stamps make a second `make run` / `make test` skip the install when pyproject is unchanged.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
