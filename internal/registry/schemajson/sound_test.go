package schemajson

import (
	"testing"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
)

// soundDocs are documents of every shape the table's schemas talk about.
var soundDocs = []string{
	`null`, `true`, `false`, `0`, `1`, `2`, `3`, `4`, `5`, `6`, `10`, `50`, `-1`, `1.5`, `100`, `101`,
	`""`, `"a"`, `"b"`, `"c"`, `"x"`, `"ab"`, `"abcdef"`, `"abcdefghijklmnopqrstu"`, `"a@b.c"`,
	`[]`, `[1]`, `["a"]`, `["a",1]`, `["a","b"]`, `[1,1]`, `[1.5]`, `["a",1,2]`, `[1,2,3,4,5,6,7,8,9,10,11]`, `[null]`, `[true,false]`,
	`{}`, `{"a":1}`, `{"a":"x"}`, `{"a":null}`, `{"b":1}`, `{"b":"x"}`, `{"a":"x","b":"y"}`, `{"a":1,"b":2,"c":3}`,
	`{"age":3}`, `{"a":1.5}`, `{"x_1":"s"}`, `{"x_1":1}`, `{"q0":1}`, `{"kind":"a","x":1}`, `{"kind":"b","y":"s"}`, `{"kind":"c"}`,
	`{"kind":"a","x":-1}`, `{"v":"s","next":{"v":1}}`, `{"v":1,"next":{"v":2}}`, `{"home":{"zip":"123456"}}`, `{"home":{"zip":1}}`,
	`{"a/b~c":"s"}`, `{"a/b~c":1}`, `{"abcd":1}`, `{"x":"s"}`, `{"x":1}`,
}

// TestCheckSound: for every ordered pair of the table's schemas that Check
// calls compatible, every document valid under the writer is valid under
// the reader.
func TestCheckSound(t *testing.T) {
	type parsed struct {
		text string
		s    schema.Schema
	}
	var all []parsed
	seen := map[string]bool{}
	h := New()
	for _, c := range append(append([]compatCase{}, compatible...), incompatible...) {
		for _, x := range []struct {
			text string
			deps []schema.Dep
		}{{c.reader, c.rdeps}, {c.writer, c.wdeps}} {
			if seen[x.text] || x.deps != nil {
				continue
			}
			seen[x.text] = true
			all = append(all, parsed{x.text, mustParse(t, x.text)})
		}
	}
	valid := make([][]bool, len(all))
	for i, p := range all {
		valid[i] = make([]bool, len(soundDocs))
		for j, d := range soundDocs {
			valid[i][j] = p.s.Validate([]byte(d), nil) == nil
		}
	}
	pairs, compat := 0, 0
	for ri, r := range all {
		for wi, w := range all {
			pairs++
			if len(h.Check(r.s, w.s)) != 0 {
				continue
			}
			compat++
			for j, d := range soundDocs {
				if valid[wi][j] && !valid[ri][j] {
					t.Errorf("Check(reader %s, writer %s) is compatible, but %s is valid under the writer only", r.text, w.text, d)
				}
			}
		}
	}
	t.Logf("%d schemas, %d pairs, %d compatible", len(all), pairs, compat)
}

// One Handler and one parsed Schema are used from many goroutines (run
// with -race).
func TestConcurrentUse(t *testing.T) {
	h := New()
	r := mustParse(t, tagged)
	w := mustParse(t, `{"type":"object","properties":{"kind":{"const":"a"},"x":{"type":"integer"}},"required":["kind"]}`)
	done := make(chan struct{})
	for range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 50 {
				if got := h.Check(r, w); len(got) != 0 {
					t.Errorf("Check: %v", got)
					return
				}
				if err := r.Validate([]byte(`{"kind":"b","y":"s"}`), nil); err != nil {
					t.Errorf("Validate: %v", err)
					return
				}
				if _, err := h.Parse(tagged, nil); err != nil {
					t.Errorf("Parse: %v", err)
					return
				}
				_ = r.Normalized()
			}
		}()
	}
	for range 8 {
		<-done
	}
}
