package compat

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// javaCommand returns the java binary and the driver jar built by
// make deps-java (SAMSA_COMPAT_JAR overrides the jar).
func javaCommand(t testing.TB) (java, jar string) {
	t.Helper()
	clustertest.SkipInShort(t, "runs the Java driver")
	java, err := exec.LookPath("java")
	requireTool(t, "java", err, "make deps-java")
	jar = os.Getenv("SAMSA_COMPAT_JAR")
	if jar == "" {
		jar = filepath.Join(moduleRoot(t), "test", "compat", "java", "target", "samsa-compat.jar")
	}
	_, err = os.Stat(jar)
	requireTool(t, "Java kafka-clients driver", err, "make deps-java")
	return java, jar
}

// TestJavaClients round-trips through Apache kafka-clients 4.x with the
// producer's defaults (idempotent, acks=all, built-in murmur2 partitioner)
// and every codec, then consumes as a classic-protocol group.
func TestJavaClients(t *testing.T) {
	t.Parallel()
	java, jar := javaCommand(t)
	node := startBroker(t)
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			topic := "compat-java-" + codec
			createTopic(t, node, topic)
			want := genRecords("java", codec, numRecords)
			input := writeTSV(t, want)
			acks := runJSONLines[produced](t, nil, java, "-jar", jar, "produce", node.Addr, topic, codec, input)
			checkProduced(t, want, acks)
			got := runJSONLines[consumed](t, nil, java, "-jar", jar, "consume", node.Addr, topic, fmt.Sprint(len(want)))
			checkConsumed(t, "java", want, got, acks, checkOpts{})
			checkConsumed(t, "franz-go reading java", want, consumeKgo(t, node, topic, len(want), ""), acks, checkOpts{})
		})
	}
	t.Run("group", func(t *testing.T) {
		node.RequireGroups(t)
		topic, group := "compat-java-group", "compat-java-group"
		want := seedTopic(t, node, topic)
		got := runJSONLines[consumed](t, nil, java, "-jar", jar, "consume", node.Addr, topic, fmt.Sprint(len(want)), group)
		checkConsumed(t, "java group", want, got, nil, checkOpts{})
		checkCommitted(t, node, group, topic)
	})
}
