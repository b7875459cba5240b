# Samsa build and test entry points. `make test` is what CI runs.
GO       ?= go
PKGS     ?= ./...
FUZZTIME ?= 20s

.PHONY: all build test test-unit test-race bench fuzz verify clean

all: build

build:
	$(GO) build -o bin/samsa ./cmd/samsa

-include mk/deps.mk
-include mk/prometheus.mk
-include mk/bench.mk
-include mk/chaos.mk
-include mk/soak.mk

# test installs what the client-compatibility tests need, then runs every
# test, including the Go benchmarks once each so they keep compiling.
test: deps
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 25m $(PKGS)
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x $(PKGS) > /dev/null

test-unit:
	$(GO) test -count=1 -short $(PKGS)

# test-race runs the in-process packages (those whose tests start no
# binary: internal/ but the clustertest harness and the packages whose
# tests use it) under the race detector, and the in-process cluster of
# internal/node in full.
RACE_PKGS = $$($(GO) list -f '{{.ImportPath}} {{join .Imports " "}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./internal/... | grep -v /internal/clustertest | cut -d' ' -f1)
test-race:
	$(GO) test -race -count=1 -short -timeout 25m $(RACE_PKGS)
	$(GO) test -race -count=1 -run TestInProcessCluster ./internal/node/

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# fuzz runs every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

verify:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	@cp go.mod /tmp/samsa.go.mod.bak; cp go.sum /tmp/samsa.go.sum.bak; \
	  $(GO) mod tidy; \
	  if ! git diff --quiet -- go.mod go.sum; then git diff -- go.mod go.sum; cp /tmp/samsa.go.mod.bak go.mod; cp /tmp/samsa.go.sum.bak go.sum; echo "go mod tidy changes go.mod/go.sum"; exit 1; fi

clean:
	rm -rf bin samsa-data
