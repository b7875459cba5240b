package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"context"
	"github.com/samsa-streaming/samsa/internal/acl"
	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
	"github.com/samsa-streaming/samsa/internal/group"
	"github.com/samsa-streaming/samsa/internal/metadata"
	"github.com/samsa-streaming/samsa/internal/metrics"
	"github.com/samsa-streaming/samsa/internal/partition"
	"github.com/samsa-streaming/samsa/internal/protocol"
	"github.com/samsa-streaming/samsa/internal/quota"
	"github.com/samsa-streaming/samsa/internal/replication"
	"github.com/samsa-streaming/samsa/internal/share"
	"github.com/samsa-streaming/samsa/internal/txn"
)

// Clock tells the time.
type Clock interface{ Now() time.Time }

// Config configures a Broker.
type Config struct {
	NodeID int32
	// Advertised is the host:port clients are told to connect to.
	Advertised string
	Settings   *config.Broker
	Logger     *slog.Logger
	Clock      Clock
	// MaxFetchSessions bounds KIP-227 fetch sessions (Kafka's
	// max.incremental.fetch.session.cache.slots).
	MaxFetchSessions int
	// ACL, when set, turns authorization on (authorizer.class.name):
	// super.users and allow.everyone.if.no.acl.found.
	ACL *acl.Config
	// SeparateInterBroker: followers and peers use a listener of their
	// own (--replication-listen, or inter.broker.listener.name naming
	// another listener than the first), so the inter-broker requests
	// (replica Fetch, OffsetForLeaderEpoch from a replica,
	// WriteTxnMarkers) are refused on the other listeners unless the
	// principal has ClusterAction under an authorizer.
	SeparateInterBroker bool
	// InterBrokerDial connects to other brokers' inter-broker listeners
	// (transaction markers, verification); nil: plain TCP.
	InterBrokerDial func(ctx context.Context, addr string) (net.Conn, error)
	// Quota sizes the client-quota windows (quota.window.num, …); zero:
	// Kafka's defaults.
	Quota quota.Config
	// Metrics, when set, is where requests and traffic are recorded
	// (metrics.go); nil: not recorded.
	Metrics *metrics.Broker
	// ShareStates is the share coordinator (__share_group_state) share
	// partitions persist through; nil: in memory only.
	ShareStates *share.Coordinator
	// SchemaValidator checks the records produced to topics with
	// samsa.schema.validation on (schema_validation.go); nil: none yet,
	// and such topics refuse every batch until SetSchemaValidator
	// installs one.
	SchemaValidator SchemaValidator
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.Settings == nil || c.Logger == nil || c.Clock == nil {
		return errors.New("broker: Settings, Logger and Clock are required")
	}
	if _, _, err := net.SplitHostPort(c.Advertised); err != nil {
		return fmt.Errorf("broker: advertised address %q: %w", c.Advertised, err)
	}
	if c.MaxFetchSessions <= 0 {
		c.MaxFetchSessions = 1000
	}
	return nil
}

// Broker serves the Kafka protocol.
type Broker struct {
	cfg     Config
	lg      *slog.Logger
	metrics *metrics.Broker // nil: off
	ctl     *controller.Controller
	parts   *partition.Manager
	host    string
	port    int32

	sessions *fetchSessions
	// replThrottle meters bytes sent to throttled follower replicas.
	replThrottle replication.Throttle
	txnVerify    txnVerifier // nil until the transaction coordinator is wired
	pids         *pidBlock

	// schemaValidator checks samsa.schema.validation topics' records
	// (schema_validation.go); nil: none installed.
	schemaValidator atomic.Pointer[schemaValidatorBox]

	// groups is the group coordinator (group_wiring.go); offsetsMu
	// serialises creating __consumer_offsets.
	groups    *group.Coordinator
	offsetsMu sync.Mutex

	// txns is the transaction coordinator (txn_wiring.go); txnTopicMu
	// serialises creating
	// __transaction_state.
	txns       *txn.Coordinator
	txnTopicMu sync.Mutex

	// shares holds share groups, share sessions and share partitions
	// (KIP-932; share_wiring.go).
	shares *share.Manager
	// shareStates persists share partitions (nil: in memory only);
	// shareStateMu serialises creating __share_group_state.
	shareStates  *share.Coordinator
	shareStateMu sync.Mutex

	// authz checks ACLs (authz.go); nil without an authorizer.
	authz *authorizer
	// quotas measures clients against their quotas (quotas.go).
	quotas *quotas

	// Connections (listen.go): limits from the settings, the broker-wide
	// request byte budget and the pool of large request buffers.
	limits connLimits
	budget *protocol.Budget // nil when queued.max.request.bytes is -1
	bufs   *protocol.BufferPool
	trim   memTrim

	connMu  sync.Mutex
	conns   map[*conn]struct{}
	perIP   map[string]int
	connWG  sync.WaitGroup
	closed  bool
	refused refusalLog
}

// New returns a broker over a controller, a partition manager, a group
// coordinator and a transaction coordinator, all required.
func New(cfg Config, ctl *controller.Controller, parts *partition.Manager, groups *group.Coordinator, txns *txn.Coordinator) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ctl == nil || parts == nil || groups == nil || txns == nil {
		return nil, errors.New("broker: a controller, partition manager, group coordinator and transaction coordinator are required")
	}
	host, ps, _ := net.SplitHostPort(cfg.Advertised)
	port, err := strconv.Atoi(ps)
	if err != nil {
		return nil, fmt.Errorf("broker: advertised port %q: %w", ps, err)
	}
	b := &Broker{
		cfg: cfg, lg: cfg.Logger, metrics: cfg.Metrics, ctl: ctl, parts: parts, groups: groups, txns: txns,
		host: host, port: int32(port),
		sessions: newFetchSessions(cfg.MaxFetchSessions),
		pids:     &pidBlock{},
		conns:    make(map[*conn]struct{}),
		perIP:    make(map[string]int),
		bufs:     protocol.NewBufferPool(bufferPoolBytes),
	}
	if b.limits, err = newConnLimits(cfg.Settings); err != nil {
		return nil, err
	}
	if q := cfg.Settings.QueuedMaxRequestBytes; q > 0 {
		b.budget, _ = protocol.NewBudget(q)
		// Recompression buffers come out of the same budget.
		parts.SetRecompressBudget(b.budget, 0)
	}
	if cfg.Quota == (quota.Config{}) {
		cfg.Quota = quota.Config{}.Defaults()
	}
	qm, err := quota.NewManager(cfg.Quota, cfg.Clock)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	b.quotas = &quotas{m: qm}
	if cfg.ACL != nil {
		if err := cfg.ACL.Validate(); err != nil {
			return nil, fmt.Errorf("broker: %w", err)
		}
		b.authz = &authorizer{cfg: *cfg.ACL, lg: b.lg.Error}
	}
	shareCfg, err := share.ConfigFrom(cfg.Settings)
	if err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	if b.shares, err = share.NewManager(shareCfg, cfg.Clock, b.lg); err != nil {
		return nil, fmt.Errorf("broker: %w", err)
	}
	b.shareStates = cfg.ShareStates
	b.SetSchemaValidator(cfg.SchemaValidator)
	b.wireTxn()
	return b, nil
}

func (b *Broker) image() *metadata.Image { return b.ctl.Image() }

func (b *Broker) settings() *config.Broker { return b.cfg.Settings }

func (b *Broker) now() time.Time { return b.cfg.Clock.Now() }
