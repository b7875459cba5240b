package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// This file renders the TLS workloads (tls1, tls3): each system PLAINTEXT
// and SASL_SSL in every round, and the TLS cost, SASL_SSL ÷ PLAINTEXT of
// the same system in the same round.

// secValues are the metric's values over the successful runs of one system
// with one security.
func (h *harness) secValues(workload string, v variant, key string) []float64 {
	var vs []float64
	for _, r := range h.runs {
		if r.Workload != workload || r.System != v.system || r.Security != v.security || r.Err != "" {
			continue
		}
		if x, ok := r.Metrics[key]; ok && !math.IsNaN(x) && !math.IsInf(x, 0) {
			vs = append(vs, x)
		}
	}
	return vs
}

// byRound maps round → variant → the metric's value, over the successful
// runs of workload.
func (h *harness) byRound(workload, key string) map[int]map[variant]float64 {
	by := map[int]map[variant]float64{}
	for _, r := range h.runs {
		if r.Workload != workload || r.Err != "" {
			continue
		}
		if x, ok := r.Metrics[key]; ok {
			if by[r.Round] == nil {
				by[r.Round] = map[variant]float64{}
			}
			by[r.Round][variant{r.System, r.Security}] = x
		}
	}
	return by
}

// tlsCost is SASL_SSL ÷ PLAINTEXT of sys, per round in which both ran.
func (h *harness) tlsCost(workload, sys, key string) []float64 {
	var out []float64
	for _, m := range h.byRound(workload, key) {
		plain, ok1 := m[variant{sys, secPlaintext}]
		tls, ok2 := m[variant{sys, secSASLSSL}]
		if ok1 && ok2 && plain != 0 {
			out = append(out, tls/plain)
		}
	}
	return out
}

// costOfCosts is Samsa's TLS cost ÷ Kafka's per round in which all four
// ran: above 1 for throughput means TLS takes less of Samsa's throughput
// than of Kafka's.
func (h *harness) costOfCosts(workload, key string) []float64 {
	var out []float64
	for _, m := range h.byRound(workload, key) {
		sp, sa := m[variant{sysSamsa, secPlaintext}], m[variant{sysSamsa, secSASLSSL}]
		kp, ka := m[variant{sysKafka, secPlaintext}], m[variant{sysKafka, secSASLSSL}]
		if sp != 0 && sa != 0 && kp != 0 && ka != 0 {
			out = append(out, (sa/sp)/(ka/kp))
		}
	}
	return out
}

// securityVariants are the table's columns of measured values.
var securityVariants = []variant{
	{sysSamsa, secPlaintext}, {sysSamsa, secSASLSSL}, {sysKafka, secPlaintext}, {sysKafka, secSASLSSL},
}

// reportSecurity renders one TLS workload.
func (h *harness) reportSecurity(p func(string, ...any), w workload) {
	p("\n#### Workload %s: %s\n\n", w.id, w.title)
	var ns []string
	for _, v := range securityVariants {
		ns = append(ns, fmt.Sprintf("%d %s %s", len(h.secValues(w.id, v, "ready_ms")), v.system, securityName(v.security)))
	}
	p("n = %s", strings.Join(ns, ", "))
	if d, ok := h.took[w.id]; ok {
		p("; took %s", d.Round(time.Second))
	}
	p(".\n\n")
	for _, sys := range []string{sysSamsa, sysKafka} {
		if t := h.negotiatedBy(w.id, sys); t != "" {
			p("- %s SASL_SSL negotiated %s (harness probe, Go client with the same TLS settings as `samsa bench`).\n", sys, t)
		}
	}
	p("- TLS cost = SASL_SSL ÷ PLAINTEXT of the same broker in the same round (neighbours in time), median (range) over rounds: below 1 for MB/s is throughput lost to TLS, above 1 for CPU-s per GB is CPU added. The last column divides Samsa's TLS cost by Kafka's per round.\n\n")
	p("| metric | Samsa PLAINTEXT | Samsa SASL_SSL | Samsa TLS cost | Kafka PLAINTEXT | Kafka SASL_SSL | Kafka TLS cost | TLS cost Samsa ÷ Kafka |\n|---|---|---|---|---|---|---|---|\n")
	for _, m := range w.metrics {
		var cells []string
		seen := false
		for i, v := range securityVariants {
			s, ok := summarize(h.secValues(w.id, v, m.key))
			seen = seen || ok
			cells = append(cells, fmtSummary(s, ok))
			if i%2 == 1 {
				c, okc := summarize(h.tlsCost(w.id, v.system, m.key))
				cells = append(cells, fmtSummary(c, okc))
			}
		}
		if !seen {
			continue
		}
		c, okc := summarize(h.costOfCosts(w.id, m.key))
		p("| %s | %s | %s |\n", m.label, strings.Join(cells, " | "), fmtSummary(c, okc))
	}
	p("\n%s\n", h.tlsVerdict(w.id))
	h.reportCommandsAndNotes(p, w.id)
}

// negotiatedBy lists what the SASL_SSL runs of sys negotiated.
func (h *harness) negotiatedBy(workload, sys string) string {
	var ts []string
	for _, r := range h.runs {
		if r.Workload == workload && r.System == sys && r.Security == secSASLSSL && r.TLS != "" && !slices.Contains(ts, r.TLS) {
			ts = append(ts, r.TLS)
		}
	}
	return strings.Join(ts, "; ")
}

// tlsVerdict says, from the per-round TLS costs of MB/s, whether TLS costs
// Samsa less throughput than it costs Kafka; overlapping ranges are no
// clear difference.
func (h *harness) tlsVerdict(workload string) string {
	s, oks := summarize(h.tlsCost(workload, sysSamsa, "mb_per_sec"))
	k, okk := summarize(h.tlsCost(workload, sysKafka, "mb_per_sec"))
	if !oks || !okk {
		return "**TLS cost:** not enough successful runs to compare."
	}
	less := "less"
	if s.median < k.median {
		less = "more"
	}
	var verdict string
	switch {
	case s.n == 1 || k.n == 1:
		verdict = fmt.Sprintf("in this one round TLS cost Samsa %s throughput than Kafka", less)
	case s.min <= k.max && k.min <= s.max:
		verdict = fmt.Sprintf("no clear difference: the per-round ranges overlap (Samsa %.0f–%.0f%%, Kafka %.0f–%.0f%%)", s.min*100, s.max*100, k.min*100, k.max*100)
	default:
		verdict = fmt.Sprintf("TLS costs Samsa %s throughput than it costs Kafka in every round (Samsa %.0f–%.0f%%, Kafka %.0f–%.0f%%)", less, s.min*100, s.max*100, k.min*100, k.max*100)
	}
	sc, _ := summarize(h.secValues(workload, variant{sysSamsa, secSASLSSL}, "mb_per_sec"))
	kc, _ := summarize(h.secValues(workload, variant{sysKafka, secSASLSSL}, "mb_per_sec"))
	return fmt.Sprintf("**TLS cost:** Samsa keeps %.0f%% of its PLAINTEXT MB/s under SASL_SSL, Kafka %.0f%% (medians of per-round ratios): %s. Under SASL_SSL Samsa moves %s MB/s, Kafka %s MB/s.",
		s.median*100, k.median*100, verdict, fmtNum(sc.median), fmtNum(kc.median))
}

// reportCommandsAndNotes prints a workload's command lines and its runs'
// failures and notes.
func (h *harness) reportCommandsAndNotes(p func(string, ...any), id string) {
	if cmds := h.commands[id]; len(cmds) > 0 {
		p("\nCommands (ADDR = broker address, PID = broker pid):\n\n```\n%s\n```\n", strings.Join(cmds, "\n"))
	}
	var notes []string
	for _, r := range h.runs {
		if r.Workload != id {
			continue
		}
		who := r.System
		if r.Security != secPlaintext {
			who += " " + r.Security
		}
		if r.Err != "" {
			notes = append(notes, fmt.Sprintf("%s run %d failed: %s", who, r.Round, oneLine(r.Err, 300)))
		}
		for _, n := range r.Notes {
			notes = append(notes, fmt.Sprintf("%s run %d: %s", who, r.Round, oneLine(n, 300)))
		}
	}
	slices.Sort(notes)
	notes = slices.Compact(notes)
	for _, n := range notes {
		p("- %s\n", n)
	}
}
