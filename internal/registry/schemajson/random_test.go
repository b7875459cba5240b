package schemajson

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// gen builds small random schemas and documents over a shared vocabulary
// of names and values, so that they often meet.
type gen struct{ r *rand.Rand }

func (g gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g gen) value(depth int) any {
	switch n := g.r.IntN(9); {
	case n == 0:
		return nil
	case n == 1:
		return g.r.IntN(2) == 0
	case n == 2:
		return json.Number(g.pick("-1", "0", "1", "2", "3", "1.5", "4"))
	case n <= 4:
		return g.pick("", "a", "ab", "x", "abc")
	case n <= 6 && depth < 3:
		var a []any
		for range g.r.IntN(4) {
			a = append(a, g.value(depth+1))
		}
		return a
	case depth < 3:
		m := map[string]any{}
		for range g.r.IntN(4) {
			m[g.pick("a", "b", "c", "x1")] = g.value(depth + 1)
		}
		return m
	}
	return "a"
}

func (g gen) schema(depth int) string {
	if depth > 2 || g.r.IntN(8) == 0 {
		return g.pick(`true`, `false`, `{}`, `{"type":"string"}`, `{"type":"integer"}`, `{"type":"number"}`, `{"type":"null"}`)
	}
	var kws []string
	for range 1 + g.r.IntN(3) {
		kws = append(kws, g.keyword(depth))
	}
	seen := map[string]bool{}
	var out []string
	for _, kw := range kws {
		name := kw[:strings.Index(kw, ":")]
		if !seen[name] {
			seen[name] = true
			out = append(out, kw)
		}
	}
	return "{" + strings.Join(out, ",") + "}"
}

func (g gen) keyword(depth int) string {
	sub := func() string { return g.schema(depth + 1) }
	val := func() string { b, _ := json.Marshal(g.value(2)); return string(b) }
	switch g.r.IntN(28) {
	case 22:
		return `"$ref":"#"`
	case 23:
		return fmt.Sprintf(`"prefixItems":[%s,%s]`, sub(), sub())
	case 24:
		return `"unevaluatedProperties":` + g.pick(`false`, sub())
	case 25:
		return `"unevaluatedItems":` + g.pick(`false`, sub())
	case 26:
		return `"dependentRequired":{"a":["b"]}`
	case 27:
		return fmt.Sprintf(`"minContains":%d`, g.r.IntN(3))
	case 0:
		return `"type":` + g.pick(`"string"`, `"integer"`, `"number"`, `"object"`, `"array"`, `["string","null"]`, `["integer","string"]`, `"boolean"`)
	case 1:
		return fmt.Sprintf(`"enum":[%s,%s]`, val(), val())
	case 2:
		return `"const":` + val()
	case 3:
		return fmt.Sprintf(`"%s":%d`, g.pick("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"), g.r.IntN(3))
	case 4:
		return fmt.Sprintf(`"%s":%s`, g.pick("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"), g.pick("0", "1", "2", "1.5"))
	case 5:
		return `"multipleOf":` + g.pick("1", "2", "0.5")
	case 6, 7:
		return fmt.Sprintf(`"properties":{"a":%s,"%s":%s}`, sub(), g.pick("b", "c"), sub())
	case 8:
		return `"required":` + g.pick(`["a"]`, `["b"]`, `["a","c"]`)
	case 9:
		return `"additionalProperties":` + g.pick(`false`, `true`, sub())
	case 10:
		return fmt.Sprintf(`"patternProperties":{"%s":%s}`, g.pick("^a", "^x", "1$"), sub())
	case 11:
		if g.r.IntN(2) == 0 {
			return `"items":` + sub()
		}
		return fmt.Sprintf(`"items":[%s,%s]`, sub(), sub())
	case 12:
		return `"additionalItems":` + g.pick(`false`, sub())
	case 13:
		return `"uniqueItems":true`
	case 14, 15:
		return fmt.Sprintf(`"%s":[%s,%s]`, g.pick("anyOf", "oneOf", "allOf"), sub(), sub())
	case 16:
		return `"not":` + sub()
	case 17:
		return fmt.Sprintf(`"if":%s,"then":%s`, sub(), sub())
	case 18:
		return `"dependencies":{"a":` + g.pick(`["b"]`, sub()) + `}`
	case 19:
		return `"propertyNames":` + g.pick(`{"maxLength":1}`, `{"pattern":"^a"}`, sub())
	case 20:
		return `"contains":` + sub()
	}
	return `"pattern":` + g.pick(`"^a"`, `"b"`)
}

// TestCheckSoundRandom: random schema pairs, including writers built as
// {"allOf":[reader, extra]} (always compatible in truth), and random
// documents; whenever Check says compatible, no document is valid under
// the writer and invalid under the reader.
func TestCheckSoundRandom(t *testing.T) {
	seed := uint64(1)
	if s := os.Getenv("SCHEMAJSON_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	g := gen{rand.New(rand.NewPCG(seed, 2))}
	h := New()
	n := 1500
	if testing.Short() {
		n = 300
	}
	var docs [][]byte
	for range 60 {
		b, _ := json.Marshal(g.value(0))
		docs = append(docs, b)
	}
	compat, narrowed, narrowedCompat := 0, 0, 0
	for i := range n {
		rt := g.schema(0)
		wt := g.schema(0)
		if i%3 == 0 && strings.HasPrefix(rt, "{") && strings.HasPrefix(wt, "{") && len(rt) > 2 && len(wt) > 2 {
			rt = `{"$schema":"https://json-schema.org/draft/2020-12/schema",` + rt[1:]
			wt = `{"$schema":"https://json-schema.org/draft/2020-12/schema",` + wt[1:]
		}
		if i%2 == 0 {
			wt = `{"allOf":[` + rt + `,` + wt + `]}`
			narrowed++
		}
		r, err := h.Parse(rt, nil)
		if err != nil {
			continue
		}
		w, err := h.Parse(wt, nil)
		if err != nil {
			continue
		}
		if len(h.Check(r, w)) != 0 {
			continue
		}
		compat++
		if i%2 == 0 {
			narrowedCompat++
		}
		for _, d := range docs {
			if w.Validate(d, nil) == nil && r.Validate(d, nil) != nil {
				t.Errorf("Check(reader %s, writer %s) is compatible, but %s is valid under the writer only", rt, wt, d)
			}
		}
	}
	t.Logf("%d pairs, %d compatible; %d of %d narrowed writers found compatible", n, compat, narrowedCompat, narrowed)
}
