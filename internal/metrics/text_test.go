package metrics

import (
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// tableBulk is a Bulk collector serving fixed samples, both ways: through
// client_golang (prometheus.MustNewConstMetric, the reference rendering)
// and through Text.
type tableBulk struct {
	samples []tableSample
}

type tableSample struct {
	f      *Family
	v      float64
	values []string
}

func (b *tableBulk) Describe(ch chan<- *prometheus.Desc) {
	seen := map[*Family]bool{}
	for _, s := range b.samples {
		if !seen[s.f] {
			seen[s.f] = true
			ch <- s.f.Desc
		}
	}
}

func (b *tableBulk) Collect(ch chan<- prometheus.Metric) {
	for _, s := range b.samples {
		values := slices.Clone(s.values)
		for i, v := range values {
			values[i] = strings.ToValidUTF8(v, "\uFFFD") // what Samsa's collectors do: client_golang refuses invalid UTF-8
		}
		ch <- prometheus.MustNewConstMetric(s.f.Desc, s.f.Type(), s.v, values...)
	}
}

func (b *tableBulk) WriteText(t *Text) {
	for _, s := range b.samples {
		t.Sample(s.f, s.v, s.values...)
	}
}

func awkwardBulk() *tableBulk {
	byGroup := NewFamily("test_by_group", "help with \\ and\nnewline and \"quotes\"", prometheus.GaugeValue, "topic", "consumergroup", "partition")
	sum := NewFamily("test_sum", "an untyped one", prometheus.UntypedValue, "consumergroup")
	total := NewFamily("test_events_total", "a counter", prometheus.CounterValue)
	values := []float64{0, 1, -1, 0.5, 1e21, 1e-7, 123456789, 1234567890123, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.MaxFloat64, math.SmallestNonzeroFloat64, 3.14159, -2.5e-300}
	groups := []string{`quo"te`, `back\slash`, "new\nline", "ünïcödé", "bad \xff utf8", "", "plain"}
	b := &tableBulk{}
	for i, v := range values {
		b.samples = append(b.samples, tableSample{byGroup, v, []string{"t" + string(rune('a'+i)), groups[i%len(groups)], string(rune('0' + i%10))}})
	}
	for i, g := range groups {
		b.samples = append(b.samples, tableSample{sum, float64(i) * 1.5, []string{g}})
	}
	b.samples = append(b.samples, tableSample{total, 42, nil})
	return b
}

// TestTextMatchesClientGolang: /metrics in the text format (Bulk families
// written by Text, merged with a client_golang collector's) has exactly
// the lines expfmt renders from client_golang's Gather of the same
// collectors, HELP and TYPE included, and parses to the same families;
// gzip and protobuf requests answer the same.
func TestTextMatchesClientGolang(t *testing.T) {
	r := NewBare()
	if err := r.RegisterBulk(awkwardBulk()); err != nil {
		t.Fatal(err)
	}
	small := prometheus.NewGauge(prometheus.GaugeOpts{Name: "test_m_small", Help: "sorted between the bulk families"})
	small.Set(7)
	if err := r.Register(small); err != nil {
		t.Fatal(err)
	}
	mfs, err := r.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
			t.Fatal(err)
		}
	}
	got, hdr := get(t, r, nil)
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	if g, w := sortedLines(got), sortedLines(want.String()); !slices.Equal(g, w) {
		t.Errorf("text path:\n%s\nclient_golang:\n%s", got, want.String())
	}
	gotFams, wantFams := parseText(t, got), parseText(t, want.String())
	if !slices.Equal(familyNames(gotFams), familyNames(wantFams)) {
		t.Errorf("families %v, want %v", familyNames(gotFams), familyNames(wantFams))
	}
	for name, f := range wantFams {
		if g := gotFams[name]; g == nil || g.String() != f.String() {
			t.Errorf("family %s:\n got %v\nwant %v", name, g, f)
		}
	}
	if !strings.Contains(got, "# TYPE test_m_small gauge\ntest_m_small 7\n# HELP test_sum") {
		t.Errorf("families not merged in name order:\n%s", got)
	}

	zipped, hdr := get(t, r, http.Header{"Accept-Encoding": {"gzip"}})
	if hdr.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q for Accept-Encoding: gzip", hdr.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(strings.NewReader(zipped))
	if err != nil {
		t.Fatal(err)
	}
	if unzipped, err := io.ReadAll(zr); err != nil || string(unzipped) != got {
		t.Errorf("gzip answer differs from the plain one (%v)", err)
	}

	proto, hdr := get(t, r, http.Header{"Accept": {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"}})
	if f := expfmt.ResponseFormat(hdr); f.FormatType() != expfmt.TypeProtoDelim {
		t.Fatalf("protobuf request answered as %q", hdr.Get("Content-Type"))
	}
	dec := expfmt.NewDecoder(strings.NewReader(proto), expfmt.ResponseFormat(hdr))
	for i := 0; ; i++ {
		var mf dtoFamily
		if err := dec.Decode(&mf); err == io.EOF {
			if i != len(mfs) {
				t.Errorf("protobuf: %d families, want %d", i, len(mfs))
			}
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

func get(t *testing.T, r *Registry, h http.Header) (string, http.Header) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	maps.Copy(req.Header, h)
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String(), rec.Result().Header
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return lines
}

func parseText(t *testing.T, s string) map[string]*dtoFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(s))
	if err != nil {
		t.Fatalf("does not parse: %v\n%s", err, s)
	}
	for _, f := range fams {
		slices.SortFunc(f.Metric, func(a, b *dtoMetric) int { return strings.Compare(a.String(), b.String()) })
	}
	return fams
}

func familyNames(fams map[string]*dtoFamily) []string {
	var names []string
	for n := range fams {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// TestAcceptsGzip: Accept-Encoding as scrapers send it.
func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "identity": false, "deflate, gzip;q=1.0, *;q=0.5": true,
		"gzip;q=0": false, "br, *": true, "zstd;q=1, gzip;q=0.5": true, "x-gzip": false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

type (
	dtoFamily = dto.MetricFamily
	dtoMetric = dto.Metric
)
