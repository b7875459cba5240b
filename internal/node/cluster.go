package node

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/samsa-streaming/samsa/internal/config"
)

// Roles are a node's process.roles.
type Roles struct {
	// Broker: the node serves Kafka clients.
	Broker bool
	// Controller: the node is a raft voter of the metadata quorum; a
	// broker that is not one follows the metadata log as a raft learner.
	Controller bool
}

// String spells r as process.roles does.
func (r Roles) String() string {
	switch {
	case r.Broker && r.Controller:
		return "broker,controller"
	case r.Broker:
		return "broker"
	case r.Controller:
		return "controller"
	}
	return ""
}

// ParseRoles parses process.roles ("broker", "controller" or both,
// comma-separated).
func ParseRoles(v string) (Roles, error) {
	var r Roles
	for s := range strings.SplitSeq(v, ",") {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "broker":
			r.Broker = true
		case "controller":
			r.Controller = true
		case "":
		default:
			return r, fmt.Errorf("--roles: unknown role %q (want broker, controller or both)", s)
		}
	}
	if !r.Broker && !r.Controller {
		return r, fmt.Errorf("--roles: empty")
	}
	return r, nil
}

// validateCluster checks the multi-node settings: the metadata quorum
// (controller.quorum.voters), this node's roles (process.roles) and its
// raft listener. Call it on Defaults().
func (c Config) validateCluster() error {
	if len(c.Voters) == 0 {
		if !c.Roles.Broker || !c.Roles.Controller {
			return fmt.Errorf("--roles %s needs --voters (controller.quorum.voters): without them a node is the single-node cluster", c.Roles)
		}
		if c.ControllerListen != "" || c.ControllerListener != nil {
			return fmt.Errorf("--controller-listen needs --voters (controller.quorum.voters)")
		}
		return nil
	}
	votersV := FormatVoters(c.Voters)
	_, isVoter := c.Voters[c.NodeID]
	switch {
	case !c.Roles.Broker && !c.Roles.Controller:
		return fmt.Errorf("--roles: empty")
	case c.Roles.Controller && !isVoter:
		return fmt.Errorf("node.id %d has the controller role but is not among the voters %s", c.NodeID, votersV)
	case !c.Roles.Controller && isVoter:
		return fmt.Errorf("node.id %d is a voter in %s but does not have the controller role", c.NodeID, votersV)
	}
	listen := c.controllerAddr()
	if listen == "" && !isVoter {
		return fmt.Errorf("node.id %d is not among the voters %s, so it joins the metadata quorum as an observer: "+
			"it needs --controller-listen (or a CONTROLLER listener in listeners) where the voters can reach it", c.NodeID, votersV)
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return fmt.Errorf("--controller-listen %q: %w", listen, err)
	}
	for id, addr := range c.Voters {
		if !isVoter && addr == listen {
			return fmt.Errorf("--controller-listen %s is voter %d's address in %s; an observer needs a listener of its own", listen, id, votersV)
		}
	}
	if c.SessionTimeout <= c.HeartbeatInterval {
		return fmt.Errorf("broker.session.timeout.ms (%v) must exceed broker.heartbeat.interval.ms (%v)", c.SessionTimeout, c.HeartbeatInterval)
	}
	return nil
}

// controllerAddr is the raft listener's configured address.
func (c Config) controllerAddr() string {
	if c.ControllerListener != nil {
		return c.ControllerListener.Addr().String()
	}
	return c.ControllerListen
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

// ParseVoters parses controller.quorum.voters: id@host:port[,id@host:port...].
func ParseVoters(v string) (map[int32]string, error) {
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

// FormatVoters spells voters as controller.quorum.voters, by id.
func FormatVoters(voters map[int32]string) string {
	ids := make([]int32, 0, len(voters))
	for id := range voters {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("%d@%s", id, voters[id])
	}
	return strings.Join(parts, ",")
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
