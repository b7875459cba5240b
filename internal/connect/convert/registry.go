package convert

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/samsa-streaming/samsa/connect"
	"github.com/samsa-streaming/samsa/serde/wire"
)

// Confluent serializer settings (AbstractKafkaSchemaSerDeConfig's names).
const (
	SchemaRegistryURLConfig    = "schema.registry.url"
	BasicAuthSourceConfig      = "basic.auth.credentials.source"
	BasicAuthUserInfoConfig    = "basic.auth.user.info"
	AutoRegisterConfig         = "auto.register.schemas"
	UseLatestVersionConfig     = "use.latest.version"
	KeySubjectStrategyConfig   = "key.subject.name.strategy"
	ValueSubjectStrategyConfig = "value.subject.name.strategy"
	NormalizeSchemasConfig     = "normalize.schemas"
)

// Subject name strategies (io.confluent.kafka.serializers.subject.*).
const (
	TopicNameStrategy       = "io.confluent.kafka.serializers.subject.TopicNameStrategy"
	RecordNameStrategy      = "io.confluent.kafka.serializers.subject.RecordNameStrategy"
	TopicRecordNameStrategy = "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy"
)

// RegistryConfig is the typed configuration the three registry
// converters share.
type RegistryConfig struct {
	URLs             []string
	User, Password   string
	AutoRegister     bool
	UseLatestVersion bool
	Normalize        bool
	SubjectStrategy  string
	IsKey            bool
	// Timeout bounds each registry request.
	Timeout time.Duration
	// CacheSize bounds each schema cache (Confluent's schemas.cache.config).
	CacheSize int
}

// Defaults returns Confluent's defaults.
func (RegistryConfig) Defaults() RegistryConfig {
	return RegistryConfig{AutoRegister: true, SubjectStrategy: TopicNameStrategy, Timeout: 30 * time.Second, CacheSize: 1000}
}

// Validate checks the configuration.
func (c RegistryConfig) Validate() error {
	if len(c.URLs) == 0 {
		return fmt.Errorf("convert: Missing required configuration \"%s\" which has no default value.", SchemaRegistryURLConfig)
	}
	switch c.SubjectStrategy {
	case TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy:
	default:
		return fmt.Errorf("convert: unsupported subject name strategy %q", c.SubjectStrategy)
	}
	if c.Timeout <= 0 || c.CacheSize <= 0 {
		return errors.New("convert: registry timeout and cache size must be positive")
	}
	return nil
}

// RegistryConfigDef describes the settings.
func RegistryConfigDef() *connect.ConfigDef {
	return connect.NewConfigDef().
		Define(connect.ConfigKey{Name: SchemaRegistryURLConfig, Type: connect.TypeList, Required: true, Importance: connect.High,
			Documentation: "Comma-separated list of URLs for Schema Registry instances that can be used to register or look up schemas."}).
		Define(connect.ConfigKey{Name: BasicAuthSourceConfig, Type: connect.TypeString, Default: "URL", Importance: connect.Medium,
			Validator:     connect.InList(false, "URL", "USER_INFO", "SASL_INHERIT"),
			Documentation: "Specify how to pick the credentials for the Basic Auth header. The supported values are URL, USER_INFO and SASL_INHERIT"}).
		Define(connect.ConfigKey{Name: BasicAuthUserInfoConfig, Type: connect.TypePassword, Importance: connect.Medium,
			Documentation: "Specify the user info for the Basic Auth in the form of {username}:{password}"}).
		Define(connect.ConfigKey{Name: AutoRegisterConfig, Type: connect.TypeBoolean, Default: "true", Importance: connect.Medium,
			Documentation: "Specify if the Serializer should attempt to register the Schema with Schema Registry"}).
		Define(connect.ConfigKey{Name: UseLatestVersionConfig, Type: connect.TypeBoolean, Default: "false", Importance: connect.Low,
			Documentation: "Specify if the Serializer should use the latest subject version for serialization"}).
		Define(connect.ConfigKey{Name: NormalizeSchemasConfig, Type: connect.TypeBoolean, Default: "false", Importance: connect.Low,
			Documentation: "Whether to normalize schemas, which generally ignores ordering when it is not significant"}).
		Define(connect.ConfigKey{Name: KeySubjectStrategyConfig, Type: connect.TypeClass, Default: TopicNameStrategy, Importance: connect.Medium,
			Documentation: "Determines how to construct the subject name under which the key schema is registered with the schema registry."}).
		Define(connect.ConfigKey{Name: ValueSubjectStrategyConfig, Type: connect.TypeClass, Default: TopicNameStrategy, Importance: connect.Medium,
			Documentation: "Determines how to construct the subject name under which the value schema is registered with the schema registry."})
}

// parseRegistryConfig reads props as Confluent's converters do
// (schema.registry.basic.auth.user.info is accepted too).
func parseRegistryConfig(props map[string]string, isKey bool) (RegistryConfig, error) {
	p := make(map[string]string, len(props))
	for k, v := range props {
		p[k] = v
	}
	if v, ok := p["schema.registry.basic.auth.user.info"]; ok {
		if _, set := p[BasicAuthUserInfoConfig]; !set {
			p[BasicAuthUserInfoConfig] = v
		}
	}
	parsed, err := RegistryConfigDef().Parse(p)
	if err != nil {
		return RegistryConfig{}, fmt.Errorf("convert: %w", err)
	}
	c := RegistryConfig{}.Defaults()
	c.IsKey = isKey
	c.URLs = parsed[SchemaRegistryURLConfig].([]string)
	c.AutoRegister = parsed[AutoRegisterConfig].(bool)
	c.UseLatestVersion = parsed[UseLatestVersionConfig].(bool)
	c.Normalize = parsed[NormalizeSchemasConfig].(bool)
	c.SubjectStrategy = parsed[ValueSubjectStrategyConfig].(string)
	if isKey {
		c.SubjectStrategy = parsed[KeySubjectStrategyConfig].(string)
	}
	if !strings.Contains(c.SubjectStrategy, ".") {
		c.SubjectStrategy = "io.confluent.kafka.serializers.subject." + c.SubjectStrategy
	}
	switch parsed[BasicAuthSourceConfig].(string) {
	case "USER_INFO":
		info, _ := parsed[BasicAuthUserInfoConfig].(string)
		c.User, c.Password, _ = strings.Cut(info, ":")
	case "URL":
		for i, raw := range c.URLs {
			u, err := url.Parse(raw)
			if err != nil {
				return RegistryConfig{}, fmt.Errorf("convert: %s: %w", SchemaRegistryURLConfig, err)
			}
			if u.User != nil {
				c.User = u.User.Username()
				c.Password, _ = u.User.Password()
				u.User = nil
				c.URLs[i] = u.String()
			}
		}
	}
	return c, c.Validate()
}

// registryClient is the registry side every registry converter shares:
// the franz-go client, the subject naming and bounded caches of parsed
// schemas by id and of ids by schema text.
type registryClient struct {
	cfg RegistryConfig
	cl  *sr.Client

	mu     sync.Mutex
	byID   map[int]any    // id → the format's parsed schema
	ids    map[string]int // subject + "\x00" + schema text → id
	latest map[string]sr.SubjectSchema
	// writers caches what FromConnect derives from a Connect schema (the
	// format's schema text, name and parsed form), keyed by the schema
	// pointer: tasks reuse their schemas.
	writers map[*connect.Schema]any
}

// writer returns build's result for s, cached.
func (r *registryClient) writer(s *connect.Schema, build func() (any, error)) (any, error) {
	r.mu.Lock()
	w, ok := r.writers[s]
	r.mu.Unlock()
	if ok {
		return w, nil
	}
	w, err := build()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if len(r.writers) >= r.cfg.CacheSize {
		r.writers = map[*connect.Schema]any{}
	}
	r.writers[s] = w
	r.mu.Unlock()
	return w, nil
}

func newRegistryClient(cfg RegistryConfig) (*registryClient, error) {
	opts := []sr.ClientOpt{sr.URLs(cfg.URLs...), sr.UserAgent("samsa-connect"), sr.HTTPClient(&http.Client{Timeout: cfg.Timeout})}
	if cfg.User != "" || cfg.Password != "" {
		opts = append(opts, sr.BasicAuth(cfg.User, cfg.Password))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("convert: schema registry client: %w", err)
	}
	return &registryClient{cfg: cfg, cl: cl, byID: map[int]any{}, ids: map[string]int{}, latest: map[string]sr.SubjectSchema{},
		writers: map[*connect.Schema]any{}}, nil
}

func (r *registryClient) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), r.cfg.Timeout)
}

// subject names the subject for topic and a record (message, title) name.
func (r *registryClient) subject(topic, recordName string) (string, error) {
	suffix := "-value"
	if r.cfg.IsKey {
		suffix = "-key"
	}
	switch r.cfg.SubjectStrategy {
	case RecordNameStrategy, TopicRecordNameStrategy:
		if recordName == "" {
			return "", dataErr("In configuration " + r.strategyConfig() + " = " + r.cfg.SubjectStrategy + ", the message value must only be a record schema")
		}
		if r.cfg.SubjectStrategy == RecordNameStrategy {
			return recordName, nil
		}
		return topic + "-" + recordName, nil
	}
	return topic + suffix, nil
}

func (r *registryClient) strategyConfig() string {
	if r.cfg.IsKey {
		return KeySubjectStrategyConfig
	}
	return ValueSubjectStrategyConfig
}

// idFor returns the id to write schema under subject with: registered
// (auto.register.schemas), the subject's latest (use.latest.version) or
// looked up. latest is set when the latest version's text was used.
func (r *registryClient) idFor(subject string, s sr.Schema) (id int, latest *sr.SubjectSchema, err error) {
	if r.cfg.UseLatestVersion && !r.cfg.AutoRegister {
		ss, err := r.latestSchema(subject)
		if err != nil {
			return 0, nil, err
		}
		return ss.ID, &ss, nil
	}
	key := subject + "\x00" + string(s.Type.String()) + "\x00" + s.Schema
	r.mu.Lock()
	id, ok := r.ids[key]
	r.mu.Unlock()
	if ok {
		return id, nil, nil
	}
	ctx, cancel := r.ctx()
	defer cancel()
	var ss sr.SubjectSchema
	if r.cfg.AutoRegister {
		if r.cfg.Normalize {
			ctx = sr.WithParams(ctx, sr.Normalize)
		}
		ss, err = r.cl.CreateSchema(ctx, subject, s)
	} else {
		ss, err = r.cl.LookupSchema(ctx, subject, s)
	}
	if err != nil {
		what := "registering"
		if !r.cfg.AutoRegister {
			what = "retrieving"
		}
		return 0, nil, dataErrCause(fmt.Sprintf("Failed to serialize data: error %s schema under subject %s:", what, subject), err)
	}
	r.mu.Lock()
	if len(r.ids) >= r.cfg.CacheSize {
		r.ids = map[string]int{}
	}
	r.ids[key] = ss.ID
	r.mu.Unlock()
	return ss.ID, nil, nil
}

func (r *registryClient) latestSchema(subject string) (sr.SubjectSchema, error) {
	r.mu.Lock()
	ss, ok := r.latest[subject]
	r.mu.Unlock()
	if ok {
		return ss, nil
	}
	ctx, cancel := r.ctx()
	defer cancel()
	ss, err := r.cl.SchemaByVersion(ctx, subject, -1)
	if err != nil {
		return sr.SubjectSchema{}, dataErrCause("Failed to serialize data: error retrieving latest version of subject "+subject+":", err)
	}
	r.mu.Lock()
	if len(r.latest) >= r.cfg.CacheSize {
		r.latest = map[string]sr.SubjectSchema{}
	}
	r.latest[subject] = ss
	r.mu.Unlock()
	return ss, nil
}

// parsed returns the schema with id, parsed by parse and cached.
func (r *registryClient) parsed(id int, parse func(s sr.Schema) (any, error)) (any, error) {
	r.mu.Lock()
	p, ok := r.byID[id]
	r.mu.Unlock()
	if ok {
		return p, nil
	}
	ctx, cancel := r.ctx()
	defer cancel()
	s, err := r.cl.SchemaByID(ctx, id)
	if err != nil {
		return nil, dataErrCause(fmt.Sprintf("Failed to deserialize data: error retrieving schema with id %d:", id), err)
	}
	if p, err = parse(s); err != nil {
		return nil, err
	}
	r.mu.Lock()
	if len(r.byID) >= r.cfg.CacheSize {
		r.byID = map[int]any{}
	}
	r.byID[id] = p
	r.mu.Unlock()
	return p, nil
}

// references fetches the texts of s's references (depth first, each
// once), for formats that parse them before s.
func (r *registryClient) references(s sr.Schema, seen map[string]bool, out *[]namedText, depth int) error {
	if depth > 32 {
		return dataErr("Failed to deserialize data: schema references nest too deeply")
	}
	for _, ref := range s.References {
		if seen[ref.Name] {
			continue
		}
		seen[ref.Name] = true
		ctx, cancel := r.ctx()
		ss, err := r.cl.SchemaByVersion(ctx, ref.Subject, ref.Version)
		cancel()
		if err != nil {
			return dataErrCause("Failed to deserialize data: error retrieving reference "+ref.Name+":", err)
		}
		if err := r.references(ss.Schema, seen, out, depth+1); err != nil {
			return err
		}
		*out = append(*out, namedText{name: ref.Name, text: ss.Schema.Schema})
	}
	return nil
}

type namedText struct{ name, text string }

// frame returns the Confluent framing of payload for id (and Protobuf
// message indexes when idx is not nil).
func frame(id int, idx []int, payload []byte) []byte {
	b := wire.AppendHeader(make([]byte, 0, 5+len(payload)+4), int32(id))
	if idx != nil {
		b = wire.AppendProtoIndexes(b, idx)
	}
	return append(b, payload...)
}

// unframe splits data (or the schema id header) into schema id and
// payload, with Protobuf message indexes when proto is set.
func unframe(data []byte, headers []connect.Header, isKey, proto bool) (id int, idx []int, payload []byte, err error) {
	var rh []wire.RecordHeader
	name := wire.SchemaIDHeaderName(isKey)
	for _, h := range headers {
		if h.Key != name {
			continue
		}
		if b, ok := h.Value.([]byte); ok {
			rh = append(rh, wire.RecordHeader{Key: h.Key, Value: b})
		}
	}
	f, err := wire.Split(data, rh, isKey)
	if err != nil {
		return 0, nil, nil, dataErrCause("Failed to deserialize data: unknown magic byte or short data:", err)
	}
	if f.Header.IsGUID() {
		return 0, nil, nil, dataErr("Failed to deserialize data: schema GUIDs are not supported by this converter")
	}
	payload = f.Payload
	if proto {
		if idx, payload, err = f.ProtoIndexes(); err != nil {
			return 0, nil, nil, dataErrCause("Failed to deserialize data: bad message indexes:", err)
		}
	}
	return int(f.Header.ID), idx, payload, nil
}
