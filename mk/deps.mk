# Test dependencies for the client compatibility matrix (test/compat).
#
# Every target is idempotent and cheap when its dependency is already in
# place: kcat is checked with command -v, the Python venv and the Java jar are
# make file targets with their inputs as prerequisites.
#
#   make deps         everything below
#   make deps-kcat    kcat from Debian (apt-get update only if the install fails)
#   make deps-python  confluent-kafka with its Schema Registry extras
#                     (avro, json, protobuf, schemaregistry) and Apache Avro's
#                     Python package in a venv at $(COMPAT_VENV)
#   make deps-schemathesis  schemathesis (PyPI) in the same venv, which
#                     test/restproxy/schemathesis_test.go runs against the REST
#                     proxy's /openapi.json
#   make deps-connect-py  kafka-connect-py (PyPI) in the same venv, which
#                     test/connect/rt_python_test.go drives Samsa's Connect
#                     worker with
#   make deps-npm     @confluentinc/schemaregistry in $(COMPAT_NPM)/node_modules
#                     (test/registry/js), run by Node 20
#   make deps-java    test/compat/java/target/samsa-compat.jar (kafka-clients)
#   make deps-connect-java  Apache Kafka Connect 4.4.0's worker class path
#                     (connect-runtime, -json, -transforms, log4j2) and
#                     Debezium's Postgres connector in $(CONNECT_JAVA_LIBS)
#                     (test/compat/connect/pom.xml), run by test/connect
#   make deps-postgres PostgreSQL 15 from Debian (postgresql-15), whose
#                     initdb/pg_ctl the Postgres connectors' tests run (as
#                     the package's postgres user when root)
#   make kafka-dist   Apache Kafka's jars in .cache/kafka/libs (mk/bench.mk),
#                     whose kafka-acls and kafka-configs classes
#                     test/compat/kafkatools_test.go runs
#
# test/compat finds them at the same paths (or SAMSA_COMPAT_PYTHON,
# SAMSA_COMPAT_JAR, SAMSA_COMPAT_KCAT, SAMSA_COMPAT_KAFKA_LIBS); test/connect
# finds the Connect class path the same way (or SAMSA_CONNECT_JAVA_LIBS); test/registry
# uses the same venv and $(COMPAT_NPM)/node_modules (or SAMSA_REGISTRY_NODE_MODULES).

COMPAT_CACHE            ?= .cache
COMPAT_VENV             ?= $(COMPAT_CACHE)/venv
COMPAT_PYTHON           ?= python3
CONFLUENT_KAFKA_PY_VERSION := 2.16.1
CONFLUENT_KAFKA_PY_EXTRAS  := avro,json,protobuf,schemaregistry
AVRO_PY_VERSION            := 1.12.2
COMPAT_PY_STAMP         := $(COMPAT_VENV)/.confluent-kafka-$(CONFLUENT_KAFKA_PY_VERSION)-sr-avro-$(AVRO_PY_VERSION)
COMPAT_NPM              ?= $(COMPAT_CACHE)/npm
COMPAT_NODE             ?= node
COMPAT_NPM_PACKAGE_JSON := test/registry/js/package.json
COMPAT_NPM_STAMP        := $(COMPAT_NPM)/.installed
COMPAT_JAVA_DIR         := test/compat/java
COMPAT_JAR              := $(COMPAT_JAVA_DIR)/target/samsa-compat.jar
COMPAT_JAVA_SRCS        := $(shell find $(COMPAT_JAVA_DIR)/src -name '*.java' 2>/dev/null)
COMPAT_SUDO             := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
MVN                     ?= mvn

.PHONY: deps deps-kcat deps-python deps-schemathesis deps-connect-py deps-java deps-npm deps-connect-java deps-postgres

deps: deps-kcat deps-python deps-schemathesis deps-connect-py deps-java deps-npm kafka-dist deps-connect-java deps-postgres

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

# PostgreSQL's binaries are not on PATH (Debian keeps them in
# /usr/lib/postgresql/15/bin), so the check names initdb by its path.
PG_BINDIR := /usr/lib/postgresql/15/bin
deps-postgres:
	$(call compat_apt_install,$(PG_BINDIR)/initdb,postgresql-15)

deps-python: $(COMPAT_PY_STAMP)

# The import check covers each extra: the Schema Registry client, the Avro,
# Protobuf and JSON Schema serdes, and Apache Avro's package (whose
# test/test_compatibility.py test/registry replays).
$(COMPAT_PY_STAMP):
	@mkdir -p $(COMPAT_CACHE)
	@[ -f $(COMPAT_CACHE)/.gitignore ] || echo '*' > $(COMPAT_CACHE)/.gitignore
	@[ -x $(COMPAT_VENV)/bin/python ] || $(COMPAT_PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install -q --disable-pip-version-check \
	  'confluent-kafka[$(CONFLUENT_KAFKA_PY_EXTRAS)]==$(CONFLUENT_KAFKA_PY_VERSION)' 'avro==$(AVRO_PY_VERSION)'
	$(COMPAT_VENV)/bin/python -c 'import confluent_kafka; print("deps-python: confluent-kafka", confluent_kafka.__version__, "librdkafka", confluent_kafka.libversion()[0])'
	$(COMPAT_VENV)/bin/python -c 'import confluent_kafka.schema_registry.avro, confluent_kafka.schema_registry.protobuf, confluent_kafka.schema_registry.json_schema, avro, importlib.metadata as m; print("deps-python: schema registry serdes, avro", m.version("avro"))'
	@rm -f $(COMPAT_VENV)/.confluent-kafka-*
	@touch $@

# deps-schemathesis adds schemathesis to the venv deps-python makes (so
# test/restproxy finds it beside confluent-kafka as $(COMPAT_VENV)/bin/schemathesis).
SCHEMATHESIS_VERSION := 4.32.5
SCHEMATHESIS_STAMP   := $(COMPAT_VENV)/.schemathesis-$(SCHEMATHESIS_VERSION)

deps-schemathesis: $(SCHEMATHESIS_STAMP)

$(SCHEMATHESIS_STAMP): $(COMPAT_PY_STAMP)
	$(COMPAT_VENV)/bin/python -m pip install -q --disable-pip-version-check 'schemathesis==$(SCHEMATHESIS_VERSION)'
	$(COMPAT_VENV)/bin/schemathesis --version
	@rm -f $(COMPAT_VENV)/.schemathesis-*
	@touch $@

# deps-connect-py adds kafka-connect-py to the venv deps-python makes.
KAFKA_CONNECT_PY_VERSION := 1.0.0
KAFKA_CONNECT_PY_STAMP   := $(COMPAT_VENV)/.kafka-connect-py-$(KAFKA_CONNECT_PY_VERSION)

deps-connect-py: $(KAFKA_CONNECT_PY_STAMP)

$(KAFKA_CONNECT_PY_STAMP): $(COMPAT_PY_STAMP)
	$(COMPAT_VENV)/bin/python -m pip install -q --disable-pip-version-check 'kafka-connect-py==$(KAFKA_CONNECT_PY_VERSION)'
	$(COMPAT_VENV)/bin/python -c 'import kafka_connect, importlib.metadata as m; print("deps-connect-py: kafka-connect-py", m.version("kafka-connect-py"))'
	@rm -f $(COMPAT_VENV)/.kafka-connect-py-*
	@touch $@

# deps-npm installs test/registry/js/package.json's pinned dependencies into
# $(COMPAT_NPM) (outside the source tree, so no node_modules lands in git),
# after checking that Node is v20.
deps-npm: $(COMPAT_NPM_STAMP)

.PHONY: compat-node
compat-node:
	$(call compat_apt_install,$(COMPAT_NODE),nodejs npm)
	$(call compat_apt_install,npm,npm)
	@v=$$($(COMPAT_NODE) --version); case "$$v" in v20.*) ;; *) echo "deps-npm: Node $$v, want v20" >&2; exit 1;; esac

$(COMPAT_NPM_STAMP): $(COMPAT_NPM_PACKAGE_JSON) | compat-node
	@mkdir -p $(COMPAT_NPM)
	@[ -f $(COMPAT_CACHE)/.gitignore ] || echo '*' > $(COMPAT_CACHE)/.gitignore
	cp $(COMPAT_NPM_PACKAGE_JSON) $(COMPAT_NPM)/package.json
	cd $(COMPAT_NPM) && npm install --no-audit --no-fund --no-package-lock --loglevel=error
	cd $(COMPAT_NPM) && $(COMPAT_NODE) -e 'const sr = require("@confluentinc/schemaregistry"); console.log("deps-npm: @confluentinc/schemaregistry", require("@confluentinc/schemaregistry/package.json").version, "on Node", process.version)'
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

# deps-connect-java builds test/compat/connect's one class (a bridge letting
# the 4.3 test and file connectors run on 4.4.0) and copies it with the pom's
# runtime class path into $(CONNECT_JAVA_LIBS); the stamp is redone when the
# pom or the class changes.
CONNECT_JAVA_DIR   := test/compat/connect
CONNECT_JAVA_SRCS  := $(shell find $(CONNECT_JAVA_DIR)/src -name '*.java' 2>/dev/null)
CONNECT_JAVA_LIBS  := $(COMPAT_CACHE)/connect/libs
CONNECT_JAVA_STAMP := $(CONNECT_JAVA_LIBS)/.connect-runtime-4.4.0

deps-connect-java: $(CONNECT_JAVA_STAMP)

$(CONNECT_JAVA_STAMP): $(CONNECT_JAVA_DIR)/pom.xml $(CONNECT_JAVA_SRCS) | compat-java-tools
	@mkdir -p $(COMPAT_CACHE)
	@[ -f $(COMPAT_CACHE)/.gitignore ] || echo '*' > $(COMPAT_CACHE)/.gitignore
	rm -rf $(CONNECT_JAVA_LIBS)
	$(MVN) -q -B -Dstyle.color=never -f $(CONNECT_JAVA_DIR)/pom.xml -DskipTests package dependency:copy-dependencies \
	  -DincludeScope=runtime -DoutputDirectory=$(abspath $(CONNECT_JAVA_LIBS))
	cp $(CONNECT_JAVA_DIR)/target/samsa-compat-connect.jar $(CONNECT_JAVA_LIBS)/
	@test -f $(CONNECT_JAVA_LIBS)/connect-runtime-4.4.0.jar || { echo "deps-connect-java: connect-runtime-4.4.0.jar missing from $(CONNECT_JAVA_LIBS)" >&2; exit 1; }
	@touch $@
