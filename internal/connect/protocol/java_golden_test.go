package protocol

import (
	"encoding/hex"
	"testing"
)

// javaGolden are the bytes Apache Kafka Connect 4.4.0's
// ConnectProtocol / IncrementalCooperativeConnectProtocol serializers
// produced for the values below (captured once from the connect-runtime
// 4.4.0 jar; see the report of the commit that added them).
var javaGolden = []struct {
	name string
	got  func() []byte
	hex  string
}{
	{"metadata v0", func() []byte { return EncodeMetadata(0, Metadata{URL: "http://w1:8083/", ConfigOffset: 42}) },
		"0000000f687474703a2f2f77313a383038332f000000000000002a"},
	{"metadata v1 empty", func() []byte { return EncodeMetadata(1, Metadata{URL: "u", ConfigOffset: -1}) },
		"0001000175ffffffffffffffffffffffff"},
	{"metadata v2 empty", func() []byte { return EncodeMetadata(2, Metadata{URL: "u", ConfigOffset: -1}) },
		"0002000175ffffffffffffffffffffffff"},
	{"assignment v1", func() []byte { return EncodeAssignment(1, javaAssignment) },
		"0001000000086c65616465722d31000e687474703a2f2f6c3a383038332f00000000000000070000000200016100000002ffffffff0000000000016200000001000000010000000100016300000001000000020000012c"},
	{"assignment v2", func() []byte { return EncodeAssignment(2, javaAssignment) },
		"0002000000086c65616465722d31000e687474703a2f2f6c3a383038332f00000000000000070000000200016100000002ffffffff0000000000016200000001000000010000000100016300000001000000020000012c"},
	{"metadata v1 owned", func() []byte { return EncodeMetadata(1, Metadata{URL: "u", ConfigOffset: 3, Owned: &javaAssignment}) },
		"00010001750000000000000003000000570001000000086c65616465722d31000e687474703a2f2f6c3a383038332f00000000000000070000000200016100000002ffffffff0000000000016200000001000000010000000100016300000001000000020000012c"},
	{"assignment v0", func() []byte {
		return EncodeAssignment(0, Assignment{Error: 1, Leader: "L", LeaderURL: "U", ConfigOffset: 9,
			Connectors: []string{"x"}, Tasks: []TaskID{{"x", 0}, {"x", 1}}})
	}, "0000000100014c00015500000000000000090000000100017800000003ffffffff0000000000000001"},
}

var javaAssignment = Assignment{Leader: "leader-1", LeaderURL: "http://l:8083/", ConfigOffset: 7,
	Connectors: []string{"a"}, Tasks: []TaskID{{"a", 0}, {"b", 1}}, RevokedTasks: []TaskID{{"c", 2}}, Delay: 300}

func TestJavaGoldenBytes(t *testing.T) {
	for _, g := range javaGolden {
		if got := hex.EncodeToString(g.got()); got != g.hex {
			t.Errorf("%s:\n got %s\njava %s", g.name, got, g.hex)
		}
		b, _ := hex.DecodeString(g.hex)
		var err error
		if len(g.name) > 8 && g.name[:8] == "metadata" {
			_, _, err = DecodeMetadata(b)
		} else {
			_, _, err = DecodeAssignment(b)
		}
		if err != nil {
			t.Errorf("%s: decoding Java's bytes: %v", g.name, err)
		}
	}
}
