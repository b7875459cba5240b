# Prometheus and promtool for the observability tests (test/observability).
#
#   make deps-prometheus   Debian's prometheus package (2.42, which brings
#                          promtool), unpacked into $(PROM_DIR)
#
# The package is fetched with `apt-get download` and unpacked with `dpkg -x`
# rather than installed: installing it would run its maintainer scripts,
# which create a user and try to start a prometheus service (left running,
# or failing where there is no init system). Unpacked, the two static
# binaries sit in $(PROM_DIR)/usr/bin and nothing runs until a test starts
# one. test/observability finds them there (or at SAMSA_PROMETHEUS and
# SAMSA_PROMTOOL, or on PATH). apt-get update runs only if the download
# fails.

PROM_CACHE ?= .cache
PROM_DIR   ?= $(PROM_CACHE)/prometheus
PROM_STAMP := $(PROM_DIR)/.prometheus-deb

.PHONY: deps-prometheus
deps: deps-prometheus

deps-prometheus: $(PROM_STAMP)

$(PROM_STAMP):
	@mkdir -p $(PROM_CACHE)
	@[ -f $(PROM_CACHE)/.gitignore ] || echo '*' > $(PROM_CACHE)/.gitignore
	@rm -rf $(PROM_DIR).dl && mkdir -p $(PROM_DIR).dl
	@echo "deps: downloading Debian's prometheus package"
	@cd $(PROM_DIR).dl && { apt-get download -q prometheus >/dev/null 2>&1 || { \
	  apt-get update -q >/dev/null && apt-get download -q prometheus; }; }
	@rm -rf $(PROM_DIR) && mkdir -p $(PROM_DIR)
	dpkg -x $$(ls $(PROM_DIR).dl/prometheus_*.deb | head -n1) $(PROM_DIR)
	@rm -rf $(PROM_DIR).dl
	@$(PROM_DIR)/usr/bin/prometheus --version 2>&1 | head -n1
	@$(PROM_DIR)/usr/bin/promtool --version 2>&1 | head -n1
	@touch $@
