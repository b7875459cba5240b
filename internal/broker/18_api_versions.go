package broker

import (
	"context"
	"regexp"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApiVersions, versions 0-4.
//
// Version notes:
//   - v1: throttle time
//   - v3: flexible versions (the response header stays v0); ClientSoftwareName
//     and ClientSoftwareVersion (KIP-511), INVALID_REQUEST if malformed; the
//     SupportedFeatures and FinalizedFeatures tags (KIP-584)
//   - v4: supported features may have MinVersion 0 (KAFKA-17011); Kafka
//     leaves such features out below v4 (KAFKA-17492), Samsa sends
//     group.version, share.version and transaction.version (min 0) at
//     v3 too
//   - a version above ours is answered by conn.go (KIP-511): v0,
//     UNSUPPORTED_VERSION and our ApiVersions range
func init() { register(int16(kmsg.ApiVersions), 0, 4, (*Broker).handleApiVersions) }

var clientSoftwareRe = regexp.MustCompile(`^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$`)

// metadataVersion is the finalized metadata.version feature level Samsa
// reports: 4.0-IV3, the Kafka 4.0 level.
const (
	metadataVersionMin = 7
	metadataVersion    = 25
	// transactionVersion is the finalized transaction.version level.
	transactionVersion = 2
	// shareVersion is the finalized share.version level.
	shareVersion = 1
)

func (b *Broker) handleApiVersions(_ context.Context, _ *conn, r *request) (kmsg.Response, error) {
	req := r.req.(*kmsg.ApiVersionsRequest)
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	if req.Version >= 3 && (!clientSoftwareRe.MatchString(req.ClientSoftwareName) || !clientSoftwareRe.MatchString(req.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
	}
	for _, a := range supportedAPIs() {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = a.key, a.min, a.max
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	if req.Version >= 3 {
		sf := kmsg.NewApiVersionsResponseSupportedFeature()
		sf.Name, sf.MinVersion, sf.MaxVersion = "metadata.version", metadataVersionMin, metadataVersion
		resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
		ff := kmsg.NewApiVersionsResponseFinalizedFeature()
		ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = "metadata.version", metadataVersion, metadataVersion
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
		// group.version 1: the KIP-848 consumer group protocol
		// (68_consumer_group_heartbeat.go), which clients check before
		// using it.
		gsf := kmsg.NewApiVersionsResponseSupportedFeature()
		gsf.Name, gsf.MinVersion, gsf.MaxVersion = "group.version", 0, 1
		resp.SupportedFeatures = append(resp.SupportedFeatures, gsf)
		gff := kmsg.NewApiVersionsResponseFinalizedFeature()
		gff.Name, gff.MinVersionLevel, gff.MaxVersionLevel = "group.version", 1, 1
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, gff)
		// share.version 1: KIP-932 share groups (76-79,
		// internal/share), finalized as Kafka 4.4 ships it.
		ssf := kmsg.NewApiVersionsResponseSupportedFeature()
		ssf.Name, ssf.MinVersion, ssf.MaxVersion = "share.version", 0, shareVersion
		resp.SupportedFeatures = append(resp.SupportedFeatures, ssf)
		sff := kmsg.NewApiVersionsResponseFinalizedFeature()
		sff.Name, sff.MinVersionLevel, sff.MaxVersionLevel = "share.version", shareVersion, shareVersion
		resp.FinalizedFeatures = append(resp.FinalizedFeatures, sff)
		if b.txns != nil {
			// transaction.version 2: KIP-890 part 2. Produce v12+
			// adds partitions to the transaction implicitly, TxnOffsetCommit
			// v5+ its offsets partition, and EndTxn v5+ bumps the epoch
			// (internal/txn). Clients check the finalized level before
			// using them.
			tsf := kmsg.NewApiVersionsResponseSupportedFeature()
			tsf.Name, tsf.MinVersion, tsf.MaxVersion = "transaction.version", 0, transactionVersion
			resp.SupportedFeatures = append(resp.SupportedFeatures, tsf)
			tff := kmsg.NewApiVersionsResponseFinalizedFeature()
			tff.Name, tff.MinVersionLevel, tff.MaxVersionLevel = "transaction.version", transactionVersion, transactionVersion
			resp.FinalizedFeatures = append(resp.FinalizedFeatures, tff)
		}
		resp.FinalizedFeaturesEpoch = b.image().Offset
	}
	return resp, nil
}
