package connect

import (
	"math/big"
	"net/http"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// convStartRegistry starts `samsa serve` with its schema registry on a
// free loopback port and returns the registry's URL once it answers.
func convStartRegistry(t *testing.T, args ...string) string {
	t.Helper()
	return convStartRegistryWith(t, clustertest.Options{Args: args})
}

// convStartRegistryWith is convStartRegistry with more node options; it
// waits for the registry to answer (200, or 401 when it authenticates).
func convStartRegistryWith(t *testing.T, opts clustertest.Options) string {
	t.Helper()
	opts.Args = append([]string{"--admin-listen", "none", "--rest-listen", "none", "--registry-listen", "127.0.0.1:0"}, opts.Args...)
	n := clustertest.Start(t, opts)
	re := regexp.MustCompile(`schema registry listening.*addr=([0-9.]+:[0-9]+)`)
	var url string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline) && url == ""; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(n.LogPath)
		if m := re.FindSubmatch(b); m != nil {
			url = "http://" + string(m[1])
		}
	}
	if url == "" {
		t.Fatalf("no schema registry address in %s", n.LogPath)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url + "/subjects")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 || resp.StatusCode == 401 {
				return url
			}
		}
	}
	t.Fatalf("registry at %s never became ready", url)
	return ""
}

// convSRClient is franz-go's registry client for url.
func convSRClient(t *testing.T, url string) *sr.Client {
	t.Helper()
	cl, err := sr.NewClient(sr.URLs(url), sr.HTTPClient(&http.Client{Timeout: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func convI32(v int32) *int32 { return &v }

// convAllTypes is a struct schema with a field of every Connect type,
// optional fields, a default, a nested struct, an array, string- and
// int-keyed maps and the four logical types, with a value.
func convAllTypes() (*connect.Schema, *connect.Struct) {
	inner := &connect.Schema{Type: connect.StructT, Name: "com.example.Inner", Fields: []connect.Field{
		{Name: "x", Index: 0, Schema: connect.SchemaInt32},
	}}
	s := &connect.Schema{Type: connect.StructT, Name: "com.example.Everything", Version: convI32(1), Doc: "all types"}
	add := func(name string, fs *connect.Schema) {
		s.Fields = append(s.Fields, connect.Field{Name: name, Index: len(s.Fields), Schema: fs})
	}
	add("i8", connect.SchemaInt8)
	add("i16", connect.SchemaInt16)
	add("i32", connect.SchemaInt32)
	add("i64", connect.SchemaInt64)
	add("f32", connect.SchemaFloat32)
	add("f64", connect.SchemaFloat64)
	add("b", connect.SchemaBoolean)
	add("s", connect.SchemaString)
	add("raw", connect.SchemaBytes)
	add("opt", connect.OptionalString)
	add("optset", connect.OptionalInt64)
	add("withdefault", &connect.Schema{Type: connect.Int32, Default: int32(7)})
	add("inner", inner)
	add("arr", &connect.Schema{Type: connect.Array, Value: connect.SchemaString})
	add("smap", &connect.Schema{Type: connect.Map, Key: connect.SchemaString, Value: connect.SchemaInt64})
	add("imap", &connect.Schema{Type: connect.Map, Key: connect.SchemaInt32, Value: connect.SchemaString})
	add("dec", &connect.Schema{Type: connect.Bytes, Name: connect.DecimalName, Version: convI32(1), Parameters: map[string]string{"scale": "2"}})
	add("date", &connect.Schema{Type: connect.Int32, Name: connect.DateName, Version: convI32(1)})
	add("time", &connect.Schema{Type: connect.Int32, Name: connect.TimeName, Version: convI32(1)})
	add("ts", &connect.Schema{Type: connect.Int64, Name: connect.TimestampName, Version: convI32(1)})
	st := connect.NewStruct(s)
	in := connect.NewStruct(inner)
	in.Values[0] = int32(5)
	vals := map[string]any{
		"i8": int8(-8), "i16": int16(1600), "i32": int32(-320000), "i64": int64(1) << 40, "f32": float32(1.5), "f64": 2.25,
		"b": true, "s": "héllo", "raw": []byte{0, 1, 2, 255}, "optset": int64(9), "withdefault": int32(3), "inner": in,
		"arr": []any{"a", "b"}, "smap": map[string]any{"k": int64(1)}, "imap": map[any]any{int32(1): "one", int32(2): "two"},
		"dec":  connect.Decimal{Unscaled: big.NewInt(-12345), Scale: 2},
		"date": time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), "time": time.UnixMilli(3723004).UTC(), "ts": time.UnixMilli(1700000000123).UTC(),
	}
	for k, v := range vals {
		if err := st.Put(k, v); err != nil {
			panic(err)
		}
	}
	return s, st
}
