package registry

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// Node runs test/registry/js/decode.js with the modules `make deps-npm`
// installed from test/registry/js/package.json into .cache/npm
// (SAMSA_REGISTRY_NODE_MODULES overrides the node_modules directory).

// nodeRunner is Node 20 with @confluentinc/schemaregistry on its path.
type nodeRunner struct {
	bin, modules, script string
}

// clientsNode finds Node v20 and the npm modules, checking that
// @confluentinc/schemaregistry 1.10.1 loads.
func clientsNode(t testing.TB) nodeRunner {
	t.Helper()
	clustertest.SkipInShort(t, "runs the Node Schema Registry driver")
	root := clientsRoot(t)
	r := nodeRunner{
		modules: os.Getenv("SAMSA_REGISTRY_NODE_MODULES"),
		script:  filepath.Join(root, "test", "registry", "js", "decode.js"),
	}
	if r.modules == "" {
		r.modules = filepath.Join(root, ".cache", "npm", "node_modules")
	}
	bin, err := exec.LookPath("node")
	if err == nil {
		r.bin = bin
		var out []byte
		cmd := exec.Command(bin, "-e", `const v = require("@confluentinc/schemaregistry/package.json").version;
if (!process.version.startsWith("v20.")) throw new Error("Node " + process.version + ", want v20");
if (v !== "1.10.1") throw new Error("@confluentinc/schemaregistry " + v + ", want 1.10.1");
require("@confluentinc/schemaregistry");`)
		cmd.Env = append(os.Environ(), "NODE_PATH="+r.modules)
		out, err = cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, out)
		}
	}
	requireClientDep(t, "Node 20 with npm @confluentinc/schemaregistry 1.10.1", err, "make deps-npm")
	return r
}

// decode hands raw record values of topic to decode.js, which decodes them
// with the package's AvroDeserializer, ProtobufDeserializer or
// JsonDeserializer, and returns them as readings.
func (r nodeRunner) decode(t testing.TB, url, topic, format string, vals [][]byte) []reading {
	t.Helper()
	var in strings.Builder
	for _, v := range vals {
		b, _ := json.Marshal(map[string]string{"topic": topic, "format": format, "value": base64.StdEncoding.EncodeToString(v)})
		in.Write(b)
		in.WriteByte('\n')
	}
	out := runDriver(t, []byte(in.String()), []string{"NODE_PATH=" + r.modules}, r.bin, r.script, url)
	lines := jsonLines[struct{ Value map[string]any }](t, out)
	var got []reading
	for i, l := range lines {
		rd, err := nodeReading(l.Value)
		if err != nil {
			t.Errorf("decode.js record %d: %v in %v", i, err, l.Value)
		}
		got = append(got, rd)
	}
	return got
}

// nodeReading converts what the deserializers return to a reading: a long
// or int64 comes as a number (avsc) or a decimal string (a BigInt that
// decode.js printed), a Protobuf enum as its number.
func nodeReading(v map[string]any) (reading, error) {
	var r reading
	var ok bool
	if r.Name, ok = v["name"].(string); !ok {
		return r, fmt.Errorf("name %v", v["name"])
	}
	switch id := v["id"].(type) {
	case float64:
		r.ID = int64(id)
	case string:
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return r, err
		}
		r.ID = n
	default:
		return r, fmt.Errorf("id %v (%T)", id, id)
	}
	if r.Score, ok = v["score"].(float64); !ok {
		return r, fmt.Errorf("score %v", v["score"])
	}
	if r.OK, ok = v["ok"].(bool); !ok {
		return r, fmt.Errorf("ok %v", v["ok"])
	}
	tags, _ := v["tags"].([]any)
	for _, tag := range tags {
		s, _ := tag.(string)
		r.Tags = append(r.Tags, s)
	}
	o, _ := v["origin"].(map[string]any)
	r.Origin.Lang, _ = o["lang"].(string)
	switch k := v["kind"].(type) {
	case string:
		r.Kind = k
	case float64:
		if int(k) < 0 || int(k) >= len(readingKinds) {
			return r, fmt.Errorf("kind %v", k)
		}
		r.Kind = readingKinds[int(k)]
	case nil:
		r.Kind = readingKinds[0] // proto3 leaves the zero enum out
	default:
		return r, fmt.Errorf("kind %v (%T)", k, k)
	}
	return r, nil
}
