# The two commands a newcomer needs: `make run` and `make test`. Each sets up what it needs.
VENV    ?= .venv
PYTHON  ?= python3
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
# The browser tests drive Debian's Chromium; Playwright never downloads a browser of its own.
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first: a looser spec would pull gigabytes of CUDA wheels.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[all]'
	touch $(STAMP)

$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium \
		|| (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

run: $(STAMP)
	$(BIN)/plaza demo

test: $(STAMP) $(CHROMIUM)
	$(BIN)/python -m tests.run

# The quality gates make test starts with: ruff, ruff format, mypy, import contracts.
lint: $(STAMP)
	$(BIN)/python -m tests.gates

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	$(BIN)/python bench/hub_bench.py
	$(BIN)/python bench/server_bench.py
	$(BIN)/python bench/xet_bench.py
	$(BIN)/python bench/xet_upload_bench.py
	$(BIN)/python bench/train_bench.py
	$(BIN)/python bench/datamodel_bench.py

clean:
	rm -rf $(VENV) .plaza
