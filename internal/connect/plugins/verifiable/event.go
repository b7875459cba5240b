package verifiable

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Event is one parsed output line of a verifiable source or sink task,
// Samsa's or Java's.
type Event struct {
	Name      string
	Task      int64 // the source task (the sink's record key)
	SinkTask  int64 // sink lines only
	Topic     string
	TimeMs    int64
	Seqno     int64
	Offset    int64 // sink lines only
	Committed bool  // a source record the runtime wrote
	Flushed   bool  // a sink record whose offset is being committed
	Sink      bool  // a sink line (it has "sinkTask")
}

// ParseEvent parses one output line; ok is false for lines that are not
// a verifiable task's JSON (worker logs interleaved on stdout).
func ParseEvent(line []byte) (Event, bool) {
	var raw struct {
		Name      *string `json:"name"`
		Task      *int64  `json:"task"`
		SinkTask  *int64  `json:"sinkTask"`
		Topic     *string `json:"topic"`
		TimeMs    int64   `json:"time_ms"`
		Seqno     *int64  `json:"seqno"`
		Offset    int64   `json:"offset"`
		Committed bool    `json:"committed"`
		Flushed   bool    `json:"flushed"`
	}
	if err := json.Unmarshal(line, &raw); err != nil || raw.Task == nil || raw.Seqno == nil {
		return Event{}, false
	}
	e := Event{Task: *raw.Task, TimeMs: raw.TimeMs, Seqno: *raw.Seqno, Offset: raw.Offset,
		Committed: raw.Committed, Flushed: raw.Flushed, Sink: raw.SinkTask != nil}
	if raw.Name != nil {
		e.Name = *raw.Name
	}
	if raw.Topic != nil {
		e.Topic = *raw.Topic
	}
	if raw.SinkTask != nil {
		e.SinkTask = *raw.SinkTask
	}
	return e, true
}

// Check is the ducktape bounce test's validation: for each source task
// the seqnos the source reported committed, and those the sink reported
// flushed, must each cover 0..max without gaps (and without duplicates
// unless allowDups), and the sink must not have seen a seqno beyond the
// source's. Events are filtered by connector name. It returns the
// problems found, none when the run was correct.
func Check(events []Event, source, sink string, tasks int, allowDups bool) []string {
	var errs []string
	for task := range int64(tasks) {
		var src, snk []int64
		for _, e := range events {
			switch {
			case e.Task != task:
			case !e.Sink && e.Name == source && e.Committed:
				src = append(src, e.Seqno)
			case e.Sink && e.Name == sink && e.Flushed:
				snk = append(snk, e.Seqno)
			}
		}
		srcMax, srcErrs := gapsAndDups(src, "source", task, allowDups)
		sinkMax, sinkErrs := gapsAndDups(snk, "sink", task, allowDups)
		errs = append(append(errs, srcErrs...), sinkErrs...)
		if sinkMax > srcMax {
			errs = append(errs, fmt.Sprintf("Found sink sequence number greater than any generated sink sequence number for task %d: %d > %d", task, sinkMax, srcMax))
		}
	}
	return errs
}

func gapsAndDups(seqs []int64, what string, task int64, allowDups bool) (int64, []string) {
	var max int64
	count := map[int64]int{}
	for _, s := range seqs {
		count[s]++
		if s > max {
			max = s
		}
	}
	var missing, dups []int64
	for s := range max {
		if count[s] == 0 {
			missing = append(missing, s)
		}
	}
	for s, n := range count {
		if n > 1 {
			dups = append(dups, s)
		}
	}
	sort.Slice(dups, func(i, j int) bool { return dups[i] < dups[j] })
	var errs []string
	if len(missing) > 0 {
		errs = append(errs, fmt.Sprintf("Found missing %s sequence numbers for task %d: %v", what, task, missing))
	}
	if !allowDups && len(dups) > 0 {
		errs = append(errs, fmt.Sprintf("Found duplicate %s sequence numbers for task %d: %v", what, task, dups))
	}
	return max, errs
}
