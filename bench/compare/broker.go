package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/samsa-streaming/samsa/internal/loadgen"
)

const (
	sysSamsa = "Samsa"
	sysKafka = "Kafka"
)

// kafkaJVMOpts are the options kafka-server-start.sh and kafka-run-class.sh
// set by default (KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS).
var kafkaJVMOpts = []string{
	"-Xmx1G", "-Xms1G", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
	"-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
	"-XX:MaxInlineLevel=15", "-Djava.awt.headless=true",
}

// toolJVMOpts are what kafka-producer-perf-test.sh and
// kafka-consumer-perf-test.sh use: a 512 MiB heap plus the same performance
// options.
var toolJVMOpts = []string{
	"-Xmx512M", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
	"-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
	"-XX:MaxInlineLevel=15", "-Djava.awt.headless=true",
}

// broker is one running broker process with its own data directory.
type broker struct {
	system  string
	addr    string
	dir     string // run directory: data, config and logs
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	// readyAfter is the time from launching the process to the first
	// successful ApiVersions.
	readyAfter time.Duration
	// idleRSS is VmRSS one second after the broker first answered.
	idleRSS float64
	// sec is the SASL_SSL set-up; nil for a PLAINTEXT listener.
	sec *secure
	// tls is the protocol and cipher suite the first probe negotiated.
	tls string
}

func (b *broker) pid() int { return b.cmd.Process.Pid }

// proc is the broker process's /proc directory.
func (b *broker) proc() loadgen.Proc { return loadgen.ProcOf(b.pid()) }

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts cmd with output to logPath, waits until addr answers
// ApiVersions (over TLS with sec) and records the start-up time and idle
// RSS.
func launch(ctx context.Context, lg *slog.Logger, system, addr, dir, logPath string, sec *secure, cmd *exec.Cmd) (*broker, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd.Stdout = logf
	cmd.Stderr = logf
	// The broker dies with the harness even if the harness is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	b := &broker{system: system, addr: addr, dir: dir, logPath: logPath, cmd: cmd, exited: make(chan struct{}), sec: sec}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", system, err)
	}
	go func() {
		b.waitErr = cmd.Wait()
		close(b.exited)
	}()
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var tc *tls.Config
	if sec != nil {
		tc = sec.client
	}
	if b.tls, err = waitServing(wctx, addr, tc, b.exited); err != nil {
		b.stop(lg)
		return nil, fmt.Errorf("%s: %w; log %s:\n%s", system, err, logPath, tail(logPath, 2000))
	}
	b.readyAfter = time.Since(start)
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
		b.stop(lg)
		return nil, ctx.Err()
	}
	if m, err := b.proc().Memory(); err == nil {
		b.idleRSS = m.RSSMiB()
	}
	lg.Debug("broker up", "system", system, "addr", addr, "pid", b.pid(), "ready", b.readyAfter, "idle_rss_mib", b.idleRSS)
	return b, nil
}

// stop sends SIGTERM and waits up to 60 s for the process to exit, then
// kills it. It returns an error only if the broker had to be killed.
func (b *broker) stop(lg *slog.Logger) error {
	select {
	case <-b.exited:
		return nil
	default:
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
		return nil
	case <-time.After(60 * time.Second):
	}
	lg.Warn("broker ignored SIGTERM for 60 s; killing it", "system", b.system, "pid", b.pid())
	_ = b.cmd.Process.Kill()
	<-b.exited
	return fmt.Errorf("%s pid %d did not stop on SIGTERM", b.system, b.pid())
}

// startSamsa starts the Samsa binary on a free port with a fresh data
// directory under dir; with security SASL_SSL its one listener is SASL_SSL
// (security.go) and the SCRAM user is created at start.
func startSamsa(ctx context.Context, lg *slog.Logger, o *options, dir, security string) (*broker, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	// The same broker settings Kafka gets where both know them, so that
	// group-based tools (ConsumerPerformance) are not delayed by the 3 s
	// default initial rebalance delay on one side only.
	props := filepath.Join(dir, "samsa.properties")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	text := "num.partitions=1\ngroup.initial.rebalance.delay.ms=0\n"
	args := []string{"serve", "--data-dir", filepath.Join(dir, "data"), "--listen", addr}
	var sec *secure
	if security == secSASLSSL {
		if sec, err = writeSecure(dir); err != nil {
			return nil, err
		}
		text += samsaTLSProperties(addr, sec)
		args = []string{"serve", "--data-dir", filepath.Join(dir, "data"), "--add-scram", scramFormat}
	}
	if err := os.WriteFile(props, []byte(text), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(o.samsaBin, append(args, "--config", props, "--log-level", "warn")...)
	return launch(ctx, lg, sysSamsa, addr, dir, filepath.Join(dir, "samsa.log"), sec, cmd)
}

// kafkaServerProperties is a single KRaft node acting as broker and
// controller, everything on 127.0.0.1.
func kafkaServerProperties(port, cport int, logDir string) string {
	return fmt.Sprintf(`# Generated by bench/compare: one KRaft node, broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:%[2]d
listeners=PLAINTEXT://127.0.0.1:%[1]d,CONTROLLER://127.0.0.1:%[2]d
advertised.listeners=PLAINTEXT://127.0.0.1:%[1]d
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=%[3]s
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
num.partitions=1
group.initial.rebalance.delay.ms=0
`, port, cport, logDir)
}

// log4j2Properties sends everything at WARN and above to one file.
func log4j2Properties(file string) string {
	return fmt.Sprintf(`# Generated by bench/compare: WARN and above to a file.
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = %s
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%%d] %%p %%m (%%c)%%n
rootLogger.level = WARN
rootLogger.appenderRef.file.ref = FILE
`, file)
}

// kafkaClusterID is a random 16-byte id in Kafka's base64url form (no
// padding); like Uuid.randomUuid it never starts with '-'.
func kafkaClusterID() (string, error) {
	for {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		id := base64.RawURLEncoding.EncodeToString(b[:])
		if !strings.HasPrefix(id, "-") {
			return id, nil
		}
	}
}

func (o *options) kafkaClasspath() string { return filepath.Join(o.kafkaLibs, "*") }

// kafkaJava is the java command line for a Kafka main class; jvm are the
// options before the class, log4j the log4j2 configuration file.
func (o *options) kafkaJava(jvm []string, log4j, class string, args ...string) *exec.Cmd {
	a := append([]string{}, jvm...)
	a = append(a, "-Dlog4j2.configurationFile="+log4j, "-cp", o.kafkaClasspath(), class)
	return exec.Command(o.java, append(a, args...)...)
}

// freePorts returns n distinct free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	for len(ports) < n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// startKafka writes server.properties and a log4j2 configuration under dir,
// formats the storage with a random cluster id (not part of the start-up
// time) and starts kafka.Kafka. With security SASL_SSL the client listener
// is SASL_SSL and the format adds the SCRAM user.
func startKafka(ctx context.Context, lg *slog.Logger, o *options, dir, security string) (*broker, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	port, cport := ports[0], ports[1]
	text := kafkaServerProperties(port, cport, filepath.Join(dir, "data"))
	var sec *secure
	var formatArgs []string
	if security == secSASLSSL {
		if sec, err = writeSecure(dir); err != nil {
			return nil, err
		}
		text = kafkaTLSProperties(port, ports[2], cport, filepath.Join(dir, "data"), sec)
		formatArgs = []string{"--add-scram", scramFormat}
	}
	props := filepath.Join(dir, "server.properties")
	log4j := filepath.Join(dir, "log4j2.properties")
	if err := os.WriteFile(props, []byte(text), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(log4j, []byte(log4j2Properties(filepath.Join(dir, "server.log"))), 0o644); err != nil {
		return nil, err
	}
	id, err := kafkaClusterID()
	if err != nil {
		return nil, err
	}
	format := o.kafkaJava(nil, log4j, "kafka.tools.StorageTool", append([]string{"format", "-t", id, "-c", props}, formatArgs...)...)
	if out, err := format.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("kafka storage format: %w\n%s", err, out)
	}
	jvm := append(append([]string{}, kafkaJVMOpts...),
		"-Xlog:gc*:file="+filepath.Join(dir, "kafkaServer-gc.log")+":time,tags:filecount=10,filesize=100M")
	cmd := o.kafkaJava(jvm, log4j, "kafka.Kafka", props)
	return launch(ctx, lg, sysKafka, "127.0.0.1:"+strconv.Itoa(port), dir, filepath.Join(dir, "kafka.out"), sec, cmd)
}

// tail returns up to the last max bytes of a file, for error messages.
func tail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - max
	if off < 0 {
		off = 0
	}
	b := make([]byte, st.Size()-off)
	n, _ := f.ReadAt(b, off)
	return string(b[:n])
}
