package node

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/metrics"
)

// awkwardGroups are group names the text exposition must escape.
var awkwardGroups = []string{`quo"te-`, `back\slash-`, "new\nline-", "ünïcödé-", "bad\xffutf8-", "plain-"}

// TestBulkTextMatchesCollect: over an in-memory broker of 1,000
// partitions (some offline, some followers, some with record times only
// in their logs) and 100 groups with awkward names, /metrics in the text
// format has exactly the lines expfmt renders from client_golang's Gather
// of the same collectors, and parses to the same families and values.
func TestBulkTextMatchesCollect(t *testing.T) {
	s := newMemState(10, 100, 100, 10, awkwardGroups)
	pc, lc := s.collectors()
	reg := metrics.NewBare()
	if err := reg.RegisterBulk(pc); err != nil {
		t.Fatal(err)
	}
	if err := reg.RegisterBulk(lc); err != nil {
		t.Fatal(err)
	}
	scrapeHandler(t, reg.Handler()) // the first scrape reads the record times kept only in logs
	text := scrapeHandler(t, reg.Handler())
	ref := gatherText(t, reg)
	if g, w := sortedLines(text), sortedLines(ref); !slices.Equal(g, w) {
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				t.Fatalf("%d lines, want %d; first difference:\n got %q\nwant %q", len(g), len(w), g[i], w[i])
			}
		}
		t.Fatalf("%d lines, want %d", len(g), len(w))
	}
	compareFamilies(t, parseExposition(t, text), parseExposition(t, ref), nil)
	lintExposition(t, text)
	for _, name := range []string{"kafka_log_log_size", "kafka_consumergroup_lag", "samsa_consumergroup_lag_seconds", "kafka_topic_partition_current_offset", "kafka_consumergroup_lag_sum"} {
		if !strings.Contains(text, "\n"+name+"{") {
			t.Errorf("no %s series", name)
		}
	}
}

// TestNodeTextMatchesCollect: a node's /metrics (text) and its registry's
// Gather (client_golang) have the same families, types and help, and the
// same per-partition and per-group series and values (lag in seconds
// moves between the two: its series only).
func TestNodeTextMatchesCollect(t *testing.T) {
	cfg := singleConfig(t, t.TempDir())
	cfg.AdminListen = "127.0.0.1:0"
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	boot := []string{n.Addr()}
	createTopic(t, boot, "ta", 3, 1)
	createTopic(t, boot, "tb", 1, 1)
	produce(t, boot, "ta", "r", 60)
	cl, err := kgo.NewClient(kgo.SeedBrokers(boot...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, g := range awkwardGroups {
		offs := kadm.Offsets{}
		for p := range int32(3) {
			offs.AddOffset("ta", p, int64(i+int(p)), -1)
		}
		offs.AddOffset("tb", 0, 0, -1)
		resp, err := kadm.NewClient(cl).CommitOffsets(ctx, g, offs)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("commit %q: %v", g, err)
		}
	}
	text := scrape(t, n.AdminAddr())
	ref := gatherText(t, n.Metrics())
	got, want := parseExposition(t, text), parseExposition(t, ref)
	bulk := map[string]bool{}
	for _, f := range append(newPartitionCollector(nil).families(), lagFamilies()...) {
		bulk[f.Name()] = true
	}
	compareFamilies(t, got, want, func(name string) bool { return bulk[name] && name != "samsa_consumergroup_lag_seconds" })
	if !strings.Contains(text, `kafka_consumergroup_lag{consumergroup="quo\"te-",partition="1",topic="ta"}`) {
		t.Errorf("no lag of the group quo\"te-:\n%.3000s", text)
	}
}

// compareFamilies: the same families, each of the same type and help,
// with the same label sets; with the same values where exact says so
// (nil: everywhere).
func compareFamilies(t *testing.T, got, want map[string]*dto.MetricFamily, exact func(string) bool) {
	t.Helper()
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Fatalf("families:\n got %v\nwant %v", g, w)
	}
	for name, w := range want {
		g := got[name]
		if g.GetType() != w.GetType() || g.GetHelp() != w.GetHelp() {
			t.Errorf("%s: type %v help %q, want %v %q", name, g.GetType(), g.GetHelp(), w.GetType(), w.GetHelp())
			continue
		}
		if exact == nil || exact(name) {
			if gs, ws := seriesStrings(g, true), seriesStrings(w, true); !slices.Equal(gs, ws) {
				t.Errorf("%s:\n got %v\nwant %v", name, gs, ws)
			}
		} else if len(g.Metric) != len(w.Metric) && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("%s: %d series, want %d", name, len(g.Metric), len(w.Metric))
		}
	}
}

func seriesStrings(f *dto.MetricFamily, values bool) []string {
	var out []string
	for _, m := range f.Metric {
		if !values {
			m = &dto.Metric{Label: m.Label}
		}
		out = append(out, m.String())
	}
	slices.Sort(out)
	return out
}

// gatherText is reg's client_golang rendering: Gather, then expfmt.
func gatherText(t testing.TB, reg *metrics.Registry) string {
	t.Helper()
	mfs, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

// scrapeHandler GETs /metrics of h as Prometheus does without protobuf.
func scrapeHandler(t testing.TB, h http.Handler) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	return rec.Body.String()
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return lines
}
