package loadgen

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A real /proc/PID/stat line; the command name holds spaces and a ')'.
const fakeStat = "4242 (samsa (x) y) S 1 4242 4242 0 -1 4194560 2143 0 0 0 1234 567 0 0 20 0 12 0 98765 1234567890 5000 18446744073709551615 1 1 0 0 0 0 0 0 2143 0 0 0 17 1 0 0 0 0 0\n"

const fakeStatus = `Name:	samsa
Umask:	0022
State:	S (sleeping)
Pid:	4242
VmPeak:	 2000000 kB
VmSize:	 1900000 kB
VmHWM:	   81920 kB
VmRSS:	   40960 kB
Threads:	12
`

func TestParseProc(t *testing.T) {
	ticks, err := parseProcStatCPU([]byte(fakeStat))
	if err != nil || ticks != 1234+567 {
		t.Fatalf("parseProcStatCPU = %d, %v; want %d", ticks, err, 1234+567)
	}
	for _, bad := range []string{"", "4242 samsa S 1", "4242 (samsa) S 1 2 3", "4242 (samsa) S 1 4242 4242 0 -1 4194560 2143 0 0 0 x 567 0"} {
		if _, err := parseProcStatCPU([]byte(bad)); err == nil {
			t.Fatalf("parseProcStatCPU(%q) gave no error", bad)
		}
	}
	hwm, err := parseProcStatusKiB([]byte(fakeStatus), "VmHWM")
	if err != nil || hwm != 81920 {
		t.Fatalf("VmHWM = %d, %v", hwm, err)
	}
	rss, err := parseProcStatusKiB([]byte(fakeStatus), "VmRSS")
	if err != nil || rss != 40960 {
		t.Fatalf("VmRSS = %d, %v", rss, err)
	}
	if _, err := parseProcStatusKiB([]byte(fakeStatus), "VmSwap"); err == nil || err.Error() != "no VmSwap line" {
		t.Fatalf("missing line: %v", err)
	}
	if _, err := parseProcStatusKiB([]byte("VmRSS:\t12 MB\n"), "VmRSS"); err == nil {
		t.Fatal("a unit other than kB was accepted")
	}
}

func TestProcWatch(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("stat", fakeStat) // 1801 ticks
	write("status", fakeStatus)
	p := Proc{Dir: dir}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	if cpu, err := p.CPUSeconds(); err != nil || cpu != 18.01 {
		t.Fatalf("CPUSeconds = %v, %v; want 18.01", cpu, err)
	}
	if m, err := p.Memory(); err != nil || m.RSSMiB() != 40 || m.HWMMiB() != 80 {
		t.Fatalf("Memory = %+v, %v; want 40 MiB RSS, 80 MiB HWM", m, err)
	}
	w, err := p.Watch()
	if err != nil {
		t.Fatal(err)
	}
	// The resident set peaks between start and end: only the sampler
	// can see it.
	write("status", strings.Replace(fakeStatus, "40960", "102400", 1))
	time.Sleep(5 * procSampleEvery)
	write("status", strings.Replace(fakeStatus, "40960", "20480", 1))
	write("stat", strings.Replace(fakeStat, " 1234 567 ", " 1434 617 ", 1)) // +250 ticks
	u, err := w.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if u.CPUSeconds != 2.5 || u.PeakRSSMiB != 100 || u.HWMMiB != 80 {
		t.Fatalf("usage %+v, want cpu 2.5 s, peak 100 MiB, hwm 80 MiB", u)
	}

	missing := Proc{Dir: filepath.Join(dir, "missing")}
	if err := missing.Check(); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing process: %v", err)
	}
	if got := procErrText(os.ErrNotExist); !strings.HasPrefix(got, "no such process") {
		t.Fatalf("procErrText = %q", got)
	}
}

// TestProcSelf reads the real /proc of this process (Linux).
func TestProcSelf(t *testing.T) {
	for _, p := range []Proc{Self(), ProcOf(os.Getpid())} {
		cpu, err := p.CPUSeconds()
		if err != nil || cpu < 0 {
			t.Fatalf("%s: CPUSeconds = %v, %v", p.Dir, cpu, err)
		}
		m, err := p.Memory()
		if err != nil || m.RSSKiB <= 0 || m.HWMKiB < m.RSSKiB {
			t.Fatalf("%s: Memory = %+v, %v", p.Dir, m, err)
		}
	}
	w, err := Self().Watch()
	if err != nil {
		t.Fatal(err)
	}
	u, err := w.Finish()
	if err != nil || u.CPUSeconds < 0 || u.PeakRSSMiB <= 0 || u.HWMMiB < u.PeakRSSMiB-1 {
		t.Fatalf("watch of self: %+v, %v", u, err)
	}
}
