package schemaavro

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os/exec"
)

//go:embed testdata/avro_pairs.py
var pairsScript []byte

// Pair is one reader/writer case of Apache Avro's compatibility tests.
type Pair struct {
	Test       string   `json:"test"`       // the Python test method
	Reader     string   `json:"reader"`     // the reader schema's JSON
	Writer     string   `json:"writer"`     // the writer schema's JSON
	Compatible bool     `json:"compatible"` // the verdict the test asserts
	Locations  []string `json:"locations"`  // locations the test asserts, if any
}

// LoadApachePairs is a test aid: it runs testdata/avro_pairs.py with
// python (which must have the avro package, e.g. avro==1.12.2, installed)
// and returns every reader/writer pair of Apache Avro's
// avro.test.test_compatibility with the verdict the test expects. Tests of
// this package and of the registry's HTTP API replay them.
func LoadApachePairs(python string) ([]Pair, error) {
	cmd := exec.Command(python, "-")
	cmd.Stdin = bytes.NewReader(pairsScript)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("run %s testdata/avro_pairs.py: %w: %s", python, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var pairs []Pair
	if err := json.Unmarshal(stdout.Bytes(), &pairs); err != nil {
		return nil, fmt.Errorf("read the pairs avro_pairs.py printed: %w", err)
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("avro_pairs.py printed no pairs")
	}
	return pairs, nil
}
