package restproxy

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// v2 metadata: topics, partitions, their offsets and brokers.

// metaTimeout bounds one metadata request to the cluster.
const metaTimeout = 15 * time.Second

// kafkaError maps an error of a Kafka client to the v2 error codes:
// authentication 401/40101, authorization 403/40301, requests Kafka
// refuses as malformed 400/40002, an unknown topic or partition 404/40401,
// retriable errors (timeouts included) 500/50003 and the rest 500/50002.
func kafkaError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	code := kafkaErrorCode(err)
	status := http.StatusInternalServerError
	switch code {
	case 40101:
		status = http.StatusUnauthorized
	case 40301:
		status = http.StatusForbidden
	case 40002:
		status = http.StatusBadRequest
	case 40401:
		status = http.StatusNotFound
	}
	e := apiErr(status, code, "%v", err)
	e.cause = err
	return e
}

// kafkaErrorCode is kafkaError's error_code (also used per record in
// produce answers).
func kafkaErrorCode(err error) int {
	var ke *kerr.Error
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.IllegalSaslState),
		errors.Is(err, kerr.UnsupportedSaslMechanism):
		return 40101
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.GroupAuthorizationFailed),
		errors.Is(err, kerr.ClusterAuthorizationFailed), errors.Is(err, kerr.TransactionalIDAuthorizationFailed),
		errors.Is(err, kerr.DelegationTokenAuthorizationFailed):
		return 40301
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge), errors.Is(err, kerr.InvalidRecord),
		errors.Is(err, kerr.CorruptMessage), errors.Is(err, kerr.InvalidTopicException), errors.Is(err, kerr.PolicyViolation),
		errors.Is(err, kerr.InvalidRequest), errors.Is(err, kerr.InvalidConfig), errors.Is(err, kerr.InvalidTimestamp),
		errors.Is(err, kerr.InvalidRequiredAcks), errors.Is(err, kgo.ErrMaxBuffered):
		return 40002
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.UnknownTopicID):
		return 40401
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, kgo.ErrRecordTimeout),
		errors.Is(err, kgo.ErrRecordRetries), errors.As(err, &ke) && ke.Retriable:
		return 50003
	}
	return 50002
}

// metaCtx is a request's context bounded by metaTimeout.
func metaCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), metaTimeout)
}

// topicDetail describes one topic; a missing topic, or a name no Kafka
// topic can have (asked without touching the cluster), is notFound. A
// topic just created (LEADER_NOT_AVAILABLE) is waited for briefly.
func (s *Server) topicDetail(ctx context.Context, topic string, notFound *apiError) (kadm.TopicDetail, error) {
	if !validTopicName(topic) {
		return kadm.TopicDetail{}, notFound
	}
	var td kadm.TopicDetail
	err := retryTransient(ctx, func() error {
		tds, err := s.kadm(ctx).ListTopics(ctx, topic)
		if err != nil {
			return kafkaError(err)
		}
		var ok bool
		td, ok = tds[topic]
		if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) || errors.Is(td.Err, kerr.InvalidTopicException) {
			return notFound
		}
		if td.Err != nil {
			return kafkaError(td.Err)
		}
		return nil
	})
	return td, err
}

// v2Partition is a partition as v2 shows it.
type v2Partition struct {
	Partition int32       `json:"partition"`
	Leader    int32       `json:"leader"`
	Replicas  []v2Replica `json:"replicas"`
}

type v2Replica struct {
	Broker int32 `json:"broker"`
	Leader bool  `json:"leader"`
	InSync bool  `json:"in_sync"`
}

func toV2Partition(pd kadm.PartitionDetail) v2Partition {
	isr := map[int32]bool{}
	for _, b := range pd.ISR {
		isr[b] = true
	}
	p := v2Partition{Partition: pd.Partition, Leader: pd.Leader, Replicas: []v2Replica{}}
	for _, b := range pd.Replicas {
		p.Replicas = append(p.Replicas, v2Replica{Broker: b, Leader: b == pd.Leader, InSync: isr[b]})
	}
	return p
}

func sortedPartitions(td kadm.TopicDetail) []v2Partition {
	out := make([]v2Partition, 0, len(td.Partitions))
	for _, pd := range td.Partitions.Sorted() {
		out = append(out, toV2Partition(pd))
	}
	return out
}

// GET /topics: the names of the topics (internal ones left out).
func (s *Server) listTopics(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	ctx, cancel := metaCtx(r)
	defer cancel()
	tds, err := s.kadm(ctx).ListTopics(ctx)
	if err != nil {
		return kafkaError(err)
	}
	names := tds.Names()
	sort.Strings(names)
	if names == nil {
		names = []string{}
	}
	writeJSON(w, v2JSON, http.StatusOK, names)
	return nil
}

// GET /topics/{topic}: name, configs and partitions. An unknown topic is
// 40403, as Confluent answers it.
func (s *Server) getTopic(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	topic := r.PathValue("topic")
	ctx, cancel := metaCtx(r)
	defer cancel()
	td, err := s.topicDetail(ctx, topic, apiErr(http.StatusNotFound, 40403, "Topic %s not found.", topic))
	if err != nil {
		return err
	}
	rcs, err := s.kadm(ctx).DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return kafkaError(err)
	}
	configs := map[string]*string{}
	for _, rc := range rcs {
		if rc.Err != nil {
			return kafkaError(rc.Err)
		}
		for _, c := range rc.Configs {
			configs[c.Key] = c.Value
		}
	}
	writeJSON(w, v2JSON, http.StatusOK, map[string]any{
		"name": topic, "configs": configs, "partitions": sortedPartitions(td),
	})
	return nil
}

// GET /topics/{topic}/partitions.
func (s *Server) listPartitions(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	topic := r.PathValue("topic")
	ctx, cancel := metaCtx(r)
	defer cancel()
	td, err := s.topicDetail(ctx, topic, errTopicNotFound(topic))
	if err != nil {
		return err
	}
	writeJSON(w, v2JSON, http.StatusOK, sortedPartitions(td))
	return nil
}

// partitionDetail is one partition of a topic; unknown ones are 40401 or
// 40402.
func (s *Server) partitionDetail(r *http.Request) (kadm.PartitionDetail, error) {
	topic := r.PathValue("topic")
	p, err := pathPartition(r)
	if err != nil {
		return kadm.PartitionDetail{}, err
	}
	ctx, cancel := metaCtx(r)
	defer cancel()
	td, err := s.topicDetail(ctx, topic, errTopicNotFound(topic))
	if err != nil {
		return kadm.PartitionDetail{}, err
	}
	pd, ok := td.Partitions[p]
	if !ok {
		return kadm.PartitionDetail{}, errPartitionNotFound(p)
	}
	return pd, nil
}

// GET /topics/{topic}/partitions/{partition}.
func (s *Server) getPartition(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	pd, err := s.partitionDetail(r)
	if err != nil {
		return err
	}
	writeJSON(w, v2JSON, http.StatusOK, toV2Partition(pd))
	return nil
}

// GET /topics/{topic}/partitions/{partition}/offsets: beginning_offset and
// end_offset.
func (s *Server) partitionOffsets(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	pd, err := s.partitionDetail(r)
	if err != nil {
		return err
	}
	ctx, cancel := metaCtx(r)
	defer cancel()
	topic := r.PathValue("topic")
	start, err := s.kadm(ctx).ListStartOffsets(ctx, topic)
	if err != nil {
		return kafkaError(err)
	}
	end, err := s.kadm(ctx).ListEndOffsets(ctx, topic)
	if err != nil {
		return kafkaError(err)
	}
	so, ok1 := start.Lookup(topic, pd.Partition)
	eo, ok2 := end.Lookup(topic, pd.Partition)
	if !ok1 || !ok2 {
		return errPartitionNotFound(pd.Partition)
	}
	if so.Err != nil {
		return kafkaError(so.Err)
	}
	if eo.Err != nil {
		return kafkaError(eo.Err)
	}
	writeJSON(w, v2JSON, http.StatusOK, map[string]int64{"beginning_offset": so.Offset, "end_offset": eo.Offset})
	return nil
}

// GET /brokers: {"brokers":[ids]}.
func (s *Server) listBrokers(w http.ResponseWriter, r *http.Request, _ v2Request) error {
	ctx, cancel := metaCtx(r)
	defer cancel()
	bs, err := s.kadm(ctx).ListBrokers(ctx)
	if err != nil {
		return kafkaError(err)
	}
	ids := bs.NodeIDs()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if ids == nil {
		ids = []int32{}
	}
	writeJSON(w, v2JSON, http.StatusOK, map[string]any{"brokers": ids})
	return nil
}
