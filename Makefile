# The two commands of the README:
#   make demo  -- set up (if needed), make a synthetic IRSTD set, train, test
#   make test  -- set up (if needed), lint and run the test suite
#   make docs  -- set up (if needed), build the documentation (docs/en -> docs/_build/html)
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
# The stamp changes whenever the pins or the package metadata change, so a
# re-run installs only when something moved and is instant otherwise.
STAMP := $(VENV)/.installed-$(shell cat requirements/ci.txt pyproject.toml Makefile | cksum | cut -d' ' -f1)

.PHONY: setup test lint demo docs clean

setup: $(STAMP)

$(STAMP): requirements/ci.txt pyproject.toml Makefile
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements/ci.txt
	# compat mode: the checkout is a plain sys.path entry, so the folders below cannot
	# shadow the package (a finder-based editable install would let them).
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . --config-settings editable_mode=compat
	# mim reads <site-packages>/<name>/.mim/model-index.yml, which an editable install does
	# not create; site-packages/mmseg-serank and mmseg_serank (no code) link it here, so
	# `mim search mmseg-serank` and `mim search mmseg_serank` both work.
	$(VPY) -c "import os, sysconfig; [(os.makedirs(d, exist_ok=True), os.path.lexists(os.path.join(d, '.mim')) and os.remove(os.path.join(d, '.mim')), os.symlink(os.path.abspath('mmseg_serank/.mim'), os.path.join(d, '.mim'))) for d in (os.path.join(sysconfig.get_paths()['purelib'], n) for n in ('mmseg-serank', 'mmseg_serank'))]"
	rm -f $(VENV)/.installed-*
	touch $@

lint: setup
	$(VENV)/bin/ruff check .

test: lint
	$(VPY) -m pytest tests -q -n auto --durations=20

demo: setup
	bash tools/misc/demo.sh

# Warnings are errors; model_zoo.md is generated from the metafiles by docs/en/stat.py.
docs: setup
	$(VPY) -m sphinx -W -b html docs/en docs/_build/html

clean:
	rm -rf $(VENV) work_dirs data/synthetic_irstd
