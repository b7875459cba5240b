# Fault-injection scenarios (test/chaos). `make test` runs them once each in
# their short default form; `make chaos` repeats each scenario's faults for
# CHAOS_DURATION (SAMSA_CHAOS_DURATION). CHAOS_RUN selects scenarios by
# test name (a go test -run pattern), e.g. make chaos CHAOS_RUN=KillLeader.
CHAOS_DURATION ?= 10m
CHAOS_RUN      ?= .
CHAOS_TIMEOUT  ?= 3h

.PHONY: chaos

chaos:
	SAMSA_CHAOS_DURATION=$(CHAOS_DURATION) $(GO) test -count=1 -v -timeout $(CHAOS_TIMEOUT) -run '$(CHAOS_RUN)' ./test/chaos/
