package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samsa-streaming/samsa/connect"
)

const pgBinDir = "/usr/lib/postgresql/15/bin"

// pgCluster is a throwaway PostgreSQL 15 cluster.
type pgCluster struct {
	Dir  string
	Port int
	// URL is a libpq URL of the postgres database as superuser samsa.
	URL string
}

// pgStartCluster starts a cluster with wal_level=logical in a temporary
// directory, on a free 127.0.0.1 port, and stops it when t ends. As root
// it runs as the "postgres" user (initdb refuses root). A missing
// PostgreSQL fails under CI (make deps installs it) and skips locally.
func pgStartCluster(t *testing.T) *pgCluster {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster (-short)")
	}
	if _, err := os.Stat(filepath.Join(pgBinDir, "initdb")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL 15 is missing (%v); make deps-postgres installs it", err)
		}
		t.Skipf("PostgreSQL 15 is missing (%v); run make deps-postgres", err)
	}
	dir, err := os.MkdirTemp("", "samsa-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	runAs := pgRunAs(t, dir)
	data := filepath.Join(dir, "data")
	pgRun(t, runAs, "initdb", "-D", data, "-U", "samsa", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	port := pgFreePort(t)
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c wal_level=logical -c max_replication_slots=10 -c max_wal_senders=10 -c fsync=off -c synchronous_commit=off", port, dir)
	pgRun(t, runAs, "pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start")
	t.Cleanup(func() {
		cmd := pgCmd(runAs, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("pg_ctl stop: %v: %s", err, out)
		}
	})
	return &pgCluster{Dir: dir, Port: port, URL: fmt.Sprintf("postgres://samsa@127.0.0.1:%d/postgres?sslmode=disable", port)}
}

// pgRunAs returns the user to run PostgreSQL as ("" for the current one)
// and hands dir to it.
func pgRunAs(t *testing.T, dir string) string {
	if os.Geteuid() != 0 {
		return ""
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Fatalf("running as root needs the postgres user of Debian's postgresql package: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	return "postgres"
}

func pgCmd(runAs, bin string, args ...string) *exec.Cmd {
	path := filepath.Join(pgBinDir, bin)
	if runAs == "" {
		return exec.Command(path, args...)
	}
	return exec.Command("runuser", append([]string{"-u", runAs, "--", path}, args...)...)
}

func pgRun(t *testing.T, runAs, bin string, args ...string) {
	t.Helper()
	if out, err := pgCmd(runAs, bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", bin, err, out)
	}
}

func pgFreePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// pgConn opens a connection for the test's own SQL.
func (c *pgCluster) pgConn(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func pgExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// pgOffsets is a real in-memory offset store: what a runtime would have
// committed for a source connector.
type pgOffsets struct {
	mu sync.Mutex
	m  map[string]map[string]any
}

func pgNewOffsets() *pgOffsets { return &pgOffsets{m: map[string]map[string]any{}} }

func pgKey(p map[string]any) string { return fmt.Sprint(p) }

func (o *pgOffsets) Offset(_ context.Context, p map[string]any) (map[string]any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[pgKey(p)], nil
}

// commit stores the records' offsets (the last per partition wins), as
// the runtime's offset flush.
func (o *pgOffsets) commit(recs []*connect.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range recs {
		o.m[pgKey(r.SourcePartition)] = r.SourceOffset
	}
}

// pgSourceCtx is a SourceTaskContext over pgOffsets.
type pgSourceCtx struct{ off *pgOffsets }

func (c pgSourceCtx) Offsets() connect.OffsetReader { return c.off }
func (pgSourceCtx) Logger() *slog.Logger            { return slog.New(slog.NewTextHandler(os.Stderr, nil)) }

// pgSinkCtx is a SinkTaskContext whose ReportError fails (errors.tolerance=none).
type pgSinkCtx struct{}

func (pgSinkCtx) Assignment() []connect.TopicPartition                              { return nil }
func (pgSinkCtx) ResetOffset(connect.TopicPartition, int64)                         {}
func (pgSinkCtx) Pause(...connect.TopicPartition)                                   {}
func (pgSinkCtx) Resume(...connect.TopicPartition)                                  {}
func (pgSinkCtx) RequestCommit()                                                    {}
func (pgSinkCtx) Logger() *slog.Logger                                              { return slog.New(slog.NewTextHandler(os.Stderr, nil)) }
func (pgSinkCtx) ReportError(_ context.Context, _ *connect.Record, err error) error { return err }

// pgPollUntil polls task until cond holds over everything polled so far,
// committing offsets after each non-empty poll when commit is set.
func pgPollUntil(t *testing.T, task connect.SourceTask, off *pgOffsets, commit bool, cond func([]*connect.Record) bool) []*connect.Record {
	t.Helper()
	var all []*connect.Record
	deadline := time.Now().Add(60 * time.Second)
	for first := true; first || !cond(all); first = false {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after 60s; got %d records", len(all))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		recs, err := task.Poll(ctx)
		cancel()
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		all = append(all, recs...)
		if commit && len(recs) > 0 {
			off.commit(recs)
			if c, ok := task.(connect.SourceCommitter); ok {
				if err := c.Commit(); err != nil {
					t.Fatalf("commit: %v", err)
				}
			}
		}
	}
	return all
}

func itoa(n int) string { return strconv.Itoa(n) }
