package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// This file reads a process's CPU time and memory from /proc for
// `samsa bench --pid` (the broker) and for the generator itself.

const (
	// procClockTicks is USER_HZ, the unit of utime and stime in
	// /proc/PID/stat. Linux fixes it at 100 on every architecture Go
	// supports; reading it properly needs sysconf(_SC_CLK_TCK), i.e. cgo.
	procClockTicks = 100
	// procSampleEvery is how often the broker's VmRSS is sampled.
	procSampleEvery = 100 * time.Millisecond
	// procMaxFile bounds what is read of one /proc file.
	procMaxFile = 64 << 10
)

// readProcFile reads a small /proc file, bounded by procMaxFile.
func readProcFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, procMaxFile)
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil {
			break
		}
	}
	return buf[:n], nil
}

// parseProcStatCPU returns utime+stime, in clock ticks, from the contents of
// /proc/PID/stat. The second field (comm) is in parentheses and may itself
// contain spaces and parentheses, so fields are counted from the last ')'.
func parseProcStatCPU(b []byte) (int64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("no ')' closing the command name")
	}
	// After ')' come fields 3 (state) onwards; utime and stime are
	// fields 14 and 15.
	f := strings.Fields(string(b[i+1:]))
	const utimeAt, stimeAt = 14 - 3, 15 - 3
	if len(f) <= stimeAt {
		return 0, fmt.Errorf("%d fields after the command name, want at least %d", len(f), stimeAt+1)
	}
	ut, err1 := strconv.ParseInt(f[utimeAt], 10, 64)
	st, err2 := strconv.ParseInt(f[stimeAt], 10, 64)
	if err1 != nil || err2 != nil || ut < 0 || st < 0 {
		return 0, fmt.Errorf("bad utime/stime %q %q", f[utimeAt], f[stimeAt])
	}
	return ut + st, nil
}

// parseProcStatusKiB returns the value of a "Name:   123 kB" line of
// /proc/PID/status, in KiB.
func parseProcStatusKiB(b []byte, name string) (int64, error) {
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("unexpected %s line %q", name, strings.TrimSpace(line))
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("unexpected %s line %q", name, strings.TrimSpace(line))
		}
		return v, nil
	}
	return 0, fmt.Errorf("no %s line", name)
}

// procCPUSeconds reads the CPU time a process has used so far, from the
// process directory dir (such as /proc/1234 or /proc/self).
func procCPUSeconds(dir string) (float64, error) {
	b, err := readProcFile(filepath.Join(dir, "stat"))
	if err != nil {
		return 0, err
	}
	ticks, err := parseProcStatCPU(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", filepath.Join(dir, "stat"), err)
	}
	return float64(ticks) / procClockTicks, nil
}

// procMemKiB reads VmRSS and VmHWM from dir/status.
func procMemKiB(dir string) (rss, hwm int64, err error) {
	b, err := readProcFile(filepath.Join(dir, "status"))
	if err != nil {
		return 0, 0, err
	}
	if rss, err = parseProcStatusKiB(b, "VmRSS"); err == nil {
		hwm, err = parseProcStatusKiB(b, "VmHWM")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %v", filepath.Join(dir, "status"), err)
	}
	return rss, hwm, nil
}

// checkProc verifies that the process directory can be read, for an early,
// clear error on a wrong --pid.
func checkProc(dir string) error {
	if _, err := procCPUSeconds(dir); err != nil {
		return err
	}
	_, _, err := procMemKiB(dir)
	return err
}

// procWatch follows a process over the measured window: CPU time at start
// and end, and the peak of VmRSS sampled every procSampleEvery. Its sampler
// goroutine is owned by the watch and ends in finish.
type procWatch struct {
	dir     string
	cpu0    float64
	stop    chan struct{}
	done    chan struct{}
	peakKiB int64 // written by the sampler; read after done closes
}

// startProcWatch takes the starting CPU reading and starts sampling.
func startProcWatch(dir string) (*procWatch, error) {
	cpu0, err := procCPUSeconds(dir)
	if err != nil {
		return nil, err
	}
	rss, _, err := procMemKiB(dir)
	if err != nil {
		return nil, err
	}
	w := &procWatch{dir: dir, cpu0: cpu0, peakKiB: rss, stop: make(chan struct{}), done: make(chan struct{})}
	go w.sample()
	return w, nil
}

func (w *procWatch) sample() {
	defer close(w.done)
	t := time.NewTicker(procSampleEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		// A failed read (the process exited) shows up in finish.
		if rss, _, err := procMemKiB(w.dir); err == nil {
			w.peakKiB = max(w.peakKiB, rss)
		}
	}
}

// procReport is what a watch found over the window.
type procReport struct {
	cpuSeconds float64
	peakRSSMiB float64 // peak VmRSS sampled in the window
	hwmMiB     float64 // VmHWM: peak since the process started
}

// finish stops the sampler and takes the closing readings.
func (w *procWatch) finish() (procReport, error) {
	close(w.stop)
	<-w.done
	cpu1, err := procCPUSeconds(w.dir)
	if err != nil {
		return procReport{}, err
	}
	rss, hwm, err := procMemKiB(w.dir)
	if err != nil {
		return procReport{}, err
	}
	peak := max(w.peakKiB, rss)
	return procReport{
		cpuSeconds: cpu1 - w.cpu0,
		peakRSSMiB: float64(peak) / 1024,
		hwmMiB:     float64(hwm) / 1024,
	}, nil
}
