package connect

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

// The pg_* files test the PostgreSQL connectors against a throwaway
// PostgreSQL 15 (make deps-postgres) and Debezium's connector in the Java
// worker (make deps-connect-java).

const pgBinDir = "/usr/lib/postgresql/15/bin"

// pgCluster is a throwaway PostgreSQL cluster.
type pgCluster struct {
	Dir  string
	Port int
	URL  string // libpq URL of database postgres as superuser samsa
}

// pgStartCluster starts a cluster with wal_level=logical in a temporary
// directory on a free 127.0.0.1 port, stopped when t ends. initdb refuses
// root, so as root it runs as Debian's postgres user. A missing
// PostgreSQL fails under CI and skips locally.
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
	runAs := ""
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user of Debian's postgresql package: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		runAs = "postgres"
	}
	data := filepath.Join(dir, "data")
	pgRun(t, runAs, "initdb", "-D", data, "-U", "samsa", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c wal_level=logical -c max_replication_slots=10 -c max_wal_senders=10 -c fsync=off", port, dir)
	pgRun(t, runAs, "pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start")
	t.Cleanup(func() {
		if out, err := pgCmd(runAs, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
			t.Logf("pg_ctl stop: %v: %s", err, out)
		}
	})
	return &pgCluster{Dir: dir, Port: port, URL: fmt.Sprintf("postgres://samsa@127.0.0.1:%d/postgres?sslmode=disable", port)}
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

// pgConn opens a connection for the test's own SQL, closed at the end.
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

// pgOffsets is an in-memory offset store standing in for the runtime's.
type pgOffsets struct {
	mu sync.Mutex
	m  map[string]map[string]any
}

func (o *pgOffsets) Offset(_ context.Context, p map[string]any) (map[string]any, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.m[fmt.Sprint(p)], nil
}

func (o *pgOffsets) commit(recs []*connect.Record) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string]map[string]any{}
	}
	for _, r := range recs {
		o.m[fmt.Sprint(r.SourcePartition)] = r.SourceOffset
	}
}

// pgSourceCtx is a SourceTaskContext over pgOffsets.
type pgSourceCtx struct{ off *pgOffsets }

func (c pgSourceCtx) Offsets() connect.OffsetReader { return c.off }
func (pgSourceCtx) Logger() *slog.Logger            { return slog.New(slog.NewTextHandler(os.Stderr, nil)) }
