// Package acl holds Kafka's access control: the ACL model (bindings of a
// resource pattern and an access entry, with Kafka's wire enums and
// CreateAcls validation), an authorizer with the semantics of Kafka's
// StandardAuthorizer, the filters of DescribeAcls and DeleteAcls, and the
// table of which ACLs each Kafka API needs and which error it answers when
// they are missing (apitable.go).
//
// A Set is an immutable snapshot of the ACLs plus super.users and
// allow.everyone.if.no.acl.found. The broker builds a new one (NewSet, or
// copy-on-write with Add and Remove) when the metadata's ACLs change and
// swaps it in atomically; a Set is never modified after NewSet returns, so
// every method is safe for concurrent use without locks. Authorization is
// deterministic, and Authorize and Decide allocate nothing: ACLs are
// indexed by resource type, then by literal name (a map), the literal
// wildcard "*", and prefixed names (a map probed at each distinct prefix
// length), each pattern's entries sorted by principal for a binary search.
// The API table is written at package initialisation and never changed;
// Lookup and Required return copies.
//
// "No ACL found" follows StandardAuthorizerData: the setting
// allow.everyone.if.no.acl.found decides only when no ACL's pattern
// matches the resource at all (literal name, literal "*", or a prefix of
// the name), whatever the ACLs' principals, hosts, operations and
// permissions. An ACL for someone else on the resource therefore makes the
// answer deny. Principals are compared as "Type:name" strings
// (User:ANONYMOUS is an ordinary principal), hosts as strings: the broker
// passes the client's IP address as it renders it.
//
// The package is a leaf: it imports no other Samsa package, and no I/O.
package acl
