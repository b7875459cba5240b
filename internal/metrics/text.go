package metrics

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// Family is a metric family a Bulk collector writes: its Desc for the
// client_golang path, and what the text path needs (name, type, label
// names, the # HELP and # TYPE lines rendered once).
type Family struct {
	Desc   *prometheus.Desc
	name   string
	typ    prometheus.ValueType
	labels []string // as given: the order of Sample's values
	order  []int    // indices into labels in name order, as expfmt writes them
	head   []byte   // "# HELP …\n# TYPE …\n"
}

// NewFamily describes a family of gauge, counter or untyped samples with
// the given label names.
func NewFamily(name, help string, typ prometheus.ValueType, labels ...string) *Family {
	f := &Family{
		Desc: prometheus.NewDesc(name, help, labels, nil),
		name: name, typ: typ, labels: labels,
		order: make([]int, len(labels)),
	}
	for i := range f.order {
		f.order[i] = i
	}
	slices.SortFunc(f.order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	typeName := map[prometheus.ValueType]string{
		prometheus.GaugeValue: "gauge", prometheus.CounterValue: "counter", prometheus.UntypedValue: "untyped",
	}[typ]
	if typeName == "" {
		panic("metrics.NewFamily: " + name + ": only gauges, counters and untyped samples")
	}
	h := append([]byte("# HELP "), name...)
	h = append(h, ' ')
	h = appendEscaped(h, help, false)
	h = append(h, "\n# TYPE "...)
	h = append(h, name...)
	f.head = append(append(append(h, ' '), typeName...), '\n')
	return f
}

// Name is the family's name.
func (f *Family) Name() string { return f.name }

// Type is the family's sample type.
func (f *Family) Type() prometheus.ValueType { return f.typ }

// Label is the name of the i-th label (Sample's order).
func (f *Family) Label(i int) string { return f.labels[i] }

// NameOrder is the label indices in label-name order, as client_golang
// wants a sample's label pairs. Not to be modified.
func (f *Family) NameOrder() []int { return f.order }

// Text collects Bulk collectors' samples in the text format (0.0.4), a
// buffer per family, for one scrape. Reset keeps the buffers, so a reused
// Text allocates nothing once it has grown. Not safe for concurrent use.
type Text struct {
	fams map[*Family]*familyText
}

type familyText struct {
	f       *Family
	buf     []byte
	samples int
}

// Reset empties t for the next scrape.
func (t *Text) Reset() {
	for _, ft := range t.fams {
		ft.buf, ft.samples = ft.buf[:0], 0
	}
}

// Sample appends one sample of f with f's label values in f's label order,
// as expfmt renders it: labels in name order, values escaped (invalid
// UTF-8 replaced, as the client_golang path must), the value formatted as
// expfmt formats floats.
func (t *Text) Sample(f *Family, v float64, values ...string) {
	if len(values) != len(f.labels) {
		panic("metrics.Text.Sample: " + f.name + ": wrong number of label values")
	}
	ft := t.fams[f]
	if ft == nil {
		if t.fams == nil {
			t.fams = map[*Family]*familyText{}
		}
		ft = &familyText{f: f}
		t.fams[f] = ft
	}
	b := append(ft.buf, f.name...)
	if len(values) > 0 {
		sep := byte('{')
		for _, i := range f.order {
			b = append(append(b, sep), f.labels[i]...)
			b = append(b, '=', '"')
			b = appendEscaped(b, values[i], true)
			b = append(b, '"')
			sep = ','
		}
		b = append(b, '}')
	}
	b = append(AppendFloat(append(b, ' '), v), '\n')
	ft.buf = b
	ft.samples++
}

// families is t's non-empty families in name order.
func (t *Text) families() []*familyText {
	out := make([]*familyText, 0, len(t.fams))
	for _, ft := range t.fams {
		if ft.samples > 0 {
			out = append(out, ft)
		}
	}
	slices.SortFunc(out, func(a, b *familyText) int { return strings.Compare(a.f.name, b.f.name) })
	return out
}

// appendEscaped appends s escaped as expfmt escapes HELP text (\ and
// newline) or, quoted, label values (and "); invalid UTF-8 becomes U+FFFD.
func appendEscaped(b []byte, s string, quoted bool) []byte {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c != '\\' && c != '\n' && c != '"' && c < utf8.RuneSelf
	}
	if plain { // the common case: ASCII with nothing to escape
		return append(b, s...)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '"' && quoted:
			b = append(b, '\\', '"')
		default:
			b = append(b, c)
		}
	}
	return b
}

// AppendFloat appends v as expfmt's text encoder writes sample values.
func AppendFloat(b []byte, v float64) []byte {
	switch {
	case v == 1:
		return append(b, '1')
	case v == 0:
		return append(b, '0')
	case v == -1:
		return append(b, '-', '1')
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
