package observability

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// dashVars are the values the dashboards' variables take in
// TestDashboardsThroughPrometheus: the workload's topic and group, every
// instance, and a rate window of many 1s scrapes.
func dashVars(topic, group string) map[string]string {
	return map[string]string{
		"__rate_interval": "30s",
		"__interval":      "5s",
		"__range":         "1m",
		"instance":        ".*",
		"topic":           regexp.QuoteMeta(topic),
		"consumergroup":   regexp.QuoteMeta(group),
		"datasource":      "prometheus",
	}
}

// TestDashboardsThroughPrometheus runs every query of every dashboard in
// deploy/grafana/dashboards through a real Prometheus scraping a 3-node
// cluster under load: each must succeed and return data.
func TestDashboardsThroughPrometheus(t *testing.T) {
	clustertest.SkipInShort(t, "starts a 3-node cluster and prometheus")
	prom := obsTool(t, "prometheus")
	dashboards := dashLoad(t)

	c := clustertest.StartCluster(t, 3, clustertest.ClusterOptions{Args: []string{"--admin-listen", "127.0.0.1:0"}})
	var targets []string
	for _, n := range c.Nodes {
		targets = append(targets, obsAdminAddr(t, n.LogPath))
	}

	const topic, group = "obs-dash", "obs-dash-group"
	seeds := c.Bootstrap()
	// Records produced and half consumed and committed, then a producer and
	// a group consumer running through the scrapes.
	obsWorkload(t, seeds, topic, group, 3, 300, 150)
	h := clustertest.NewHistory()
	prod := clustertest.StartProducer(t, seeds, h, clustertest.ProducerOptions{Topic: topic, Partitions: []int32{0, 1, 2}, Interval: 10 * time.Millisecond})
	cons := clustertest.StartGroupConsumer(t, seeds, h, clustertest.ConsumerOptions{Group: group, Topic: topic})

	api := dashStartPrometheus(t, prom, targets)
	// Enough 1s scrapes of every node for rate() over the windows above.
	dashWaitScrapes(t, api, len(targets), 8, 40*time.Second)
	if prod.Acked() == 0 || cons.Seen() == 0 {
		t.Errorf("workload idle: %d records acknowledged, %d consumed", prod.Acked(), cons.Seen())
	}

	vars := dashVars(topic, group)
	queries := 0
	for _, d := range dashboards {
		for _, q := range d.queries {
			queries++
			expr := dashSubstitute(q.expr, vars)
			n, err := dashQuery(api, expr)
			switch {
			case err != nil:
				t.Errorf("%s / %s: query fails: %v\n  %s", d.file, q.where, err, expr)
			case n == 0:
				t.Errorf("%s / %s: no data\n  %s", d.file, q.where, expr)
			}
		}
	}
	t.Logf("%d queries in %d dashboards", queries, len(dashboards))

	// One line naming the issue's metrics Prometheus has no series of, for
	// whoever reads a failure.
	var absent []string
	for _, s := range requiredMetrics() {
		if n, err := dashQuery(api, fmt.Sprintf("count({__name__=%q})", s.name)); err == nil && n == 0 {
			absent = append(absent, s.name)
		}
	}
	if len(absent) > 0 {
		t.Errorf("Prometheus scraped no series of %d metrics of the issue: %s", len(absent), strings.Join(absent, " "))
	}
}

// dashQueryRef is one PromQL query of a dashboard and where it is.
type dashQueryRef struct {
	where string // panel title and refId, or the variable
	expr  string
}

type dashFile struct {
	file    string
	queries []dashQueryRef
}

// dashPanel is the part of a Grafana panel the test reads.
type dashPanel struct {
	Title   string      `json:"title"`
	Type    string      `json:"type"`
	Panels  []dashPanel `json:"panels"` // a row's collapsed panels
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

var dashLabelValues = regexp.MustCompile(`^\s*label_values\(\s*(.*?)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`)

// dashLoad reads every dashboard JSON and lists its panels' queries, and
// its query variables (label_values(m, l) runs as count by (l) (m)).
func dashLoad(t testing.TB) []dashFile {
	t.Helper()
	root, err := obsModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "deploy", "grafana", "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in deploy/grafana/dashboards: %v", err)
	}
	sort.Strings(files)
	var out []dashFile
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID        string      `json:"uid"`
			Title      string      `json:"title"`
			Panels     []dashPanel `json:"panels"`
			Templating struct {
				List []struct {
					Name  string          `json:"name"`
					Type  string          `json:"type"`
					Query json.RawMessage `json:"query"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: dashboard without uid or title", f)
		}
		df := dashFile{file: filepath.Base(f)}
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			q := dashVarQuery(v.Query)
			m := dashLabelValues.FindStringSubmatch(q)
			if m == nil {
				t.Errorf("%s: variable %s: want a label_values(metric, label) query, have %q", df.file, v.Name, q)
				continue
			}
			df.queries = append(df.queries, dashQueryRef{where: "variable $" + v.Name, expr: fmt.Sprintf("count by (%s) (%s)", m[2], m[1])})
		}
		var walk func([]dashPanel)
		walk = func(ps []dashPanel) {
			for _, p := range ps {
				walk(p.Panels)
				for _, tg := range p.Targets {
					if strings.TrimSpace(tg.Expr) == "" {
						t.Errorf("%s: panel %q target %s has no expr", df.file, p.Title, tg.RefID)
						continue
					}
					df.queries = append(df.queries, dashQueryRef{where: fmt.Sprintf("panel %q %s", p.Title, tg.RefID), expr: tg.Expr})
				}
				if p.Type != "row" && len(p.Targets) == 0 {
					t.Errorf("%s: panel %q has no query", df.file, p.Title)
				}
			}
		}
		walk(d.Panels)
		if len(df.queries) == 0 {
			t.Errorf("%s: no queries", df.file)
		}
		out = append(out, df)
	}
	return out
}

// dashVarQuery is a variable's query: a string, or an object with a query
// field (Grafana's Prometheus variable editor).
func dashVarQuery(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	_ = json.Unmarshal(raw, &o)
	return o.Query
}

var dashVarRef = regexp.MustCompile(`\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)|\[\[([a-zA-Z_][a-zA-Z0-9_]*)\]\]`)

// dashSubstitute replaces Grafana's $var, ${var} and [[var]] with vars'
// values; an unknown variable is left as it is (and the query then fails).
func dashSubstitute(expr string, vars map[string]string) string {
	return dashVarRef.ReplaceAllStringFunc(expr, func(m string) string {
		sm := dashVarRef.FindStringSubmatch(m)
		name := sm[1] + sm[2] + sm[3]
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

// dashStartPrometheus runs prometheus on a free loopback port, scraping
// the targets' /metrics every second, and returns its base URL. It is
// stopped when the test ends.
func dashStartPrometheus(t testing.TB, bin string, targets []string) string {
	t.Helper()
	dir := t.TempDir()
	quoted := make([]string, len(targets))
	for i, a := range targets {
		quoted[i] = strconv.Quote(a)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: samsa
    static_configs:
      - targets: [%s]
`, strings.Join(quoted, ", "))
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		logPath := filepath.Join(dir, fmt.Sprintf("prometheus-%d.log", attempt))
		logf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin,
			"--config.file="+cfgPath,
			"--storage.tsdb.path="+filepath.Join(dir, fmt.Sprintf("data-%d", attempt)),
			"--web.listen-address="+addr,
			"--storage.tsdb.retention.time=1h",
			"--log.level=warn",
		)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatalf("start prometheus: %v", err)
		}
		exited := make(chan struct{})
		go func() { // waits for the process; the cleanup below ends it
			_ = cmd.Wait()
			logf.Close()
			close(exited)
		}()
		t.Cleanup(func() {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
			if t.Failed() {
				b, _ := os.ReadFile(logPath)
				t.Logf("--- prometheus log (%s) ---\n%s", logPath, b)
			}
		})
		base := "http://" + addr
		if lastErr = dashWaitReady(base, exited, 20*time.Second); lastErr == nil {
			return base
		}
		b, _ := os.ReadFile(logPath)
		lastErr = fmt.Errorf("%w\n%s", lastErr, b)
	}
	t.Fatalf("prometheus did not start: %v", lastErr)
	return ""
}

func dashWaitReady(base string, exited <-chan struct{}, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("prometheus exited")
		default:
		}
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v", within)
}

// dashWaitScrapes waits until Prometheus has scraped each of n targets
// successfully at least scrapes times.
func dashWaitScrapes(t testing.TB, api string, n, scrapes int, within time.Duration) {
	t.Helper()
	expr := fmt.Sprintf(`count(count_over_time(up{job="samsa"}[5m]) >= %d and up{job="samsa"} == 1)`, scrapes)
	deadline := time.Now().Add(within)
	for {
		v, err := dashScalar(api, expr)
		if err == nil && v >= float64(n) {
			return
		}
		if time.Now().After(deadline) {
			ups, _ := dashRaw(api, `up{job="samsa"}`)
			t.Fatalf("prometheus has not scraped the %d nodes %d times within %v (%v, %v): up = %s", n, scrapes, within, v, err, ups)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// dashResponse is the part of /api/v1/query's answer the test reads.
type dashResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// dashRaw runs an instant query and returns its decoded answer.
func dashRaw(api, expr string) (*dashResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	form := url.Values{"query": {expr}, "time": {strconv.FormatInt(time.Now().Unix(), 10)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r dashResponse
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("%s: %v: %.200s", resp.Status, err, buf.String())
	}
	if r.Status != "success" {
		return &r, fmt.Errorf("%s: %s", r.ErrorType, r.Error)
	}
	return &r, nil
}

// dashQuery runs an instant query and returns the number of series (or 1
// for a scalar or string).
func dashQuery(api, expr string) (int, error) {
	r, err := dashRaw(api, expr)
	if err != nil {
		return 0, err
	}
	switch r.Data.ResultType {
	case "vector", "matrix":
		var res []json.RawMessage
		if err := json.Unmarshal(r.Data.Result, &res); err != nil {
			return 0, err
		}
		return len(res), nil
	default:
		return 1, nil
	}
}

// dashScalar runs an instant query expected to return one sample.
func dashScalar(api, expr string) (float64, error) {
	r, err := dashRaw(api, expr)
	if err != nil {
		return 0, err
	}
	var res []struct {
		Value [2]any `json:"value"`
	}
	if err := json.Unmarshal(r.Data.Result, &res); err != nil {
		return 0, err
	}
	if len(res) != 1 {
		return 0, fmt.Errorf("%d samples", len(res))
	}
	s, _ := res[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

var dashMetricName = regexp.MustCompile(`\b(?:kafka|samsa)_[a-z0-9_]+\b`)

// TestDashboardsUseIssueMetrics checks, without any process, that the
// dashboards query only the metric names of the issue (requiredMetrics;
// Go's and the process collector's go_* and process_* aside), so that they
// fill in from Samsa and Apache Kafka (jmx_exporter, kafka_exporter) alike.
func TestDashboardsUseIssueMetrics(t *testing.T) {
	known := map[string]bool{}
	for _, s := range requiredMetrics() {
		known[s.name] = true
	}
	used := map[string]bool{}
	for _, d := range dashLoad(t) {
		for _, q := range d.queries {
			for _, name := range dashMetricName.FindAllString(q.expr, -1) {
				used[name] = true
				if !known[name] {
					t.Errorf("%s / %s: %s is not a metric of the issue", d.file, q.where, name)
				}
			}
		}
	}
	if len(used) == 0 {
		t.Fatal("the dashboards query no kafka_* or samsa_* metric")
	}
	var unused []string
	for name := range known {
		if !used[name] && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			unused = append(unused, name)
		}
	}
	sort.Strings(unused)
	t.Logf("%d metrics of the issue on the dashboards; not shown: %v", len(used), unused)
}
