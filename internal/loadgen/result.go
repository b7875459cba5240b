package loadgen

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Result is the outcome of a run. Its JSON form is what `samsa bench
// --json` prints (bench/compare and scripts parse it), so fields keep their
// names and order.
type Result struct {
	Workload Workload `json:"workload"`
	// Records and Bytes (value bytes) are what was measured: acknowledged
	// (Produce), consumed (Consume, EndToEnd) after the warmup.
	Records int64 `json:"records"`
	Bytes   int64 `json:"bytes"`
	// WireBytes are bytes producers wrote (Consume: consumers read).
	WireBytes     int64   `json:"wire_bytes"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"` // MiB/s of values
	WireMBPerSec  float64 `json:"wire_mb_per_sec"`
	// Latency is send→ack (Produce) or send→consume (EndToEnd); nil for
	// Consume. ProduceLatency is EndToEnd's send→ack.
	Latency        *LatencySummary `json:"latency_ms,omitempty"`
	ProduceLatency *LatencySummary `json:"produce_latency_ms,omitempty"`
	// The broker's readings over the measured window, with Config.PID.
	BrokerCPUSeconds *float64 `json:"broker_cpu_seconds,omitempty"`
	BrokerPeakRSSMiB *float64 `json:"broker_peak_rss_mib,omitempty"`
	BrokerHWMMiB     *float64 `json:"broker_hwm_mib,omitempty"`
	// ClientCPUSeconds is this process's CPU time over the window.
	ClientCPUSeconds *float64 `json:"client_cpu_seconds,omitempty"`
	Errors           int64    `json:"errors"`
	// Missing counts EndToEnd records acknowledged but not consumed.
	Missing     int64  `json:"missing,omitempty"`
	FirstError  string `json:"first_error,omitempty"`
	Interrupted bool   `json:"interrupted,omitempty"`
	// Config is the run's settings, partitions being the topic's count.
	Config map[string]any `json:"config"`
}

// setTotals fills the counts and the rates derived from them.
func (r *Result) setTotals(records, bytes int64, seconds float64) {
	r.Records, r.Bytes, r.Seconds = records, bytes, round6(seconds)
	if seconds > 0 {
		r.RecordsPerSec = round3(float64(records) / seconds)
		r.MBPerSec = round3(float64(bytes) / seconds / (1 << 20))
		r.WireMBPerSec = round3(float64(r.WireBytes) / seconds / (1 << 20))
	}
}

// Failure says what failed in a finished run: records that could not be
// produced or fetched, or (EndToEnd) acknowledged and never consumed. It
// is nil for a clean run; an interrupted run is not a failure by itself.
func (r *Result) Failure() error {
	if r.Errors == 0 && r.Missing == 0 {
		return nil
	}
	var what []string
	if r.Errors > 0 {
		what = append(what, plural(r.Errors, "error", "errors"))
	}
	if r.Missing > 0 {
		what = append(what, fmt.Sprintf("%s produced but never consumed", plural(r.Missing, "record", "records")))
	}
	msg := strings.Join(what, " and ")
	if r.FirstError != "" {
		msg += " (first: " + r.FirstError + ")"
	}
	return errors.New(msg)
}

func round3(f float64) float64 { return math.Round(f*1e3) / 1e3 }
func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// Progress is a reading taken every Config.Progress during a run.
type Progress struct {
	Workload      Workload
	Elapsed       time.Duration // since the run started, warmup included
	RecordsPerSec float64       // over the last interval
	MiBPerSec     float64
	// P99 is the latency so far, when the workload measures one and has
	// samples.
	P99    time.Duration
	HasP99 bool
	Warmup bool // still in the warmup
}
