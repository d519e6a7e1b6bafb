# SPDX-License-Identifier: MIT
# tests/integration/: QEMU boots checked with pytest. Uses Debian's python3
# (/usr/bin/python3 with python3-pytest), not whatever python3 is first on
# PATH; runs two boots at a time when python3-pytest-xdist is installed.
INTEGRATION_PYTHON := /usr/bin/python3
PYTEST_ARGS ?=
INTEGRATION_XDIST = $(shell $(INTEGRATION_PYTHON) -c 'import xdist' >/dev/null 2>&1 && echo "-n 2")

.PHONY: integration
integration: $(HV_ELF) $(DOM0_ELF) $(GUEST_ELFS) $(DOM0_INITRD) $(DOM0_INITRD_FULL)
	LAMINA_BUILD=$(BUILD) PYTHONDONTWRITEBYTECODE=1 $(INTEGRATION_PYTHON) -m pytest -p no:cacheprovider \
	  $(INTEGRATION_XDIST) tests/integration $(PYTEST_ARGS)
