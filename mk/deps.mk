# Test dependencies for the client compatibility matrix (test/compat).
#
# Every target is idempotent and cheap when its dependency is already in
# place: kcat is checked with command -v, the Python venv and the Java jar are
# make file targets with their inputs as prerequisites.
#
#   make deps         everything below
#   make deps-kcat    kcat from Debian (apt-get update only if the install fails)
#   make deps-python  confluent-kafka in a venv at $(COMPAT_VENV)
#   make deps-java    test/compat/java/target/samsa-compat.jar (kafka-clients)
#   make kafka-dist   Apache Kafka's jars in .cache/kafka/libs (mk/bench.mk),
#                     whose kafka-acls and kafka-configs classes
#                     test/compat/kafkatools_test.go runs
#
# test/compat finds them at the same paths (or SAMSA_COMPAT_PYTHON,
# SAMSA_COMPAT_JAR, SAMSA_COMPAT_KCAT, SAMSA_COMPAT_KAFKA_LIBS).

COMPAT_CACHE            ?= .cache
COMPAT_VENV             ?= $(COMPAT_CACHE)/venv
COMPAT_PYTHON           ?= python3
CONFLUENT_KAFKA_PY_VERSION := 2.16.1
COMPAT_JAVA_DIR         := test/compat/java
COMPAT_JAR              := $(COMPAT_JAVA_DIR)/target/samsa-compat.jar
COMPAT_JAVA_SRCS        := $(shell find $(COMPAT_JAVA_DIR)/src -name '*.java' 2>/dev/null)
COMPAT_SUDO             := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
MVN                     ?= mvn

.PHONY: deps deps-kcat deps-python deps-java

deps: deps-kcat deps-python deps-java kafka-dist

# compat_apt_install CMD,PACKAGES: install PACKAGES from Debian unless CMD is
# already on PATH; apt-get update runs only if the first install fails.
define compat_apt_install
@command -v $(1) >/dev/null 2>&1 || { \
  echo "deps: installing $(2)"; \
  export DEBIAN_FRONTEND=noninteractive; \
  $(COMPAT_SUDO) apt-get install -y -q --no-install-recommends $(2) >/dev/null 2>&1 || { \
    $(COMPAT_SUDO) apt-get update -q && \
    $(COMPAT_SUDO) apt-get install -y -q --no-install-recommends $(2); }; }
@command -v $(1) >/dev/null 2>&1 || { echo "deps: $(1) is still missing" >&2; exit 1; }
endef

deps-kcat:
	$(call compat_apt_install,kcat,kcat)

deps-python: $(COMPAT_VENV)/.confluent-kafka-$(CONFLUENT_KAFKA_PY_VERSION)

$(COMPAT_VENV)/.confluent-kafka-$(CONFLUENT_KAFKA_PY_VERSION):
	@mkdir -p $(COMPAT_CACHE)
	@[ -f $(COMPAT_CACHE)/.gitignore ] || echo '*' > $(COMPAT_CACHE)/.gitignore
	@[ -x $(COMPAT_VENV)/bin/python ] || $(COMPAT_PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install -q --disable-pip-version-check 'confluent-kafka==$(CONFLUENT_KAFKA_PY_VERSION)'
	$(COMPAT_VENV)/bin/python -c 'import confluent_kafka; print("deps-python: confluent-kafka", confluent_kafka.__version__, "librdkafka", confluent_kafka.libversion()[0])'
	@rm -f $(COMPAT_VENV)/.confluent-kafka-*
	@touch $@

deps-java: compat-java-tools $(COMPAT_JAR)

.PHONY: compat-java-tools
compat-java-tools:
	$(call compat_apt_install,java,openjdk-17-jre-headless)
	$(call compat_apt_install,javac,openjdk-17-jdk-headless)
	$(call compat_apt_install,$(MVN),maven)

$(COMPAT_JAR): $(COMPAT_JAVA_DIR)/pom.xml $(COMPAT_JAVA_SRCS) | compat-java-tools
	$(MVN) -q -B -Dstyle.color=never -f $(COMPAT_JAVA_DIR)/pom.xml -DskipTests package
	@touch $@
