# Fault-injection scenarios (test/chaos). `make test` runs them once each in
# their short default form; `make chaos` repeats each scenario's faults for
# CHAOS_DURATION (SAMSA_CHAOS_DURATION). CHAOS_RUN selects scenarios by
# test name (a go test -run pattern), e.g. make chaos CHAOS_RUN=KillLeader.
CHAOS_DURATION ?= 10m
CHAOS_RUN      ?= .
CHAOS_TIMEOUT  ?= 3h
# Seeds of the deterministic replication simulation (internal/replication
# TestSim and TestSimStrictPowerLoss; make test runs 100 of each).
# SIM_POWERLOSS=1 adds power losses to TestSim, which with the default
# eligible.leader.replicas.strict=false still find the last-replica gap
# (see TestSim's doc); TestSimStrictPowerLoss always has them, strict.
SIM_SEEDS      ?= 5000
SIM_POWERLOSS  ?=

.PHONY: chaos

chaos:
	SAMSA_SIM_SEEDS=$(SIM_SEEDS) SAMSA_SIM_POWERLOSS=$(SIM_POWERLOSS) $(GO) test -count=1 -timeout $(CHAOS_TIMEOUT) -run 'TestSim$$' ./internal/replication/
	SAMSA_SIM_SEEDS=$(SIM_SEEDS) $(GO) test -count=1 -timeout $(CHAOS_TIMEOUT) -run 'TestSimStrictPowerLoss$$' ./internal/replication/
	SAMSA_CHAOS_DURATION=$(CHAOS_DURATION) $(GO) test -count=1 -v -timeout $(CHAOS_TIMEOUT) -run '$(CHAOS_RUN)' ./test/chaos/
