package metadata

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// imageVersion is the version byte EncodeImage writes first.
const imageVersion = 1

type imageWire struct {
	ClusterID      string                                `json:"cluster_id"`
	Offset         int64                                 `json:"offset"`
	NextProducerID int64                                 `json:"next_producer_id"`
	Topics         []*Topic                              `json:"topics"`
	Brokers        []*Broker                             `json:"brokers"`
	BrokerConfigs  map[int32]map[string]string           `json:"broker_configs"`
	Scram          map[string]map[string]ScramCredential `json:"scram,omitempty"`
	ACLs           []ACL                                 `json:"acls,omitempty"`
	Quotas         map[string]QuotaConfig                `json:"quotas,omitempty"`
}

// EncodeImage encodes im deterministically as [version u8][JSON]; topics
// are sorted by name and brokers by id. Equal images encode to equal bytes.
func EncodeImage(im *Image) ([]byte, error) {
	w := imageWire{
		ClusterID:      im.ClusterID,
		Offset:         im.Offset,
		NextProducerID: im.NextProducerID,
		Topics:         slices.SortedFunc(maps.Values(im.Topics), func(a, b *Topic) int { return cmp.Compare(a.Name, b.Name) }),
		Brokers:        slices.SortedFunc(maps.Values(im.Brokers), func(a, b *Broker) int { return cmp.Compare(a.ID, b.ID) }),
		BrokerConfigs:  im.BrokerConfigs,
		Scram:          im.Scram,
		ACLs:           slices.SortedFunc(maps.Values(im.ACLs), func(a, b ACL) int { return strings.Compare(a.ID.String(), b.ID.String()) }),
		Quotas:         im.Quotas,
	}
	body, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("metadata: encode image: %w", err)
	}
	return append([]byte{imageVersion}, body...), nil
}

// DecodeImage decodes EncodeImage's output and checks its consistency
// (unique valid names and ids, partition indexes, leaders in the ISR).
// It never panics; errors wrap ErrMalformed or ErrUnsupportedVersion.
func DecodeImage(b []byte) (*Image, error) {
	if len(b) < 1 {
		return nil, fmt.Errorf("%w: empty image", ErrMalformed)
	}
	if b[0] != imageVersion {
		return nil, fmt.Errorf("%w: image version %d, this build reads %d", ErrUnsupportedVersion, b[0], imageVersion)
	}
	var w imageWire
	if err := strictUnmarshal(b[1:], &w); err != nil {
		return nil, fmt.Errorf("%w: image: %v", ErrMalformed, err)
	}
	im := NewImage()
	im.ClusterID, im.Offset, im.NextProducerID = w.ClusterID, w.Offset, w.NextProducerID
	if im.Offset < 0 || im.NextProducerID < 0 {
		return nil, fmt.Errorf("%w: image offset %d, next producer id %d", ErrMalformed, im.Offset, im.NextProducerID)
	}
	for _, br := range w.Brokers {
		if br == nil || br.ID < 0 {
			return nil, fmt.Errorf("%w: image has an invalid broker", ErrMalformed)
		}
		if _, dup := im.Brokers[br.ID]; dup {
			return nil, fmt.Errorf("%w: image has broker %d twice", ErrMalformed, br.ID)
		}
		im.Brokers[br.ID] = br
	}
	im.Scram, im.Quotas = w.Scram, w.Quotas
	if len(w.ACLs) > 0 {
		im.ACLs = make(map[Uuid]ACL, len(w.ACLs))
		for _, a := range w.ACLs {
			if _, dup := im.ACLs[a.ID]; dup {
				return nil, fmt.Errorf("%w: image has ACL %s twice", ErrMalformed, a.ID)
			}
			im.ACLs[a.ID] = a
		}
	}
	if err := checkDecodedSecurity(im); err != nil {
		return nil, fmt.Errorf("%w: image: %v", ErrMalformed, err)
	}
	for id, cfg := range w.BrokerConfigs {
		if id < ClusterDefault || len(cfg) == 0 {
			return nil, fmt.Errorf("%w: image has invalid configs for broker %d", ErrMalformed, id)
		}
		im.BrokerConfigs[id] = cfg
	}
	for _, t := range w.Topics {
		if err := checkDecodedTopic(im, t); err != nil {
			return nil, fmt.Errorf("%w: image: %v", ErrMalformed, err)
		}
		if t.Configs == nil {
			t.Configs = map[string]string{}
		}
		im.Topics[t.Name] = t
		im.TopicsByID[t.ID] = t
	}
	return im, nil
}

func checkDecodedTopic(im *Image, t *Topic) error {
	if t == nil {
		return fmt.Errorf("null topic")
	}
	if err := validTopicName(t.Name); err != nil {
		return err
	}
	if t.ID.IsZero() {
		return fmt.Errorf("topic %q has a zero id", t.Name)
	}
	if _, dup := im.Topics[t.Name]; dup {
		return fmt.Errorf("topic %q appears twice", t.Name)
	}
	if _, dup := im.TopicsByID[t.ID]; dup {
		return fmt.Errorf("topic id %v appears twice", t.ID)
	}
	if len(t.Partitions) == 0 {
		return fmt.Errorf("topic %q has no partitions", t.Name)
	}
	for i, p := range t.Partitions {
		if p == nil || p.Index != int32(i) {
			return fmt.Errorf("topic %q partition %d is missing or misnumbered", t.Name, i)
		}
		if len(p.Replicas) == 0 || (p.Leader != NoLeader && !slices.Contains(p.ISR, p.Leader)) {
			return fmt.Errorf("topic %q partition %d has inconsistent replicas", t.Name, i)
		}
		p.Topic, p.TopicID = t.Name, t.ID
	}
	return nil
}
