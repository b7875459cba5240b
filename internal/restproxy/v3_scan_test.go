package restproxy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// scanSeeds are records of the scanner's shape and just outside it.
var scanSeeds = []string{
	`{"value":{"type":"BINARY","data":"AAEC/w=="}}`,
	`{"partition_id":1,"headers":[{"name":"h1","value":"aHY="},{"name":"h2","value":null}],"key":{"type":"BINARY","data":"azE="},"value":{"type":"BINARY","data":"AAEC/w=="}}`,
	`{"partition_id":2,"key":{"type":"STRING","data":"k2"},"value":{"type":"JSON","data":{"a": [1, 2.5e-3, -0, true, false, null, "x\"y\u00e9"], "b": null}}}`,
	`{"value":{"data":"plain"},"timestamp":"2024-01-02T03:04:05.006Z"}`,
	`{"partition_id":0,"key":{"type":"STRING","data":"k4"}}`,
	` { "key" : null , "value" : { "type" : "STRING" , "data" : "h\u00e9llo wörld" } } `,
	`{"value":{"type":"AVRO","schema_id":3,"schema_version":-1,"subject":"s","subject_name_strategy":"TOPIC_NAME","schema":"{}","data":{"f":1}}}`,
	`{"headers":[],"value":{"data":[]},"timestamp":null,"partition_id":null}`,
	`{}`, `{"value":{}}`, `{"value":{"data":1}}`,
	`{"Value":{"data":1}}`, `{"value":{"data":1},"value":{"data":2}}`, `{"partition_id":1.0}`,
	`{"partition_id":"x"}`, `{"partition_id":99999999999}`, `{"value":{"data":01}}`,
	`{"value":{"type":"BINARY","data":"not base64!"}}`, `{"value":{"data":"a` + "\x01" + `"}}`,
	`{"value":{"data":"\xff\xfe"}}`, `{"timestamp":"2024-13-02T03:04:05Z"}`, `{"id":"a"}`,
	`{"headers":[{"name":"h","value":"%%%"}]}`, `{"headers":[null]}`, `{"value":{"data":{"a":1,}}}`,
	`{"value":{"data":"` + strings.Repeat("x", 100) + `"}}`, `{"value": oops`, `null`, `[1,2]`,
	`{"value":{"data":"AAEC/w==","type":"BINARY"}}`, `{"value":{"type":"BINARY","data":"AA` + "\n" + `EC"}}`,
	`{"value":{"type":"BINARY","data":"AA\nEC"}}`, `{"value":{"type":"BINARY","data":"AA` + "\x01" + `EC"}}`,
	`{"value":{"type":"BINARY","data":"AAé"}}`, `{"value":{"type":"STRING","data":"a` + "\t" + `b"}}`,
	`{"value":{"data":{"s":"a\"b\\\u0041` + "\x7f\xff" + `"}}}`, `{"value":{"data":{"s":"a` + "\x1f" + `b"}}}`,
	`{"value":{"data":{"s":"abcdefgh` + "\n" + `ijklmnop"}}}`, `{"value":{"data":{"s":"a\qb"}}}`,
}

// TestScanRecordMatchesEncodingJSON: whatever the scanner decodes, it
// decodes as encoding/json does; a complete record never needs more bytes.
func TestScanRecordMatchesEncodingJSON(t *testing.T) {
	decoded := 0
	for _, s := range scanSeeds {
		if checkScan(t, []byte(s)) {
			decoded++
		}
		for i := range len(s) { // every prefix needs more or falls back
			var rec v3Record
			var kd, vd v3Data
			if n, err := scanRecord([]byte(s[:i]), &rec, &kd, &vd, nil); err == nil && !json.Valid([]byte(s[:n])) {
				t.Fatalf("%q: prefix %q decoded", s, s[:i])
			}
		}
	}
	if decoded < 9 {
		t.Fatalf("the scanner decoded %d of the seeds", decoded)
	}
}

// FuzzScanRecord: the scanner agrees with encoding/json on any input.
func FuzzScanRecord(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkScan(t, b) })
}

// checkScan scans b and, if the scanner takes it, compares with
// encoding/json; it says whether the scanner took it.
func checkScan(t *testing.T, b []byte) bool {
	t.Helper()
	var rec v3Record
	var kd, vd v3Data
	n, err := scanRecord(b, &rec, &kd, &vd, &valuePool{})
	if err != nil {
		if err == errScanMore && json.Valid(b) && bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
			t.Fatalf("%q: complete, yet more bytes wanted", b)
		}
		return false
	}
	var want *v3Record
	if err := json.Unmarshal(b[:n], &want); err != nil || want == nil {
		t.Fatalf("%q: scanned, but encoding/json: %v", b[:n], err)
	}
	for _, d := range []*v3Data{rec.Key, rec.Value} {
		if d == nil {
			continue
		}
		if d.decoded != nil && d.Type == "JSON" {
			if !bytes.Equal(d.decoded, d.Data) {
				t.Fatalf("%q: JSON data copied as %q", b, d.decoded)
			}
		} else if d.text != nil || d.decoded != nil {
			var s string
			if json.Unmarshal(d.Data, &s) != nil || d.text != nil && s != string(d.text) {
				t.Fatalf("%q: text %q, encoding/json %q", b, d.text, s)
			}
			if want, err := base64.StdEncoding.DecodeString(s); d.decoded != nil && (err != nil || !bytes.Equal(want, d.decoded)) {
				t.Fatalf("%q: decoded %q, want %q (%v)", b, d.decoded, want, err)
			}
		}
		if d.unchecked {
			t.Fatalf("%q: data left unchecked", b)
		}
		if d.compact && !bytes.Equal(v3Compact(d.Data), d.Data) {
			t.Fatalf("%q: data %q marked compact", b, d.Data)
		}
		d.text, d.aliased, d.decoded, d.compact = nil, false, nil, false
	}
	if !reflect.DeepEqual(&rec, want) {
		t.Fatalf("%q:\nscanned %+v\nwant    %+v", b, rec, *want)
	}
	return true
}

// TestAppendReport: reports are written as encoding/json writes them.
func TestAppendReport(t *testing.T) {
	id := int32(7)
	pt := produceTarget{cid: "Ab-_1<&>", topic: "t.1"}
	rec := &kgo.Record{Partition: 3, Offset: 1234567, Timestamp: time.UnixMilli(1700000000123)}
	var tc timeCache
	infos := []*dataInfo{nil, {Type: "BINARY", Size: 12},
		{Type: "AVRO", Size: 5, Subject: "s\u2028\"x\"", SchemaID: &id, SchemaVersion: 2}}
	for i, k := range infos {
		for _, v := range infos {
			rec.Timestamp = rec.Timestamp.Add(time.Duration(i) * 700 * time.Microsecond)
			p := &pendingReport{kr: *rec, kinfo: k, vinfo: v}
			var want bytes.Buffer
			json.NewEncoder(&want).Encode(v3Report(pt, rec, k, v))
			if got := appendReport(nil, pt, p, &tc); string(got) != want.String() {
				t.Fatalf("report\n%s\nwant\n%s", got, want.String())
			}
		}
	}
	p := &pendingReport{err: apiErr(400, 400, "bad <record>")}
	var want bytes.Buffer
	json.NewEncoder(&want).Encode(errReport(p.err))
	if got := appendReport(nil, pt, p, &tc); string(got) != want.String() {
		t.Fatalf("report\n%s\nwant\n%s", got, want.String())
	}
}

// TestDecodeBase64: the fast decoder answers as encoding/base64, bytes
// and errors.
func TestDecodeBase64(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	inputs := []string{"", "QQ==", "QUI=", "QUJD", "QUJDRA==", "QUJD=A==", "QU!DRA==", "QUJDRA=", "QUJDRA==QUJD", "QUJDRE\nV"}
	for n := 0; n < 200; n++ {
		src := make([]byte, n)
		rng.Read(src)
		enc := []byte(base64.StdEncoding.EncodeToString(src))
		inputs = append(inputs, string(enc))
		if n > 3 {
			bad := bytes.Clone(enc)
			bad[rng.Intn(len(bad))] = "!=-_\x00é"[rng.Intn(6)]
			inputs = append(inputs, string(bad))
		}
	}
	for _, in := range inputs {
		want := make([]byte, base64.StdEncoding.DecodedLen(len(in)))
		wn, werr := base64.StdEncoding.Decode(want, []byte(in))
		got := make([]byte, len(want))
		gn, gerr := decodeBase64(got, []byte(in))
		if fmt.Sprint(werr) != fmt.Sprint(gerr) || (werr == nil && (gn != wn || !bytes.Equal(got[:gn], want[:wn]))) {
			t.Fatalf("%q: %d %v %x, want %d %v %x", in, gn, gerr, got[:gn], wn, werr, want[:wn])
		}
	}
}

// FuzzDecodeBase64: the fast decoder answers as encoding/base64, bytes
// and errors, and writes nothing past DecodedLen.
func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"", "QQ==", "QUJD=A==", "QUJDRE\nV", strings.Repeat("QUJD", 40), strings.Repeat("QUJD", 20) + "Q!==" + strings.Repeat("QUJD", 20)} {
		f.Add([]byte(s))
	}
	rng := rand.New(rand.NewSource(2))
	for n := 40; n < 1100; n += 97 {
		src := make([]byte, n)
		rng.Read(src)
		enc := []byte(base64.StdEncoding.EncodeToString(src))
		f.Add(enc)
		bad := bytes.Clone(enc)
		bad[rng.Intn(len(bad))] = "!=-_\x00\n\r"[rng.Intn(7)]
		f.Add(bad)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		n := base64.StdEncoding.DecodedLen(len(in))
		want := make([]byte, n)
		wn, werr := base64.StdEncoding.Decode(want, in)
		got := make([]byte, n+64)
		for i := range got {
			got[i] = 0xa5
		}
		gn, gerr := decodeBase64(got[:n:n], in)
		if fmt.Sprint(werr) != fmt.Sprint(gerr) || (werr == nil && (gn != wn || !bytes.Equal(got[:gn], want[:wn]))) {
			t.Fatalf("%q: %d %v %x, want %d %v %x", in, gn, gerr, got[:gn], wn, werr, want[:wn])
		}
		for i := n; i < len(got); i++ {
			if got[i] != 0xa5 {
				t.Fatalf("%q: wrote past DecodedLen at %d", in, i)
			}
		}
	})
}
