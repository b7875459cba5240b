package eos_test

import (
	"testing"
	"time"
)

// TestZombieFencing: a second Java producer with the same transactional.id
// fences the first, whose commit fails with ProducerFencedException (as in
// Kafka's TransactionsTest.testFencingOnCommit); the first one's open
// transaction is aborted and the second one's commit is visible.
func TestZombieFencing(t *testing.T) {
	node := startNode(t, "")
	java, jar := javaDriver(t)
	const topic = "fence"
	createTopic(t, node, topic, 1)
	type line struct {
		CommitError []string `json:"commit_error"`
		BCommitted  bool     `json:"b_committed"`
	}
	lines := runLines[line](t, 2*time.Minute, java, "-jar", jar, "fence", node.Addr, topic, "zombie")
	if len(lines) != 2 || !lines[1].BCommitted {
		t.Fatalf("driver output: %+v", lines)
	}
	const fenced = "org.apache.kafka.common.errors.ProducerFencedException"
	if len(lines[0].CommitError) == 0 || lines[0].CommitError[0] != fenced {
		t.Errorf("the zombie producer's commit: error %v, want %s", lines[0].CommitError, fenced)
	}
	recs := consumeAll(t, node, topic, true, 1)
	if len(recs) != 1 || recs[0].Value != "fenced-b" {
		t.Errorf("read_committed: %+v, want only the second producer's record", recs)
	}
}
