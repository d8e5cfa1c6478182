# The README's commands. Everything installs into .venv, so a fresh machine
# needs only Python 3.10+ and network access to PyPI.
PYTHON ?= python3
VENV ?= .venv
# requirements.txt is the ROS 2 Kilted stack; test-stacks also uses the others.
REQUIREMENTS ?= requirements.txt
PY := $(VENV)/bin/python
# The stamp is keyed on the requirements and package metadata: a second run
# with nothing changed skips the install and starts within seconds.
STAMP := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) setup.py | sha1sum | cut -c1-16)
# A `make demo` run by a test uses the venv and requirements of the test run.
export VENV REQUIREMENTS
# This workspace's real models and photos, beside the clone: the demo, the tests and the
# benchmarks find them through this variable (the package knows no other place than its
# download cache).
ifneq ($(wildcard ../shared/data/models),)
export DEEPLAB_ROS_TEST_DATA ?= $(abspath ../shared/data)
endif

PYTEST_ARGS ?=

# vision_msgs has no wheel: `make venv` builds our copy of its LabelInfo and VisionClass
# (test/msgs) into the venv, with the ROS build tools of requirements-msgs*.txt, once per
# venv and message sources. A stack without such a file (Humble: no rclpy) goes without.
MSGS_REQUIREMENTS := $(filter-out $(REQUIREMENTS),$(wildcard \
	$(patsubst requirements%.txt,requirements-msgs%.txt,$(REQUIREMENTS))))
MSGS_SOURCES := test/msgs/build_into_venv.sh $(wildcard test/msgs/vision_msgs/*.* \
	test/msgs/vision_msgs/msg/*.msg)
ifneq ($(MSGS_REQUIREMENTS),)
MSGS_STAMP := $(VENV)/.msgs-$(shell cat $(MSGS_REQUIREMENTS) $(MSGS_SOURCES) | sha1sum | cut -c1-16)
endif

.PHONY: venv test test-stacks test-data demo bench clean

venv: $(STAMP) $(MSGS_STAMP)

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10+ is required (found %s)" % sys.version.split()[0])'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(REQUIREMENTS)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

ifneq ($(MSGS_STAMP),)
# After the install: a new install rebuilds the messages against its ROS libraries.
$(MSGS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -r $(MSGS_REQUIREMENTS)
	@bash test/msgs/build_into_venv.sh $(VENV)
	@rm -f $(VENV)/.msgs-*
	@touch $@
endif

# pytest's exit code 5 means no test ran: a failure, not a pass.
test: venv
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

# The suite on three stacks side by side (Kilted, Jazzy as on Ubuntu 24.04, Humble's
# Python 3.10), each in its own venv; one summary line per stack.
test-stacks:
	@bash .ci/test-stacks

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
	rm -rf $(VENV) .venv-jazzy .venv-humble build install log demo_output .pytest_cache
