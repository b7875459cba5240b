package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/samsa-streaming/samsa/internal/config"
)

// resolveFor runs resolveCluster for node id with the given serve flags.
func resolveFor(t *testing.T, id int32, args ...string) (clusterSettings, error) {
	return resolveWith(t, id, nil, args...)
}

// resolveWith is resolveFor with server.properties settings.
func resolveWith(t *testing.T, id int32, props map[string]string, args ...string) (clusterSettings, error) {
	t.Helper()
	var f serveFlags
	cmd := &cobra.Command{Use: "serve"}
	fl := cmd.Flags()
	fl.StringVar(&f.voters, "voters", "", "")
	fl.StringVar(&f.roles, "roles", "", "")
	fl.StringVar(&f.controllerListen, "controller-listen", "", "")
	if err := fl.Parse(args); err != nil {
		t.Fatal(err)
	}
	cfg := config.Broker{}.Defaults()
	if err := cfg.SetValue("node.id", strconv.Itoa(int(id))); err != nil {
		t.Fatal(err)
	}
	for k, v := range props {
		if err := cfg.SetValue(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	return resolveCluster(cmd, f, &cfg)
}

func TestResolveClusterRoles(t *testing.T) {
	const voters = "--voters=1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293"
	cases := []struct {
		name                 string
		id                   int32
		args                 []string
		broker, controller   bool
		listen, errSubstring string
	}{
		{name: "voter defaults to combined", id: 1, args: []string{voters},
			broker: true, controller: true, listen: "127.0.0.1:9093"},
		{name: "controller-only voter", id: 2, args: []string{voters, "--roles=controller"},
			controller: true, listen: "127.0.0.1:9193"},
		{name: "non-voter defaults to broker-only", id: 4, args: []string{voters, "--controller-listen=127.0.0.1:9493"},
			broker: true, listen: "127.0.0.1:9493"},
		{name: "broker-only spelled out", id: 5, args: []string{voters, "--roles=broker", "--controller-listen=127.0.0.1:9593"},
			broker: true, listen: "127.0.0.1:9593"},
		{name: "broker-only needs a controller listener", id: 4, args: []string{voters},
			errSubstring: "needs --controller-listen"},
		{name: "broker-only cannot take a voter's listener", id: 4, args: []string{voters, "--controller-listen=127.0.0.1:9193"},
			errSubstring: "listener of its own"},
		{name: "controller role needs a voter", id: 4, args: []string{voters, "--roles=controller", "--controller-listen=127.0.0.1:9493"},
			errSubstring: "not among the voters"},
		{name: "voter needs the controller role", id: 1, args: []string{voters, "--roles=broker"},
			errSubstring: "does not have the controller role"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := resolveFor(t, tc.id, tc.args...)
			if tc.errSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errSubstring) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.errSubstring)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cs.broker != tc.broker || cs.controller != tc.controller || cs.controllerListen != tc.listen || len(cs.voters) != 3 {
				t.Fatalf("got broker=%v controller=%v listen=%q voters=%v", cs.broker, cs.controller, cs.controllerListen, cs.voters)
			}
		})
	}
}

// server.properties says the same with Kafka's names.
func TestResolveClusterFromProperties(t *testing.T) {
	cs, err := resolveWith(t, 4, map[string]string{
		"process.roles":             "broker",
		"controller.quorum.voters":  "1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293",
		"listeners":                 "PLAINTEXT://127.0.0.1:9492,CONTROLLER://127.0.0.1:9493",
		"controller.listener.names": "CONTROLLER",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !cs.broker || cs.controller || cs.controllerListen != "127.0.0.1:9493" || len(cs.voters) != 3 {
		t.Fatalf("got %+v", cs)
	}
}
