package acl

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
)

// NameSource says where a check's resource name comes from in a request.
type NameSource string

// The name sources.
const (
	NameCluster             NameSource = "kafka-cluster"
	NameAnyTopic            NameSource = "any topic (Set.AuthorizeAny)"
	NameEachTopic           NameSource = "each topic in the request"
	NameEachResponseTopic   NameSource = "each topic the response would hold"
	NameEachCreatedTopic    NameSource = "each topic to create"
	NameEachSubscribedTopic NameSource = "each subscribed topic name"
	NameEachAssignedTopic   NameSource = "each topic in the group's member assignments"
	NameGroupID             NameSource = "the request's group id"
	NameEachGroup           NameSource = "each group in the request"
	NameEachResponseGroup   NameSource = "each group the response would hold"
	NameTransactionalID     NameSource = "the request's transactional id"
	NameEachTransactionalID NameSource = "each transactional id in the request"
	NameEachResponseTxnID   NameSource = "each transactional id the response would hold"
	NameEachCoordinatorKey  NameSource = "each coordinator key"
	NameEachConfigResource  NameSource = "each config resource's name"
	NameTokenOwner          NameSource = "the token owner's principal name"
	NameEachTokenID         NameSource = "each token's id"
	NameEachTokenOwner      NameSource = "each token owner's principal name"
)

// Effect is how Kafka answers when a requirement is not met.
type Effect uint8

// The effects.
const (
	// FailRequest: the request is not served; its top-level error, or
	// every item's error where it has none, is Denied.
	FailRequest Effect = iota + 1
	// FailEach: each item whose check fails gets Denied; the others are
	// served.
	FailEach
	// FailAllNotAttempted: any item failing fails the request: failing
	// items get Denied, the others OPERATION_NOT_ATTEMPTED.
	FailAllNotAttempted
	// Omit: items failing the check are left out of the response, with no
	// error.
	Omit
	// ZeroOperations: the response's *AuthorizedOperations field is 0;
	// when allowed it is Set.AuthorizedOperations of the resource.
	ZeroOperations
)

// Check is one authorization: Operation on the resource of type Resource
// whose name comes from Name.
type Check struct {
	Operation Operation
	Resource  ResourceType
	Name      NameSource
}

// Requirement is what one part of a request needs: one of AnyOf allowed
// (usually one check), for the versions MinVersion..MaxVersion (MaxVersion
// -1: no upper bound) and when When holds ("" always). Denied is the code
// answered as Effect says (nil for Omit and ZeroOperations).
type Requirement struct {
	AnyOf      []Check
	When       string
	MinVersion int16
	MaxVersion int16
	Effect     Effect
	Denied     *kerr.Error
	Note       string
}

// API is one Kafka API's authorization requirements, in the order
// KafkaApis checks them.
type API struct {
	Key          int16
	Name         string
	Requirements []Requirement
}

// Required returns the requirements of API key apiKey at version, and
// whether the key is known. A known API with no requirements (ApiVersions,
// SaslHandshake, …) returns an empty list.
func Required(apiKey, version int16) ([]Requirement, bool) {
	a, ok := Lookup(apiKey)
	if !ok {
		return nil, false
	}
	out := []Requirement{}
	for _, r := range a.Requirements {
		if version >= r.MinVersion && (r.MaxVersion < 0 || version <= r.MaxVersion) {
			out = append(out, r)
		}
	}
	return out, true
}

// Lookup returns the table row of apiKey (all versions), a copy.
func Lookup(apiKey int16) (API, bool) {
	if apiKey < 0 || int(apiKey) >= len(apiTable) || apiTable[apiKey].Name == "" {
		return API{}, false
	}
	a := apiTable[apiKey]
	a.Key = apiKey
	a.Requirements = slices.Clone(a.Requirements)
	for i := range a.Requirements {
		a.Requirements[i].AnyOf = slices.Clone(a.Requirements[i].AnyOf)
	}
	return a, true
}

// APIs returns every row of the table, by key.
func APIs() []API {
	var out []API
	for k := range apiTable {
		if a, ok := Lookup(int16(k)); ok {
			out = append(out, a)
		}
	}
	return out
}

// need is a requirement on every version.
func need(e Effect, denied *kerr.Error, checks ...Check) Requirement {
	return Requirement{AnyOf: checks, MaxVersion: -1, Effect: e, Denied: denied}
}

func (r Requirement) when(w string) Requirement { r.When = w; return r }

func (r Requirement) note(n string) Requirement { r.Note = n; return r }

func (r Requirement) versions(lo, hi int16) Requirement {
	r.MinVersion, r.MaxVersion = lo, hi
	return r
}

func check(op Operation, res ResourceType, name NameSource) Check {
	return Check{Operation: op, Resource: res, Name: name}
}

// onCluster is op on the cluster, failing the request with
// CLUSTER_AUTHORIZATION_FAILED.
func onCluster(op Operation) Requirement {
	return need(FailRequest, kerr.ClusterAuthorizationFailed, check(op, ResourceCluster, NameCluster))
}

// clusterAction is the requirement of the inter-broker and controller APIs.
func clusterAction() Requirement { return onCluster(OpClusterAction) }

// groupMember is what a group member's requests need: READ on the group.
func groupMember() []Requirement {
	return []Requirement{need(FailRequest, kerr.GroupAuthorizationFailed, check(OpRead, ResourceGroup, NameGroupID))}
}

// configs are DescribeConfigs' and (Incremental)AlterConfigs' checks of op
// by config resource type.
func configs(op Operation) []Requirement {
	return []Requirement{
		need(FailEach, kerr.TopicAuthorizationFailed, check(op, ResourceTopic, NameEachConfigResource)).when("config resource TOPIC (2)"),
		need(FailEach, kerr.ClusterAuthorizationFailed, check(op, ResourceCluster, NameCluster)).when("config resource BROKER (4), BROKER_LOGGER (8) or CLIENT_METRICS (16)"),
		need(FailEach, kerr.GroupAuthorizationFailed, check(op, ResourceGroup, NameEachConfigResource)).when("config resource GROUP (32)"),
	}
}
