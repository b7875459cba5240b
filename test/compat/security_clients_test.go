package compat

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	kgosasl "github.com/segmentio/kafka-go/sasl"
	kgoplain "github.com/segmentio/kafka-go/sasl/plain"
	kgoscram "github.com/segmentio/kafka-go/sasl/scram"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	xdgscram "github.com/xdg-go/scram"
)

// This file adapts each client to a secured listener: how it is told to use
// TLS and SASL, one round trip (produce, then consume as a group), and one
// produce attempt the broker must refuse.

const (
	mechSCRAM  = "SCRAM-SHA-512"
	mechPlain  = "PLAIN"
	mechOAuth  = "OAUTHBEARER"
	secRecords = 90
)

// secAuth is how a client authenticates to the secured listener.
type secAuth struct {
	name      string // subtest name
	protocol  string // SASL_SSL or SSL
	mechanism string // mechSCRAM, mechPlain, mechOAuth; "" on SSL
	user      string // SCRAM and PLAIN
	password  string
	// token, if set, makes the OAUTHBEARER token instead of the identity
	// provider (Go clients only: negative cases).
	token func(ctx context.Context) (string, error)
	// cert, if set, is the client certificate instead of the test CA's
	// (Go clients only); noCert sends none.
	cert   *tls.Certificate
	noCert bool
}

var (
	authSCRAM = secAuth{name: "scram-sha-512", protocol: "SASL_SSL", mechanism: mechSCRAM, user: scramUser, password: scramPassword}
	authOAuth = secAuth{name: "oauthbearer", protocol: "SASL_SSL", mechanism: mechOAuth}
	authPlain = secAuth{name: "plain", protocol: "SASL_SSL", mechanism: mechPlain, user: plainUser, password: plainPassword}
	authMTLS  = secAuth{name: "mtls", protocol: "SSL"}
)

// secResult is what one client's round trip produced and consumed.
type secResult struct {
	want []rec
	acks []produced // nil when the client reports no offsets (kcat)
	got  []consumed
	opts checkOpts
}

// secClient is one client family on a secured listener.
type secClient struct {
	name string
	// run produces secRecords records to topic, then consumes them as a
	// member of group, committing.
	run func(t *testing.T, env *secEnv, a secAuth, topic, group string) secResult
	// reject tries to produce to topic with a's (bad) credentials and
	// returns the error the client reported (nil: it was let in).
	reject func(t *testing.T, env *secEnv, a secAuth, topic string) error
}

func secClients() []secClient {
	return []secClient{
		{"franz-go", franzSecRun, franzSecReject},
		{"sarama", saramaSecRun, saramaSecReject},
		{"kafka-go", kafkaGoSecRun, kafkaGoSecReject},
		{"java", javaSecRun, javaSecReject},
		{"python", pythonSecRun, pythonSecReject},
		{"kcat", kcatSecRun, kcatSecReject},
	}
}

// tlsConfig is the Go clients' TLS: trust the test CA and, on the SSL
// listener, present the client certificate.
func (env *secEnv) tlsConfig(a secAuth) *tls.Config {
	c := &tls.Config{RootCAs: env.certs.Roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	switch {
	case a.protocol != "SSL" || a.noCert:
	case a.cert != nil:
		// Sent whatever CAs the broker names: Go would otherwise send no
		// certificate that is not from one of them.
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return a.cert, nil }
	default:
		c.Certificates = []tls.Certificate{env.certs.Client}
	}
	return c
}

// oauthToken returns a's token: from the identity provider's token
// endpoint unless a makes its own.
func (env *secEnv) oauthToken(ctx context.Context, a secAuth) (string, error) {
	if a.token != nil {
		return a.token(ctx)
	}
	return env.idp.fetchToken(ctx)
}

// --- franz-go ---

func kgoSecOpts(env *secEnv, a secAuth) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(env.addr), kgo.DialTLSConfig(env.tlsConfig(a))}
	var m sasl.Mechanism
	switch a.mechanism {
	case mechSCRAM:
		m = scram.Auth{User: a.user, Pass: a.password}.AsSha512Mechanism()
	case mechPlain:
		m = plain.Auth{User: a.user, Pass: a.password}.AsMechanism()
	case mechOAuth:
		m = oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
			tok, err := env.oauthToken(ctx, a)
			return oauth.Auth{Token: tok}, err
		})
	}
	if m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts
}

func franzSecRun(t *testing.T, env *secEnv, a secAuth, topic, group string) secResult {
	want := genRecords("franz-go-"+a.name, "none", secRecords)
	opts := kgoSecOpts(env, a)
	acks := produceKgo(t, env.node, topic, "none", want, opts...)
	got := consumeKgo(t, env.node, topic, len(want), group, opts...)
	return secResult{want: want, acks: acks, got: got}
}

func franzSecReject(t *testing.T, env *secEnv, a secAuth, topic string) error {
	opts := append(kgoSecOpts(env, a), kgo.RecordDeliveryTimeout(6*time.Second))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatalf("franz-go: new client: %v", err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("must not be stored")}).FirstErr()
}

// --- sarama ---

// xdgSCRAM is sarama's SCRAM client on github.com/xdg-go/scram (sarama
// ships none).
type xdgSCRAM struct {
	hash xdgscram.HashGeneratorFcn
	conv *xdgscram.ClientConversation
}

func (x *xdgSCRAM) Begin(user, password, authzID string) error {
	c, err := x.hash.NewClient(user, password, authzID)
	if err != nil {
		return fmt.Errorf("scram client: %w", err)
	}
	x.conv = c.NewConversation()
	return nil
}

func (x *xdgSCRAM) Step(challenge string) (string, error) { return x.conv.Step(challenge) }
func (x *xdgSCRAM) Done() bool                            { return x.conv.Done() }

// saramaTokens hands sarama OAUTHBEARER tokens.
type saramaTokens struct {
	env *secEnv
	a   secAuth
}

func (p saramaTokens) Token() (*sarama.AccessToken, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := p.env.oauthToken(ctx, p.a)
	if err != nil {
		return nil, err
	}
	return &sarama.AccessToken{Token: tok}, nil
}

func saramaSecConfig(env *secEnv, a secAuth) *sarama.Config {
	cfg := saramaConfig(sarama.DefaultVersion)
	cfg.Net.TLS.Enable = true
	cfg.Net.TLS.Config = env.tlsConfig(a)
	if a.mechanism == "" {
		return cfg
	}
	s := &cfg.Net.SASL
	s.Enable, s.Handshake, s.Version = true, true, sarama.SASLHandshakeV1
	s.User, s.Password = a.user, a.password
	switch a.mechanism {
	case mechSCRAM:
		s.Mechanism = sarama.SASLTypeSCRAMSHA512
		s.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &xdgSCRAM{hash: xdgscram.SHA512} }
	case mechPlain:
		s.Mechanism = sarama.SASLTypePlaintext
	case mechOAuth:
		s.Mechanism = sarama.SASLTypeOAuth
		s.TokenProvider = saramaTokens{env, a}
	}
	return cfg
}

func saramaSecRun(t *testing.T, env *secEnv, a secAuth, topic, group string) secResult {
	want := genRecords("sarama-"+a.name, "none", secRecords)
	cfg := saramaSecConfig(env, a)
	acks := produceSarama(t, env.addr, cfg, topic, want)
	got := consumeSaramaGroup(t, env.addr, cfg, topic, group, len(want))
	return secResult{want: want, acks: acks, got: got}
}

func saramaSecReject(t *testing.T, env *secEnv, a secAuth, topic string) error {
	cfg := saramaSecConfig(env, a)
	cfg.Metadata.Retry.Max = 1
	p, err := sarama.NewSyncProducer([]string{env.addr}, cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	_, _, err = p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder("must not be stored")})
	return err
}

// --- segmentio/kafka-go ---

// kafkaGoOAuth is OAUTHBEARER for kafka-go (which ships none): the RFC
// 7628 initial response carrying the bearer token.
type kafkaGoOAuth struct {
	env *secEnv
	a   secAuth
}

func (kafkaGoOAuth) Name() string { return mechOAuth }

func (m kafkaGoOAuth) Start(ctx context.Context) (kgosasl.StateMachine, []byte, error) {
	tok, err := m.env.oauthToken(ctx, m.a)
	if err != nil {
		return nil, nil, err
	}
	return m, []byte("n,,\x01auth=Bearer " + tok + "\x01\x01"), nil
}

func (kafkaGoOAuth) Next(_ context.Context, challenge []byte) (bool, []byte, error) {
	if len(challenge) > 0 { // an error report: RFC 7628 section 3.2.2
		return false, nil, fmt.Errorf("OAUTHBEARER: broker answered %s", challenge)
	}
	return true, nil, nil
}

func kafkaGoSecNet(t testing.TB, env *secEnv, a secAuth) kafkaGoNet {
	kn := kafkaGoNet{addr: env.addr, tls: env.tlsConfig(a)}
	switch a.mechanism {
	case mechSCRAM:
		m, err := kgoscram.Mechanism(kgoscram.SHA512, a.user, a.password)
		if err != nil {
			t.Fatalf("kafka-go: scram: %v", err)
		}
		kn.sasl = m
	case mechPlain:
		kn.sasl = kgoplain.Mechanism{Username: a.user, Password: a.password}
	case mechOAuth:
		kn.sasl = kafkaGoOAuth{env, a}
	}
	return kn
}

func kafkaGoSecRun(t *testing.T, env *secEnv, a secAuth, topic, group string) secResult {
	want := genRecords("kafka-go-"+a.name, "none", secRecords)
	kn := kafkaGoSecNet(t, env, a)
	acks := produceKafkaGo(t, kn, topic, "none", want)
	got := consumeKafkaGoGroup(t, kn, topic, group, len(want))
	return secResult{want: want, acks: acks, got: got}
}

func kafkaGoSecReject(t *testing.T, env *secEnv, a secAuth, topic string) error {
	kn := kafkaGoSecNet(t, env, a)
	transport := &kafka.Transport{ClientID: "samsa-compat-kafka-go", TLS: kn.tls, SASL: kn.sasl}
	defer transport.CloseIdleConnections()
	w := &kafka.Writer{Addr: kafka.TCP(kn.addr), Transport: transport, Topic: topic, MaxAttempts: 2}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := w.WriteMessages(ctx, kafka.Message{Value: []byte("must not be stored")})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return err
}

// --- drivers run as processes: Java, Python, kcat ---

// clientPropsEnv writes props as a properties file and returns the
// environment entry that points the Java and Python drivers at it.
func clientPropsEnv(t testing.TB, props [][2]string) []string {
	t.Helper()
	var b strings.Builder
	for _, kv := range props {
		b.WriteString(kv[0] + "=" + kv[1] + "\n")
	}
	path := filepath.Join(t.TempDir(), "client.properties")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"SAMSA_COMPAT_CLIENT_PROPS=" + path}
}

// javaProps are kafka-clients' settings for a.
func javaProps(env *secEnv, a secAuth) [][2]string {
	p := [][2]string{
		{"security.protocol", a.protocol},
		{"ssl.truststore.type", "PEM"},
		{"ssl.truststore.location", env.certs.CAFile},
	}
	switch a.mechanism {
	case mechSCRAM:
		p = append(p, [2]string{"sasl.mechanism", a.mechanism}, [2]string{"sasl.jaas.config", fmt.Sprintf(
			`org.apache.kafka.common.security.scram.ScramLoginModule required username="%s" password="%s";`, a.user, a.password)})
	case mechOAuth:
		p = append(p,
			[2]string{"sasl.mechanism", a.mechanism},
			[2]string{"sasl.jaas.config", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;"},
			[2]string{"sasl.login.callback.handler.class", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler"},
			[2]string{"sasl.oauthbearer.token.endpoint.url", env.idp.TokenURL()},
			[2]string{"sasl.oauthbearer.client.credentials.client.id", env.idp.clientID},
			[2]string{"sasl.oauthbearer.client.credentials.client.secret", env.idp.clientSecret},
			[2]string{"sasl.oauthbearer.scope", "kafka"})
	case "":
		p = append(p, [2]string{"ssl.keystore.type", "PEM"}, [2]string{"ssl.keystore.location", env.certs.ClientFile})
	}
	return p
}

// javaSecArgs are the JVM arguments: Kafka 4 reaches only the OAuth URLs
// that org.apache.kafka.sasl.oauthbearer.allowed.urls lists.
func javaSecArgs(env *secEnv, jar string) []string {
	var args []string
	if env.idp != nil {
		args = append(args, "-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls="+env.idp.TokenURL())
	}
	return append(args, "-jar", jar)
}

func javaSecRun(t *testing.T, env *secEnv, a secAuth, topic, group string) secResult {
	java, jar := javaCommand(t)
	penv := clientPropsEnv(t, javaProps(env, a))
	args := javaSecArgs(env, jar)
	want := genRecords("java-"+a.name, "none", secRecords)
	input := writeTSV(t, want)
	acks := runJSONLinesEnv[produced](t, penv, nil, java, slices.Concat(args, []string{"produce", env.addr, topic, "none", input})...)
	got := runJSONLinesEnv[consumed](t, penv, nil, java, slices.Concat(args, []string{"consume", env.addr, topic, fmt.Sprint(len(want)), group})...)
	return secResult{want: want, acks: acks, got: got}
}

func javaSecReject(t *testing.T, env *secEnv, a secAuth, topic string) error {
	java, jar := javaCommand(t)
	props := append(javaProps(env, a), [2]string{"max.block.ms", "20000"},
		[2]string{"request.timeout.ms", "15000"}, [2]string{"delivery.timeout.ms", "20000"})
	input := writeTSV(t, genRecords("java-rejected", "none", 1))
	return runRejected(t, clientPropsEnv(t, props), nil, java, slices.Concat(javaSecArgs(env, jar), []string{"produce", env.addr, topic, "none", input})...)
}

// rdkafkaProps are librdkafka's settings for a (Python confluent-kafka and
// kcat).
func rdkafkaProps(env *secEnv, a secAuth) [][2]string {
	p := [][2]string{{"security.protocol", a.protocol}, {"ssl.ca.location", env.certs.CAFile}}
	switch a.mechanism {
	case mechSCRAM, mechPlain:
		p = append(p, [2]string{"sasl.mechanisms", a.mechanism}, [2]string{"sasl.username", a.user}, [2]string{"sasl.password", a.password})
	case mechOAuth:
		p = append(p,
			[2]string{"sasl.mechanisms", a.mechanism},
			[2]string{"sasl.oauthbearer.method", "oidc"},
			[2]string{"sasl.oauthbearer.client.id", env.idp.clientID},
			[2]string{"sasl.oauthbearer.client.secret", env.idp.clientSecret},
			[2]string{"sasl.oauthbearer.token.endpoint.url", env.idp.TokenURL()},
			[2]string{"sasl.oauthbearer.scope", "kafka"})
	case "":
		p = append(p, [2]string{"ssl.certificate.location", env.certs.ClientCertFile}, [2]string{"ssl.key.location", env.certs.ClientKeyFile})
	}
	return p
}

func pythonSecRun(t *testing.T, env *secEnv, a secAuth, topic, group string) secResult {
	python, script := pythonCommand(t)
	penv := clientPropsEnv(t, rdkafkaProps(env, a))
	want := genRecords("python-"+a.name, "none", secRecords)
	input := writeTSV(t, want)
	acks := runJSONLinesEnv[produced](t, penv, nil, python, script, "produce", env.addr, topic, "none", input)
	got := runJSONLinesEnv[consumed](t, penv, nil, python, script, "consume", env.addr, topic, fmt.Sprint(len(want)), group)
	return secResult{want: want, acks: acks, got: got}
}

func pythonSecReject(t *testing.T, env *secEnv, a secAuth, topic string) error {
	python, script := pythonCommand(t)
	props := append(rdkafkaProps(env, a), [2]string{"message.timeout.ms", "6000"})
	input := writeTSV(t, genRecords("python-rejected", "none", 1))
	return runRejected(t, clientPropsEnv(t, props), nil, python, script, "produce", env.addr, topic, "none", input)
}

// kcatX turns props into kcat's -X arguments.
func kcatX(props [][2]string) []string {
	var args []string
	for _, kv := range props {
		args = append(args, "-X", kv[0]+"="+kv[1])
	}
	return args
}

// kcatSecRun produces with kcat -P (headers per run, timestamps set by
// librdkafka, as in TestKcat) and consumes with kcat -G (a balanced
// consumer group) until every assigned partition reaches its end.
func kcatSecRun(t *testing.T, env *secEnv, a secAuth, topic, group string) secResult {
	kcat := kcatPath(t)
	want := genRecords("kcat-"+a.name, "none", secRecords)
	headers := [][2]string{{"client", "kcat"}, {"auth", a.name}}
	var stdin strings.Builder
	for i := range want {
		want[i].Headers, want[i].Timestamp = headers, 0
		stdin.WriteString(want[i].Key + "\t" + want[i].Value + "\n")
	}
	secure := slices.Concat([]string{"-b", env.addr}, kcatX(rdkafkaProps(env, a)))
	args := slices.Concat(secure, []string{"-t", topic, "-P", "-K", "\t", "-X", "partitioner=murmur2_random", "-X", "acks=all"})
	for _, h := range headers {
		args = append(args, "-H", h[0]+"="+h[1])
	}
	from := time.Now().UnixMilli()
	runJSONLines[json.RawMessage](t, []byte(stdin.String()), kcat, args...)
	to := time.Now().UnixMilli()
	args = slices.Concat(secure, []string{"-X", "auto.offset.reset=earliest", "-e", "-J", "-q", "-G", group, topic})
	recs := runJSONLines[kcatRecord](t, nil, kcat, args...)
	got := make([]consumed, len(recs))
	for i, r := range recs {
		got[i] = r.consumed(t)
	}
	return secResult{want: want, got: got, opts: checkOpts{tsFrom: from, tsTo: to}}
}

func kcatSecReject(t *testing.T, env *secEnv, a secAuth, topic string) error {
	kcat := kcatPath(t)
	args := slices.Concat([]string{"-b", env.addr}, kcatX(rdkafkaProps(env, a)),
		[]string{"-t", topic, "-P", "-X", "message.timeout.ms=10000"})
	return runRejected(t, nil, []byte("must not be stored\n"), kcat, args...)
}

// runRejected runs a driver that must fail and returns its failure with
// its stderr; nil if it exited 0.
func runRejected(t testing.TB, env []string, stdin []byte, name string, args ...string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("run %s: %v", name, err)
	}
	return fmt.Errorf("%s: %w; stdout: %s; stderr: %s", filepath.Base(name), err, tail(stdout.String(), 2000), tail(stderr.String(), 6000))
}
