package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/samsa-streaming/samsa/internal/loadgen"
)

// maxLineBytes bounds one stdin line (one record); Kafka's default
// max.message.bytes is about 1 MiB, so this leaves generous room.
const maxLineBytes = 16 << 20

type produceOptions struct {
	keySep      string
	headers     []string
	partition   int32
	acks        string
	compression string
}

// newProduceCmd returns `samsa produce TOPIC`: one record per stdin line.
func newProduceCmd() *cobra.Command {
	cf := &clientFlags{}
	var o produceOptions
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Produce one record per line of standard input",
		Long: `Produce one record per line of standard input to TOPIC.

With --key-separator SEP, each line is split at the first SEP into key and
value (escapes \t, \n, \\ are understood in SEP). Keyed records go to the
partition Kafka's default partitioner picks (murmur2 of the key); --partition
sends every record to one partition. A summary is printed to stderr at the end.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceUsage = true
			return runProduce(cmd, cf, &o, args[0])
		},
	}
	cf.register(cmd)
	fs := cmd.Flags()
	fs.StringVarP(&o.keySep, "key-separator", "k", "", "split each line into key and value at the first SEP")
	fs.StringArrayVarP(&o.headers, "header", "H", nil, "record header key=value (repeatable)")
	fs.Int32VarP(&o.partition, "partition", "p", -1, "produce every record to this partition (-1: default partitioner)")
	fs.StringVar(&o.acks, "acks", "all", "acknowledgements to wait for: all, 1 or 0")
	fs.StringVar(&o.compression, "compression", "none", "batch compression: none, gzip, snappy, lz4 or zstd")
	return cmd
}

// producePlan is produceOptions validated and turned into client options.
type producePlan struct {
	keySep  string
	headers []kgo.RecordHeader
	opts    []kgo.Opt
}

func (o *produceOptions) plan() (*producePlan, error) {
	p := &producePlan{}
	sep, err := unescape(o.keySep)
	if err != nil {
		return nil, fmt.Errorf("invalid --key-separator %q: %w", o.keySep, err)
	}
	p.keySep = sep
	if p.headers, err = parseHeaders(o.headers); err != nil {
		return nil, err
	}
	acks, err := parseAcks(o.acks)
	if err != nil {
		return nil, err
	}
	p.opts = append(p.opts, kgo.RequiredAcks(acks))
	if acks != kgo.AllISRAcks() {
		p.opts = append(p.opts, kgo.DisableIdempotentWrite())
	}
	codec, err := parseCompression(o.compression)
	if err != nil {
		return nil, err
	}
	p.opts = append(p.opts, kgo.ProducerBatchCompression(codec))
	switch {
	case o.partition >= 0:
		p.opts = append(p.opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	case o.partition == -1:
		// Kafka's default: murmur2 of the key, sticky for keyless records.
		p.opts = append(p.opts, kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	default:
		return nil, fmt.Errorf("invalid --partition %d: must be 0 or more (or -1 for the default partitioner)", o.partition)
	}
	return p, nil
}

// parseAcks and parseCompression are the load generator's parsers, so
// `samsa produce` and `samsa bench` accept the same values.
func parseAcks(s string) (kgo.Acks, error) { return loadgen.ParseAcks(s) }

func parseCompression(s string) (kgo.CompressionCodec, error) { return loadgen.ParseCompression(s) }

// parseHeaders parses repeated -H key=value flags, keeping their order.
func parseHeaders(hs []string) ([]kgo.RecordHeader, error) {
	var out []kgo.RecordHeader
	for _, h := range hs {
		k, v, err := splitKeyValue(h, "--header")
		if err != nil {
			return nil, err
		}
		out = append(out, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return out, nil
}

// splitKey splits a line into key and value at the first sep. Without a
// separator the whole line is the value and the key is null.
func splitKey(line, sep string) (key, value []byte, err error) {
	if sep == "" {
		return nil, []byte(line), nil
	}
	k, v, ok := strings.Cut(line, sep)
	if !ok {
		return nil, nil, fmt.Errorf("has no key separator %q", sep)
	}
	return []byte(k), []byte(v), nil
}

// unescape resolves \t, \n, \r and \\ in a flag value.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i == len(s) {
			return "", errors.New(`ends in a lone \`)
		}
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\':
			b.WriteByte('\\')
		default:
			return "", fmt.Errorf(`unknown escape \%c (want \n, \t, \r or \\)`, s[i])
		}
	}
	return b.String(), nil
}

// stdinLine is one line read from stdin, or the error that ended reading.
type stdinLine struct {
	text string
	err  error
}

// produceTally counts delivered records and keeps the first failure; the
// client's produce callbacks update it concurrently.
type produceTally struct {
	delivered atomic.Int64
	mu        sync.Mutex
	firstErr  error
}

func (t *produceTally) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.firstErr == nil {
		t.firstErr = err
	}
}

func (t *produceTally) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.firstErr
}

func runProduce(cmd *cobra.Command, cf *clientFlags, o *produceOptions, topic string) error {
	plan, err := o.plan()
	if err != nil {
		return err
	}
	if err := cf.validate(); err != nil {
		return err
	}
	opts := append([]kgo.Opt{
		kgo.DefaultProduceTopic(topic),
		kgo.RecordDeliveryTimeout(cf.timeout),
	}, plan.opts...)
	cl, err := cf.newClient(cmd, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()

	// Check the topic (and partition) first, so a typo fails at once with a
	// clear message rather than after reading stdin.
	lookupCtx, cancelLookup := cf.requestContext(cmd)
	td, err := cf.lookupTopic(lookupCtx, cmd, cf.adminFor(cl), topic)
	cancelLookup()
	if err != nil {
		return err
	}
	if o.partition >= 0 {
		if _, ok := td.Partitions[o.partition]; !ok {
			return fmt.Errorf("partition %d does not exist: topic %s has %s", o.partition, topic, plural(int64(len(td.Partitions)), "partition", "partitions"))
		}
	}

	// SIGINT stops reading; records already read are still delivered.
	sigCtx, stopSignals := signal.NotifyContext(commandContext(cmd), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	// Produce and flush are not tied to the signal: an interrupted run
	// still delivers what it read, bounded by --timeout per record.
	produceCtx := context.WithoutCancel(commandContext(cmd))

	readCtx, stopReading := context.WithCancel(sigCtx)
	defer stopReading()
	lines := readLines(readCtx, cmd.InOrStdin())
	var (
		tally   produceTally
		sent    int64
		lineNo  int64
		readErr error
		lineErr error
	)
read:
	for {
		var l stdinLine
		var ok bool
		select {
		case <-sigCtx.Done():
			break read
		case l, ok = <-lines:
		}
		if !ok {
			break read // end of input
		}
		if l.err != nil {
			readErr = l.err
			break read
		}
		if tally.err() != nil {
			break read // a record failed: stop reading, report it below
		}
		lineNo++
		key, value, err := splitKey(l.text, plan.keySep)
		if err != nil {
			lineErr = fmt.Errorf("line %d %w", lineNo, err)
			break read
		}
		r := &kgo.Record{Key: key, Value: value, Headers: plan.headers}
		if o.partition >= 0 {
			r.Partition = o.partition
		}
		sent++
		cl.Produce(produceCtx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				tally.fail(err)
				return
			}
			tally.delivered.Add(1)
		})
	}
	stopReading()
	flushCtx, cancelFlush := context.WithTimeout(produceCtx, cf.timeout+cf.timeout/2)
	flushErr := cl.Flush(flushCtx)
	cancelFlush()

	delivered := tally.delivered.Load()
	stderr := cmd.ErrOrStderr()
	if delivered == sent {
		fmt.Fprintf(stderr, "produced %s to %s\n", plural(delivered, "record", "records"), topic)
	} else {
		fmt.Fprintf(stderr, "produced %d of %s to %s\n", delivered, plural(sent, "record", "records"), topic)
	}
	switch {
	case tally.err() != nil:
		return produceErr(cf, cmd, tally.err(), topic)
	case flushErr != nil:
		return fmt.Errorf("cannot produce to topic %s: %s", topic, cf.explain(cmd, flushErr))
	case lineErr != nil:
		return lineErr
	case readErr != nil:
		return fmt.Errorf("cannot read standard input: %w", readErr)
	}
	return nil
}

func produceErr(cf *clientFlags, cmd *cobra.Command, err error, topic string) error {
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return fmt.Errorf("topic %s does not exist", topic)
	case errors.Is(err, kgo.ErrRecordTimeout):
		return fmt.Errorf("cannot produce to topic %s: records were not delivered within %s (see --timeout)", topic, cf.timeout)
	}
	return fmt.Errorf("cannot produce to topic %s: %s", topic, cf.explain(cmd, err))
}

// readLines reads r line by line on a goroutine and sends the lines on the
// returned channel, which is closed at end of input, after a read error, or
// once ctx is done. The goroutine is owned by runProduce; it stops at end of
// input or when ctx ends, except that a Read blocked on a terminal cannot be
// interrupted: after SIGINT the command returns without waiting for it and
// the process exits.
func readLines(ctx context.Context, r io.Reader) <-chan stdinLine {
	ch := make(chan stdinLine, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
		for sc.Scan() {
			select {
			case ch <- stdinLine{text: sc.Text()}:
			case <-ctx.Done():
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = fmt.Errorf("a line is longer than %d MiB", maxLineBytes>>20)
			}
			select {
			case ch <- stdinLine{err: err}:
			case <-ctx.Done():
			}
		}
	}()
	return ch
}
