# The course's commands. `make lab` and `make test` are the two commands of the README's quick start.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NB     ?=

.PHONY: setup lab test unit compat grade book check refresh rehearse bench datasets zh clean

setup: $(STAMP)                      ## create .venv with the pinned, tested packages and course_lib

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

# JupyterLab serves the repository root (so the notebooks' links to ../solutions, README.md and the
# datasheets resolve) and opens chapter 00; a file argument would make notebooks/ the root instead.
LAB_OPEN := --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks/00_getting_started.ipynb

lab: setup                           ## open the course in JupyterLab (repository root, chapter 00 open)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_OPEN)

test: setup                          ## every test: unit tests + strict nbval of notebooks and solutions
	$(BIN)/python -m pytest -n 2 --dist loadscope

unit: setup                          ## only the unit tests of course_lib and the checkers
	$(BIN)/python -m pytest -n 2 --dist loadscope tests

# The lowest supported versions (requirements-lowest.txt) in a venv of their own: every unit test, and
# every notebook and solution run top to bottom (asserts must hold; outputs are not compared: reprs
# differ across versions).
COMPAT_VENV  := .venv-compat
COMPAT_STAMP := $(COMPAT_VENV)/.installed-stamp

$(COMPAT_STAMP): requirements-lowest.txt pyproject.toml
	test -x $(COMPAT_VENV)/bin/python || $(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install -q -r requirements-lowest.txt
	$(COMPAT_VENV)/bin/python -m pip install -q --no-deps -e .
	touch $(COMPAT_STAMP)

compat: $(COMPAT_STAMP)              ## the same tests on the lowest supported versions (outputs not compared)
	$(COMPAT_VENV)/bin/python -m pytest -n 2 --dist loadscope -o addopts="-p no:cacheprovider" \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=300 tests notebooks solutions

book: setup                          ## the book site in _build/html (Chinese edition in _build/html/zh), offline
	$(BIN)/python -m course_lib book

zh: setup                            ## the Chinese notebooks zh/ from the executed English ones + i18n/zh: make zh [NB="00 05"]
	$(BIN)/python -m course_lib zh build $(NB)
	$(BIN)/python -m course_lib zh status

grade: setup                         ## grade a class: make grade NB=07 DIR=submissions/ [OUT=grades]
	$(BIN)/python -m course_lib grade $(NB) $(DIR) --out $(or $(OUT),grades)

check: setup                         ## strict nbval per notebook with a table: make check NB="00 03"
	$(BIN)/python -m course_lib check $(NB)

refresh: setup                       ## re-execute notebooks in a clean kernel: make refresh NB=00
	$(BIN)/python -m course_lib refresh $(NB)

rehearse: setup                      ## run notebooks on simulated replicas, as on N GPUs: make rehearse NB=10 REPLICAS=2
	$(BIN)/python -m course_lib rehearse $(NB) --replicas $(or $(REPLICAS),2)

bench: setup                         ## time and memory per notebook -> benchmarks/RESULTS.md
	$(BIN)/python benchmarks/run.py $(NB)

datasets: setup                      ## verify the generated datasets against their manifest
	$(BIN)/python -m course_lib datasets --verify

clean:
	rm -rf $(VENV) $(COMPAT_VENV) .pytest_cache _build book/_generated
