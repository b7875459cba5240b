# Samsa vs Apache Kafka on this machine (bench/compare, docs/benchmarks.md).
#
#   make kafka-dist            Kafka's jars from Maven Central into $(KAFKA_LIBS)
#                              (bench/kafka/pom.xml; skipped when already there)
#   make bench-compare         the full comparison, about 45 minutes on 2 cores;
#                              rewrites the generated part of docs/benchmarks.md
#   make bench-compare-quick   a few-minute smoke run (1 run each, 3 s), written
#                              to .cache/bench/benchmarks-quick.md
#
# BENCH_FLAGS passes extra flags, e.g. BENCH_FLAGS='-workloads 1,4 -keep'
# (go run ./bench/compare -h lists them).

GO            ?= go
MVN           ?= mvn
BENCH_CACHE   ?= .cache
KAFKA_VERSION := 4.4.0
KAFKA_LIBS    := $(BENCH_CACHE)/kafka/libs
KAFKA_STAMP   := $(KAFKA_LIBS)/.kafka-$(KAFKA_VERSION)
BENCH_FLAGS   ?=

.PHONY: kafka-dist bench-compare bench-compare-quick bench-java-tools

kafka-dist: $(KAFKA_STAMP)

# java and mvn come from Debian when missing (the broker needs Java 17+).
bench-java-tools:
	@command -v java >/dev/null 2>&1 && command -v $(MVN) >/dev/null 2>&1 || { \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends openjdk-17-jre-headless maven >/dev/null 2>&1 || { \
	    apt-get update -q && apt-get install -y -q --no-install-recommends openjdk-17-jre-headless maven; }; }

$(KAFKA_STAMP): bench/kafka/pom.xml | bench-java-tools
	@mkdir -p $(BENCH_CACHE)
	@[ -f $(BENCH_CACHE)/.gitignore ] || echo '*' > $(BENCH_CACHE)/.gitignore
	rm -rf $(KAFKA_LIBS)
	$(MVN) -q -B -Dstyle.color=never -f bench/kafka/pom.xml dependency:copy-dependencies \
	  -DincludeScope=runtime -DoutputDirectory=$(abspath $(KAFKA_LIBS))
	@test -f $(KAFKA_LIBS)/kafka_2.13-$(KAFKA_VERSION).jar || { echo "kafka-dist: kafka_2.13-$(KAFKA_VERSION).jar missing; does bench/kafka/pom.xml say $(KAFKA_VERSION)?" >&2; exit 1; }
	@touch $@

bench-compare: kafka-dist
	BENCH_MAKE_TARGET=$@ $(GO) run ./bench/compare -kafka-libs $(KAFKA_LIBS) $(BENCH_FLAGS)

bench-compare-quick: kafka-dist
	BENCH_MAKE_TARGET=$@ $(GO) run ./bench/compare -quick -kafka-libs $(KAFKA_LIBS) $(BENCH_FLAGS)

# Cluster benchmarks (test/cluster/bench_test.go) on a local 3-node cluster:
#
#   make bench-cluster   BenchmarkFailover, CLUSTER_BENCH_RUNS (20) kills of
#                        the partition leader with SIGKILL and as many with
#                        SIGTERM (median, p90, max); then
#                        BenchmarkReplicatedProduce, acks=all throughput at
#                        RF=1 and RF=3, CLUSTER_BENCH_RECORDS (500000) 1 KiB
#                        records each (the same volume for both: a few
#                        seconds), and their ratio. Output also in
#                        $(CLUSTER_BENCH_OUT).
#
# The three brokers and the client share this machine's cores, so the
# numbers are this machine's, not a cluster's; on 2 cores the throughput
# varies by some 20% from run to run.
CLUSTER_BENCH_RUNS    ?= 20
CLUSTER_BENCH_RECORDS ?= 500000
CLUSTER_BENCH_TIMEOUT ?= 30m
CLUSTER_BENCH_OUT     := $(BENCH_CACHE)/bench/cluster.txt

.PHONY: bench-cluster

# Each go test's exit status goes through a file: /bin/sh has no pipefail.
bench-cluster:
	@mkdir -p $(dir $(CLUSTER_BENCH_OUT))
	@[ -f $(BENCH_CACHE)/.gitignore ] || echo '*' > $(BENCH_CACHE)/.gitignore
	@: > $(CLUSTER_BENCH_OUT)
	@{ $(GO) test -count=1 -timeout $(CLUSTER_BENCH_TIMEOUT) -run '^$$' -bench '^BenchmarkFailover$$' \
	    -benchtime $(CLUSTER_BENCH_RUNS)x ./test/cluster/ 2>&1; echo $$? > $(CLUSTER_BENCH_OUT).rc; } | tee -a $(CLUSTER_BENCH_OUT); \
	  exit $$(cat $(CLUSTER_BENCH_OUT).rc)
	@{ $(GO) test -count=1 -timeout $(CLUSTER_BENCH_TIMEOUT) -run '^$$' -bench '^BenchmarkReplicatedProduce$$' \
	    -benchtime $(CLUSTER_BENCH_RECORDS)x ./test/cluster/ 2>&1; echo $$? > $(CLUSTER_BENCH_OUT).rc; } | tee -a $(CLUSTER_BENCH_OUT); \
	  exit $$(cat $(CLUSTER_BENCH_OUT).rc)
	@rm -f $(CLUSTER_BENCH_OUT).rc
	@echo; echo "== bench-cluster: 3 brokers and the client on $$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') cores of one machine ($(CLUSTER_BENCH_OUT))"
	@grep -E '^Benchmark' $(CLUSTER_BENCH_OUT)
