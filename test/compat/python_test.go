package compat

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// pythonCommand returns the interpreter of the venv made by make deps-python
// (SAMSA_COMPAT_PYTHON overrides it) and the driver script, after checking
// that confluent_kafka imports.
func pythonCommand(t testing.TB) (python, script string) {
	t.Helper()
	clustertest.SkipInShort(t, "runs the Python driver")
	root := moduleRoot(t)
	python = os.Getenv("SAMSA_COMPAT_PYTHON")
	if python == "" {
		python = filepath.Join(root, ".cache", "venv", "bin", "python")
	}
	var err error
	if _, err = os.Stat(python); err == nil {
		var out []byte
		out, err = exec.Command(python, "-c", "import confluent_kafka").CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, out)
		}
	}
	requireTool(t, "Python confluent-kafka", err, "make deps-python")
	return python, filepath.Join(root, "test", "compat", "python", "roundtrip.py")
}

// TestPythonConfluentKafka round-trips through Python confluent-kafka
// (librdkafka; idempotent, acks=all, murmur2 partitioner) with every codec,
// then consumes as a group.
func TestPythonConfluentKafka(t *testing.T) {
	t.Parallel()
	python, script := pythonCommand(t)
	node := startBroker(t)
	for _, codec := range codecs {
		t.Run(codec, func(t *testing.T) {
			topic := "compat-python-" + codec
			createTopic(t, node, topic)
			want := genRecords("python", codec, numRecords)
			input := writeTSV(t, want)
			acks := runJSONLines[produced](t, nil, python, script, "produce", node.Addr, topic, codec, input)
			checkProduced(t, want, acks)
			got := runJSONLines[consumed](t, nil, python, script, "consume", node.Addr, topic, fmt.Sprint(len(want)))
			checkConsumed(t, "python", want, got, acks, checkOpts{})
			checkConsumed(t, "franz-go reading python", want, consumeKgo(t, node, topic, len(want), ""), acks, checkOpts{})
		})
	}
	t.Run("group", func(t *testing.T) {
		node.RequireGroups(t)
		topic, group := "compat-python-group", "compat-python-group"
		want := seedTopic(t, node, topic)
		got := runJSONLines[consumed](t, nil, python, script, "consume", node.Addr, topic, fmt.Sprint(len(want)), group)
		checkConsumed(t, "python group", want, got, nil, checkOpts{})
		checkCommitted(t, node, group, topic)
	})
}
