package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// newClusterStartLocalCmd returns `samsa cluster start-local`: a local
// multi-node cluster (every node a broker and a voter) as child processes
// of this one, for trying things out.
func newClusterStartLocalCmd() *cobra.Command {
	var nodes int
	var dataDir, logLevel string
	cmd := &cobra.Command{
		Use:   "start-local",
		Short: "Start a local multi-node cluster as child processes; Ctrl-C stops it",
		Long: `Start a local cluster of --nodes combined (broker and controller) nodes on
free loopback ports, with data under --data-dir/node-<id> (default: a new
temporary directory, removed on exit). It prints the bootstrap address and
runs until interrupted, then stops every node cleanly. Node logs go to
<data-dir>/node-<id>.log.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cmd.SilenceUsage = true
			return runStartLocal(cmd.Context(), cmd.OutOrStdout(), nodes, dataDir, logLevel)
		},
	}
	cmd.Flags().IntVar(&nodes, "nodes", 3, "number of nodes (each a broker and a metadata voter)")
	cmd.Flags().StringVar(&dataDir, "data-dir", "", "parent of the nodes' data dirs (default: a temporary directory removed on exit)")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "the nodes' --log-level")
	return cmd
}

type localNode struct {
	id      int
	addr    string
	ctlAddr string
	dir     string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

func runStartLocal(ctx context.Context, out io.Writer, n int, dataDir, logLevel string) error {
	if n < 1 || n > 99 {
		return fmt.Errorf("--nodes %d: want 1 to 99", n)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("locate the samsa binary: %w", err)
	}
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "samsa-local-"); err != nil {
			return err
		}
		defer os.RemoveAll(dataDir)
	} else if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	// Reserve every port first: --voters must list all nodes. Voter
	// addresses are not stored in the metadata log, so a later run over
	// the same data dirs may use other ports.
	var ports []int
	var holders []net.Listener
	for range 2 * n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("find a free port: %w", err)
		}
		holders = append(holders, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range holders {
		l.Close()
	}
	nodes := make([]*localNode, n)
	var voters, bootstrap []string
	for i := range n {
		nd := &localNode{
			id:      i + 1,
			addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2*i])),
			ctlAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2*i+1])),
			dir:     filepath.Join(dataDir, fmt.Sprintf("node-%d", i+1)),
			logPath: filepath.Join(dataDir, fmt.Sprintf("node-%d.log", i+1)),
			exited:  make(chan struct{}),
		}
		nodes[i] = nd
		voters = append(voters, fmt.Sprintf("%d@%s", nd.id, nd.ctlAddr))
		bootstrap = append(bootstrap, nd.addr)
	}
	var wg sync.WaitGroup // the reapers, one per started node
	defer wg.Wait()
	stopAll := func() {
		for _, nd := range nodes {
			if nd.cmd != nil && nd.cmd.Process != nil {
				_ = nd.cmd.Process.Signal(syscall.SIGTERM)
			}
		}
		deadline := time.After(30 * time.Second)
		for _, nd := range nodes {
			if nd.cmd == nil {
				continue
			}
			select {
			case <-nd.exited:
			case <-deadline:
				_ = nd.cmd.Process.Kill()
				<-nd.exited
			}
		}
	}
	for _, nd := range nodes {
		logf, err := os.OpenFile(nd.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			stopAll()
			return err
		}
		nd.cmd = exec.Command(self, "serve",
			"--node-id", strconv.Itoa(nd.id),
			"--data-dir", nd.dir,
			"--listen", nd.addr,
			"--controller-listen", nd.ctlAddr,
			"--voters", strings.Join(voters, ","),
			"--log-level", logLevel,
		)
		nd.cmd.Stdout, nd.cmd.Stderr = logf, logf
		// Its own process group: a Ctrl-C in the terminal reaches this
		// process only, which then stops the nodes in order.
		nd.cmd.SysProcAttr = ownProcessGroup()
		err = nd.cmd.Start()
		logf.Close()
		if err != nil {
			nd.cmd = nil
			stopAll()
			return fmt.Errorf("start node %d: %w", nd.id, err)
		}
		wg.Go(func() {
			nd.waitErr = nd.cmd.Wait()
			close(nd.exited)
		})
	}
	readyCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, nd := range nodes {
		if err := waitLocalNode(readyCtx, nd); err != nil {
			stopAll()
			return fmt.Errorf("node %d: %w (log: %s)", nd.id, err, nd.logPath)
		}
	}
	fmt.Fprintf(out, "samsa: %d-node cluster running; data in %s\n", n, dataDir)
	for _, nd := range nodes {
		fmt.Fprintf(out, "  node %d  kafka %s  controller %s  log %s\n", nd.id, nd.addr, nd.ctlAddr, nd.logPath)
	}
	fmt.Fprintf(out, "bootstrap: %s\n", strings.Join(bootstrap, ","))
	fmt.Fprintln(out, "Press Ctrl-C to stop.")

	var died *localNode
	exited := make(chan *localNode, n)
	for _, nd := range nodes {
		wg.Go(func() {
			select {
			case <-nd.exited:
				exited <- nd
			case <-ctx.Done():
			}
		})
	}
	select {
	case <-ctx.Done():
	case died = <-exited:
	}
	fmt.Fprintln(out, "stopping...")
	stopAll()
	if died != nil {
		return fmt.Errorf("node %d exited: %w (log: %s)", died.id, died.waitErr, died.logPath)
	}
	var errs []error
	for _, nd := range nodes {
		if nd.waitErr != nil {
			errs = append(errs, fmt.Errorf("node %d: %w (log: %s)", nd.id, nd.waitErr, nd.logPath))
		}
	}
	return errors.Join(errs...)
}

// waitLocalNode waits until the node accepts connections on its Kafka
// listener, which it opens only once the quorum has formed.
func waitLocalNode(ctx context.Context, nd *localNode) error {
	for {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", nd.addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-nd.exited:
			return fmt.Errorf("exited while starting: %w", nd.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
