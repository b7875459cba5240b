package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestACLsEnforcedOnTheDataPath: alice (PLAIN) cannot produce or consume
// until `acl create --producer/--consumer` grants it, and cannot produce
// once the Write ACL is deleted.
func TestACLsEnforcedOnTheDataPath(t *testing.T) {
	addr, admin := secureNode(t)
	alice := []string{"-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=alice",
		"-X", "sasl.password=alice-secret", "-b", addr, "--timeout", "10s"}
	asAlice := func(stdin string, args ...string) cliResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		return runSamsaStdin(ctx, stdin, append(args, alice...)...)
	}
	asAdmin := func(args ...string) string {
		t.Helper()
		return cliOK(t, addr, append(args, "--command-config", admin)...)
	}

	asAdmin("topic", "create", "orders", "-p", "1")
	if r := asAlice("k:v\n", "produce", "orders"); r.err == nil || !strings.Contains(r.err.Error(), "AUTHORIZATION_FAILED") {
		t.Fatalf("alice produced without ACLs: %v", r.err)
	}
	if r := asAlice("", "consume", "orders", "--from", "beginning", "-n", "1", "--timeout", "5s"); r.err == nil {
		t.Fatal("alice consumed without ACLs")
	}
	asAdmin("acl", "create", "--allow-principal", "User:alice", "--producer", "--idempotent", "--topic", "orders")
	asAdmin("acl", "create", "--allow-principal", "User:alice", "--consumer", "--topic", "orders", "--group", "billing")
	if r := asAlice("k:v\n", "produce", "orders"); r.err != nil {
		t.Fatalf("alice cannot produce with the producer ACLs: %v", r.err)
	}
	if r := asAlice("", "consume", "orders", "--group", "billing", "--from", "beginning", "-n", "1"); r.err != nil || !strings.Contains(r.stdout, "k:v") {
		t.Fatalf("alice cannot consume in group billing with the consumer ACLs: %v\n%s", r.err, r.stdout)
	}
	if r := asAlice("", "consume", "orders", "--group", "other", "--from", "beginning", "-n", "1"); r.err == nil || !strings.Contains(r.err.Error(), "GROUP_AUTHORIZATION_FAILED") {
		t.Fatalf("alice consumed in a group she has no ACL for: %v", r.err)
	}
	asAdmin("acl", "delete", "--allow-principal", "User:alice", "--topic", "orders", "--operation", "Write", "--force")
	if r := asAlice("k:v\n", "produce", "orders"); r.err == nil || !strings.Contains(r.err.Error(), "TOPIC_AUTHORIZATION_FAILED") {
		t.Fatalf("alice produced after her Write ACL was deleted: %v", r.err)
	}
}
