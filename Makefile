# The README's commands. Everything installs into .venv, so a fresh machine
# needs only Python 3.11+ and network access to PyPI.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The stamp is keyed on the requirements and package metadata: a second run
# with nothing changed skips the install and starts within seconds.
STAMP := $(VENV)/.installed-$(shell cat requirements.txt setup.py | sha1sum | cut -c1-16)

PYTEST_ARGS ?=

.PHONY: venv test test-data demo bench clean

venv: $(STAMP)

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found %s)" % sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

# pytest's exit code 5 means no test ran: a failure, not a pass.
test: venv
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The real models and photos for the tests, on a clone without ../shared/data:
# downloaded once (checked) into the user cache; DEEPLAB_ROS_DOWNLOAD_MIRROR works.
test-data: venv
	$(PY) -m deeplab_ros.engine.sample_data

demo: venv
	$(PY) -m deeplab_ros.tools.demo $(if $(INPUT),--input "$(INPUT)") $(if $(MODEL),--model "$(MODEL)") \
		$(if $(OUTPUT),--output "$(OUTPUT)")

BENCH_STAMP := $(VENV)/.bench-$(shell sha1sum bench/requirements.txt | cut -c1-16)

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -r bench/requirements.txt
	@rm -f $(VENV)/.bench-*
	@touch $@

# BENCH_ARGS=--soak adds the 2,000-frame soak run.
bench: $(BENCH_STAMP)
	$(PY) bench/run_bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build install log demo_output .pytest_cache
