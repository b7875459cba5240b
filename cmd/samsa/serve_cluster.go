package main

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/samsa-streaming/samsa/internal/config"
	"github.com/samsa-streaming/samsa/internal/controller"
)

// clusterSettings is the multi-node part of serve's configuration: the
// metadata quorum (controller.quorum.voters), this node's roles
// (process.roles) and its raft listener.
type clusterSettings struct {
	// voters is empty for the single-node cluster.
	voters           map[int32]string
	broker           bool // serves Kafka clients
	controller       bool // a raft voter; a broker that is not one is a raft learner
	controllerListen string
	heartbeat        time.Duration
	session          time.Duration
}

// resolveCluster reads --voters/--roles/--controller-listen and their
// server.properties names. Without voters it returns the single-node
// cluster (broker and controller, no transport).
func resolveCluster(cmd *cobra.Command, f serveFlags, cfg *config.Broker) (clusterSettings, error) {
	fl := cmd.Flags()
	cs := clusterSettings{broker: true, controller: true}
	votersV := cfg.Values["controller.quorum.voters"]
	if fl.Changed("voters") || f.voters != "" {
		votersV = f.voters
	}
	rolesV := ""
	if cfg.Set["process.roles"] {
		rolesV = cfg.Values["process.roles"]
	}
	if fl.Changed("roles") {
		rolesV = f.roles
	}
	if strings.TrimSpace(votersV) == "" {
		if rolesV != "" && normRoles(rolesV) != "broker,controller" {
			return cs, fmt.Errorf("--roles %s needs --voters (controller.quorum.voters): without them a node is the single-node cluster", rolesV)
		}
		if fl.Changed("controller-listen") {
			return cs, fmt.Errorf("--controller-listen needs --voters (controller.quorum.voters)")
		}
		return cs, nil
	}
	voters, err := parseVoters(votersV)
	if err != nil {
		return cs, err
	}
	cs.voters = voters
	_, isVoter := voters[cfg.NodeID]
	if rolesV == "" {
		cs.broker, cs.controller = true, isVoter
	} else {
		cs.broker, cs.controller = false, false
		for r := range strings.SplitSeq(rolesV, ",") {
			switch strings.ToLower(strings.TrimSpace(r)) {
			case "broker":
				cs.broker = true
			case "controller":
				cs.controller = true
			case "":
			default:
				return cs, fmt.Errorf("--roles: unknown role %q (want broker, controller or both)", r)
			}
		}
		if !cs.broker && !cs.controller {
			return cs, fmt.Errorf("--roles: empty")
		}
	}
	switch {
	case cs.controller && !isVoter:
		return cs, fmt.Errorf("node.id %d has the controller role but is not among the voters %s", cfg.NodeID, votersV)
	case !cs.controller && isVoter:
		return cs, fmt.Errorf("node.id %d is a voter in %s but does not have the controller role", cfg.NodeID, votersV)
	}
	// A broker that is not a voter follows the metadata log as an observer
	// (a raft learner, internal/controller/learner.go): the leader sends it
	// the log on its own controller listener, announced when it joins.
	cs.controllerListen = voters[cfg.NodeID]
	if addr := controllerListener(cfg); addr != "" {
		cs.controllerListen = addr
	}
	if fl.Changed("controller-listen") || f.controllerListen != "" {
		cs.controllerListen = f.controllerListen
	}
	if cs.controllerListen == "" && !isVoter {
		return cs, fmt.Errorf("node.id %d is not among the voters %s, so it joins the metadata quorum as an observer: "+
			"it needs --controller-listen (or a CONTROLLER listener in listeners) where the voters can reach it", cfg.NodeID, votersV)
	}
	if _, _, err := net.SplitHostPort(cs.controllerListen); err != nil {
		return cs, fmt.Errorf("--controller-listen %q: %v", cs.controllerListen, err)
	}
	for id, addr := range voters {
		if !isVoter && addr == cs.controllerListen {
			return cs, fmt.Errorf("--controller-listen %s is voter %d's address in %s; an observer needs a listener of its own", cs.controllerListen, id, votersV)
		}
	}
	hb, _ := strconv.Atoi(cfg.Values["broker.heartbeat.interval.ms"])
	st, _ := strconv.Atoi(cfg.Values["broker.session.timeout.ms"])
	cs.heartbeat, cs.session = time.Duration(hb)*time.Millisecond, time.Duration(st)*time.Millisecond
	if cs.session <= cs.heartbeat {
		return cs, fmt.Errorf("broker.session.timeout.ms (%v) must exceed broker.heartbeat.interval.ms (%v)", cs.session, cs.heartbeat)
	}
	return cs, nil
}

func normRoles(v string) string {
	var rs []string
	for r := range strings.SplitSeq(v, ",") {
		if r = strings.ToLower(strings.TrimSpace(r)); r != "" {
			rs = append(rs, r)
		}
	}
	slices.Sort(rs)
	return strings.Join(slices.Compact(rs), ",")
}

// parseVoters parses controller.quorum.voters: id@host:port[,id@host:port...].
func parseVoters(v string) (map[int32]string, error) {
	out := map[int32]string{}
	for part := range strings.SplitSeq(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		idS, addr, ok := strings.Cut(part, "@")
		id, err := strconv.ParseInt(idS, 10, 32)
		if !ok || err != nil || id < 0 {
			return nil, fmt.Errorf("controller.quorum.voters: %q is not id@host:port", part)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host == "" {
			return nil, fmt.Errorf("controller.quorum.voters: %q is not id@host:port", part)
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return nil, fmt.Errorf("controller.quorum.voters: bad port in %q", part)
		}
		if _, dup := out[int32(id)]; dup {
			return nil, fmt.Errorf("controller.quorum.voters: voter %d listed twice", id)
		}
		out[int32(id)] = addr
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("controller.quorum.voters: no voters in %q", v)
	}
	return out, nil
}

// controllerListener returns the host:port of the listener named by
// controller.listener.names in listeners (Kafka's
// "PLAINTEXT://:9092,CONTROLLER://:9093"), or "".
func controllerListener(cfg *config.Broker) string {
	name := strings.TrimSpace(strings.Split(cfg.Values["controller.listener.names"], ",")[0])
	if name == "" {
		return ""
	}
	for l := range strings.SplitSeq(cfg.Values["listeners"], ",") {
		proto, addr, ok := strings.Cut(strings.TrimSpace(l), "://")
		if ok && strings.EqualFold(proto, name) {
			return addr
		}
	}
	return ""
}

// waitClusterID waits until the metadata log names the cluster (the first
// leader writes it right after the quorum forms).
func waitClusterID(ctx context.Context, ctl *controller.Controller) (string, error) {
	for {
		if id := ctl.Image().ClusterID; id != "" {
			return id, nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
