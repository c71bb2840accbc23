# The two commands of the README:
#   make demo  -- set up (if needed), make a synthetic IRSTD set, train, test
#   make test  -- set up (if needed), lint and run the test suite
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
# The stamp changes whenever the pins or the package metadata change, so a
# re-run installs only when something moved and is instant otherwise.
STAMP := $(VENV)/.installed-$(shell cat requirements/ci.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup test lint demo clean

setup: $(STAMP)

$(STAMP): requirements/ci.txt pyproject.toml
	test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements/ci.txt
	$(VPY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	# mim reads <site-packages>/<package>/.mim/model-index.yml, which an editable (PEP 660)
	# install does not create; site-packages/mmseg-serank (not importable) links it here.
	$(VPY) -c "import os, sysconfig; d = os.path.join(sysconfig.get_paths()['purelib'], 'mmseg-serank'); os.makedirs(d, exist_ok=True); l = os.path.join(d, '.mim'); os.path.lexists(l) and os.remove(l); os.symlink(os.path.abspath('mmseg_serank/.mim'), l)"
	rm -f $(VENV)/.installed-*
	touch $@

lint: setup
	$(VENV)/bin/ruff check .

test: lint
	$(VPY) -m pytest tests -q

demo: setup
	bash tools/demo.sh

clean:
	rm -rf $(VENV) work_dirs data/synthetic_irstd
