package loadgen

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

// This file reads a process's CPU time and memory from Linux's /proc: the
// broker's (Config.PID), the generator's own, and bench/compare's brokers.

const (
	// procClockTicks is USER_HZ, the unit of utime and stime in
	// /proc/PID/stat. Linux fixes it at 100 on every architecture Go
	// supports; reading it properly needs sysconf(_SC_CLK_TCK), i.e. cgo.
	procClockTicks = 100
	// procSampleEvery is how often a Watch samples VmRSS.
	procSampleEvery = 100 * time.Millisecond
	// procMaxFile bounds what is read of one /proc file.
	procMaxFile = 64 << 10
)

// Proc is one process's /proc directory, such as /proc/1234.
type Proc struct{ Dir string }

// ProcOf returns the /proc directory of process pid.
func ProcOf(pid int) Proc { return Proc{Dir: filepath.Join("/proc", strconv.Itoa(pid))} }

// Self returns the /proc directory of this process.
func Self() Proc { return Proc{Dir: "/proc/self"} }

// Memory is a process's resident set, from /proc/PID/status.
type Memory struct {
	RSSKiB int64 // VmRSS: resident now
	HWMKiB int64 // VmHWM: the peak since the process started
}

// RSSMiB and HWMMiB are the readings in MiB.
func (m Memory) RSSMiB() float64 { return float64(m.RSSKiB) / 1024 }
func (m Memory) HWMMiB() float64 { return float64(m.HWMKiB) / 1024 }

// CPUSeconds reads the user plus system CPU time the process has used.
func (p Proc) CPUSeconds() (float64, error) {
	path := filepath.Join(p.Dir, "stat")
	b, err := readProcFile(path)
	if err != nil {
		return 0, err
	}
	ticks, err := parseProcStatCPU(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return float64(ticks) / procClockTicks, nil
}

// Memory reads VmRSS and VmHWM.
func (p Proc) Memory() (Memory, error) {
	path := filepath.Join(p.Dir, "status")
	b, err := readProcFile(path)
	if err != nil {
		return Memory{}, err
	}
	var m Memory
	if m.RSSKiB, err = parseProcStatusKiB(b, "VmRSS"); err == nil {
		m.HWMKiB, err = parseProcStatusKiB(b, "VmHWM")
	}
	if err != nil {
		return Memory{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Check verifies that the process can be read, for an early, clear error
// on a wrong pid.
func (p Proc) Check() error {
	if _, err := p.CPUSeconds(); err != nil {
		return err
	}
	_, err := p.Memory()
	return err
}

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

// procErrText says why a process could not be read.
func procErrText(err error) string {
	if errors.Is(err, os.ErrNotExist) {
		return "no such process (or no /proc on this system)"
	}
	if errors.Is(err, os.ErrPermission) {
		return "permission denied"
	}
	return err.Error()
}

// Watch follows a process over a window: CPU time at start and end, and
// the peak of VmRSS sampled every 100 ms. Its sampler goroutine is owned
// by the Watch and ended (and waited for) by Finish, which must be called.
type Watch struct {
	proc    Proc
	cpu0    float64
	stop    chan struct{}
	done    chan struct{}
	peakKiB int64 // written by the sampler; read after done closes
}

// Usage is what a Watch found over its window.
type Usage struct {
	CPUSeconds float64
	PeakRSSMiB float64 // peak VmRSS sampled in the window
	HWMMiB     float64 // VmHWM: peak since the process started
}

// Watch takes the starting CPU reading and starts sampling.
func (p Proc) Watch() (*Watch, error) {
	cpu0, err := p.CPUSeconds()
	if err != nil {
		return nil, err
	}
	m, err := p.Memory()
	if err != nil {
		return nil, err
	}
	w := &Watch{proc: p, cpu0: cpu0, peakKiB: m.RSSKiB, stop: make(chan struct{}), done: make(chan struct{})}
	go w.sample()
	return w, nil
}

func (w *Watch) sample() {
	defer close(w.done)
	t := time.NewTicker(procSampleEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		// A failed read (the process exited) shows up in Finish.
		if m, err := w.proc.Memory(); err == nil {
			w.peakKiB = max(w.peakKiB, m.RSSKiB)
		}
	}
}

// Finish stops the sampler and takes the closing readings.
func (w *Watch) Finish() (Usage, error) {
	close(w.stop)
	<-w.done
	cpu1, err := w.proc.CPUSeconds()
	if err != nil {
		return Usage{}, err
	}
	m, err := w.proc.Memory()
	if err != nil {
		return Usage{}, err
	}
	return Usage{
		CPUSeconds: cpu1 - w.cpu0,
		PeakRSSMiB: float64(max(w.peakKiB, m.RSSKiB)) / 1024,
		HWMMiB:     m.HWMMiB(),
	}, nil
}
