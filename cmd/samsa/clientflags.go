package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// This file holds what the client commands (topic, produce, consume,
// cluster) share: the --brokers and --timeout flags, building franz-go
// clients from them, and turning client and Kafka errors into one readable
// line.

const (
	defaultBrokers = "127.0.0.1:9092"
	brokersEnv     = "SAMSA_BROKERS"
	defaultTimeout = 10 * time.Second
)

// clientFlags are the connection flags of every client command. Each
// top-level client command owns one and registers it as persistent flags, so
// its subcommands share it.
type clientFlags struct {
	brokers       []string
	timeout       time.Duration
	commandConfig string   // --command-config: a properties file of security settings
	settings      []string // -X key=value, winning over the file
}

// register adds --brokers/-b, --timeout, --command-config and -X to fs and
// installs the readable flag-error function on cmd (inherited by its
// subcommands).
func (f *clientFlags) register(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	fs.StringSliceVarP(&f.brokers, "brokers", "b", []string{defaultBrokers},
		"comma-separated seed brokers, host:port (env "+brokersEnv+")")
	fs.DurationVar(&f.timeout, "timeout", defaultTimeout,
		"how long to wait for the cluster to answer (dial, metadata, admin requests, record delivery)")
	fs.StringVar(&f.commandConfig, "command-config", "",
		"properties file of client security settings: security.protocol, sasl.*, ssl.* (env "+clientConfigEnv+"; see samsa help client-config)")
	fs.StringArrayVarP(&f.settings, "command-property", "X", nil,
		"client security setting key=value (repeatable; wins over --command-config), e.g. -X security.protocol=SASL_SSL")
	cmd.SetFlagErrorFunc(flagError)
}

// seeds returns the brokers to dial: the --brokers flag if given, else
// $SAMSA_BROKERS if set, else the default.
func (f *clientFlags) seeds(cmd *cobra.Command) ([]string, error) {
	raw := f.brokers
	source := "--brokers"
	if fl := cmd.Flags().Lookup("brokers"); fl == nil || !fl.Changed {
		if env := strings.TrimSpace(os.Getenv(brokersEnv)); env != "" {
			raw = strings.Split(env, ",")
			source = "$" + brokersEnv
		}
	}
	var out []string
	for _, b := range raw {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		host, port, err := net.SplitHostPort(b)
		if err != nil {
			return nil, fmt.Errorf("invalid broker %q in %s: want host:port", b, source)
		}
		if host == "" || port == "" {
			return nil, fmt.Errorf("invalid broker %q in %s: want host:port", b, source)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no brokers given in %s", source)
	}
	return out, nil
}

// validate checks the flags that do not need a cluster.
func (f *clientFlags) validate() error {
	if f.timeout <= 0 {
		return fmt.Errorf("invalid --timeout %s: must be positive", f.timeout)
	}
	return nil
}

// newClient builds a franz-go client from the flags plus extra options.
func (f *clientFlags) newClient(cmd *cobra.Command, opts ...kgo.Opt) (*kgo.Client, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	seeds, err := f.seeds(cmd)
	if err != nil {
		return nil, err
	}
	sec, err := f.security(cmd)
	if err != nil {
		return nil, err
	}
	base := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID("samsa-cli"),
		kgo.DialTimeout(f.timeout),
		kgo.RetryTimeout(f.timeout),
	}
	base = append(base, sec.opts()...)
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("cannot create client: %w", err)
	}
	return cl, nil
}

// security resolves --command-config (or $SAMSA_CLIENT_CONFIG) and -X
// into TLS and SASL settings; with none given it is plaintext, as before.
func (f *clientFlags) security(cmd *cobra.Command) (*clientSecurity, error) {
	cfg, err := f.loadClientConfig(cmd)
	if err != nil {
		return nil, err
	}
	return resolveSecurity(cfg, time.Now())
}

// newAdmin builds an admin client; closing it closes the underlying client.
func (f *clientFlags) newAdmin(cmd *cobra.Command) (*kadm.Client, error) {
	cl, err := f.newClient(cmd)
	if err != nil {
		return nil, err
	}
	return f.adminFor(cl), nil
}

// adminFor wraps cl for admin requests; closing the admin client closes cl.
func (f *clientFlags) adminFor(cl *kgo.Client) *kadm.Client {
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(min(f.timeout.Milliseconds(), 1<<31-1)))
	return adm
}

// requestContext bounds one command's cluster conversation by --timeout.
func (f *clientFlags) requestContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(commandContext(cmd), f.timeout)
}

// explain turns an error from franz-go into one readable line. It does not
// name the operation; callers wrap it with what they were doing.
func (f *clientFlags) explain(cmd *cobra.Command, err error) string {
	seeds := strings.Join(f.brokers, ",")
	if s, serr := f.seeds(cmd); serr == nil {
		seeds = strings.Join(s, ",")
	}
	return explainErr(err, seeds, f.timeout)
}

// explainErr is explain without the flags, for tests.
func explainErr(err error, seeds string, timeout time.Duration) string {
	if err == nil {
		return ""
	}
	if ke, ok := errors.AsType[*kerr.Error](err); ok {
		// franz-go reports a SASL failure as "CODE: broker's message".
		msg, _ := strings.CutPrefix(err.Error(), ke.Error()+": ")
		if msg == err.Error() {
			msg = ""
		}
		return kerrText(ke, msg)
	}
	if msg := tlsProblem(err, seeds); msg != "" {
		return msg
	}
	if eof, ok := errors.AsType[*kgo.ErrFirstReadEOF](err); ok {
		return firstReadEOFText(eof, seeds)
	}
	if ne, ok := errors.AsType[*net.OpError](err); ok && ne.Op == "dial" {
		reason := ne.Err.Error()
		if ne.Timeout() {
			reason = "dial timed out"
		}
		return fmt.Sprintf("cannot reach a broker at %s: %s", seeds, strings.TrimPrefix(reason, "connect: "))
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrRecordTimeout) {
		return fmt.Sprintf("timed out after %s waiting for the cluster at %s (see --timeout)", timeout, seeds)
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	if strings.Contains(err.Error(), "broker is too old") {
		// franz-go's (unexported) error for an API the broker did not
		// list in ApiVersions.
		return "the broker does not support a request this command needs"
	}
	return oneLine(err.Error())
}

// firstReadEOFText explains a connection the broker closed at once, by
// franz-go's guess at the cause (its error's wording, the kind being
// unexported).
func firstReadEOFText(eof *kgo.ErrFirstReadEOF, seeds string) string {
	msg := eof.Error()
	switch {
	case strings.Contains(msg, "is TLS misconfigured"):
		return fmt.Sprintf("the broker at %s closed the connection during the TLS handshake (is it a listener without TLS? see security.protocol)", seeds)
	case strings.Contains(msg, "is TLS missing"):
		return fmt.Sprintf("the broker at %s closed the connection immediately (does its listener expect TLS? see security.protocol)", seeds)
	case strings.Contains(msg, "is SASL missing"):
		return fmt.Sprintf("the broker at %s closed the connection after the first request (does its listener require SASL? see security.protocol and sasl.mechanism)", seeds)
	}
	return fmt.Sprintf("the broker at %s closed the connection immediately (is it a Kafka listener expecting TLS or SASL?)", seeds)
}

// tlsProblem explains a failed TLS handshake, or returns "".
func tlsProblem(err error, seeds string) string {
	if _, ok := errors.AsType[tls.RecordHeaderError](err); ok {
		return fmt.Sprintf("the broker at %s did not answer TLS (is it a plaintext listener? see security.protocol)", seeds)
	}
	if he, ok := errors.AsType[x509.HostnameError](err); ok {
		return fmt.Sprintf("the TLS certificate of the broker at %s does not name it: %s (ssl.endpoint.identification.algorithm= skips the name check)", seeds, oneLine(he.Error()))
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return fmt.Sprintf("cannot verify the TLS certificate of the broker at %s: it is signed by an unknown authority (see ssl.truststore.location)", seeds)
	}
	if ce, ok := errors.AsType[x509.CertificateInvalidError](err); ok {
		return fmt.Sprintf("cannot verify the TLS certificate of the broker at %s: %s", seeds, oneLine(ce.Error()))
	}
	if ve, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return fmt.Sprintf("cannot verify the TLS certificate of the broker at %s: %s", seeds, oneLine(ve.Err.Error()))
	}
	return ""
}

// kerrText renders a Kafka error code as readable text, preferring the
// broker's own message when it sent one, and keeps the code name so the
// error can be looked up.
func kerrText(ke *kerr.Error, brokerMsg string) string {
	text := strings.TrimSpace(brokerMsg)
	if text == "" {
		text = strings.TrimSuffix(ke.Description, ".")
		if text != "" {
			text = strings.ToLower(text[:1]) + text[1:]
		}
	}
	return oneLine(text) + " (" + ke.Message + ")"
}

// explainKafka is explain for an error that came back inside a response,
// with the broker's optional error message.
func (f *clientFlags) explainKafka(cmd *cobra.Command, err error, brokerMsg string) string {
	if ke, ok := errors.AsType[*kerr.Error](err); ok {
		return kerrText(ke, brokerMsg)
	}
	return f.explain(cmd, err)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// lookupTopic returns a topic's metadata, or "topic X does not exist". While
// the topic reports a retriable error (a leader still being elected just
// after creation), it asks again until ctx ends.
func (f *clientFlags) lookupTopic(ctx context.Context, cmd *cobra.Command, adm *kadm.Client, topic string) (kadm.TopicDetail, error) {
	for {
		md, err := adm.Metadata(ctx, topic)
		if err != nil {
			return kadm.TopicDetail{}, fmt.Errorf("cannot look up topic %s: %s", topic, f.explain(cmd, err))
		}
		td, ok := md.Topics[topic]
		switch {
		case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
			return kadm.TopicDetail{}, fmt.Errorf("topic %s does not exist", topic)
		case td.Err == nil && len(td.Partitions) > 0 && partitionsReady(td):
			return td, nil
		case td.Err != nil && !kerr.IsRetriable(td.Err):
			return kadm.TopicDetail{}, fmt.Errorf("cannot look up topic %s: %s", topic, f.explain(cmd, td.Err))
		}
		select {
		case <-ctx.Done():
			if td.Err != nil {
				return kadm.TopicDetail{}, fmt.Errorf("cannot look up topic %s: %s", topic, f.explain(cmd, td.Err))
			}
			return td, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// partitionsReady reports whether every partition has a leader.
func partitionsReady(td kadm.TopicDetail) bool {
	for _, p := range td.Partitions {
		if p.Err != nil && kerr.IsRetriable(p.Err) {
			return false
		}
	}
	return true
}

// commandContext returns the command's context, or Background when the
// command was executed without one.
func commandContext(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// flagError rewrites pflag's parse errors ("strconv.ParseInt: parsing ...")
// into one line naming the flag and what it wants.
func flagError(_ *cobra.Command, err error) error {
	if ive, ok := errors.AsType[*pflag.InvalidValueError](err); ok {
		fl := ive.GetFlag()
		return fmt.Errorf("invalid value %q for --%s: want %s", ive.GetValue(), fl.Name, flagTypeWant(fl.Value.Type()))
	}
	return err
}

func flagTypeWant(typ string) string {
	switch typ {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "int32Slice", "intSlice", "int64Slice", "uintSlice":
		return "comma-separated integers"
	case "duration":
		return "a duration such as 500ms, 10s or 1m"
	case "bool":
		return "true or false"
	default:
		return "a valid " + typ
	}
}

// splitKeyValue splits "k=v" at the first '='. The key must not be empty; the
// value may be.
func splitKeyValue(s, what string) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", "", fmt.Errorf("invalid %s %q: want key=value", what, s)
	}
	return k, v, nil
}

// topicIDString renders a topic ID the way Kafka's tools do (URL-safe
// base64 without padding), or "-" for the all-zero ID.
func topicIDString(id kadm.TopicID) string {
	if id == (kadm.TopicID{}) {
		return "-"
	}
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// newTable returns a tab writer for aligned columns; call Flush when done.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// plural returns "1 record" or "N records".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
