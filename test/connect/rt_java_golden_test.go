package connect

import (
	"encoding/json"
	"os"
	"testing"
)

// TestRTJavaGolden sends the REST sequence recorded against Java Connect
// 4.4.0 (java_rest_test.go, testdata/java_rest_golden.json: 79 requests
// over every endpoint, errors included) to Samsa's worker and compares
// status codes, error_code, key sets and body checks step by step.
func TestRTJavaGolden(t *testing.T) {
	n := rtStartNode(t)
	b, err := os.ReadFile("testdata/java_rest_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var java []restRecord
	if err := json.Unmarshal(b, &java); err != nil {
		t.Fatal(err)
	}
	samsa := restRecordSeq(t, n.URL)
	if len(samsa) != len(java) {
		t.Fatalf("%d answers recorded, the golden file has %d", len(samsa), len(java))
	}
	for i := range java {
		if d := java[i].diff(samsa[i]); d != "" {
			t.Errorf("step %d %q (%s %s): java vs samsa: %s", i, java[i].Name, java[i].Method, java[i].Path, d)
		}
	}
}
