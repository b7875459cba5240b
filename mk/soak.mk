# Hostile-client soak (test/soak, issue #11). `make test` runs it once in its
# short form (20 s); `make soak` runs it for SOAK_DURATION against one
# loopback broker: garbage and half frames, slow readers, huge requests,
# connection floods, producer-id churn and internal-topic writes beside an
# acks=all producer and a group consumer.
SOAK_DURATION ?= 10m

.PHONY: soak

soak:
	SAMSA_SOAK_DURATION=$(SOAK_DURATION) $(GO) test -count=1 -v -timeout 30m -run 'TestHostileSoak$$' ./test/soak/
