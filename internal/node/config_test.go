package node

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// resolveFor loads and validates node id's configuration with the given
// serve flags.
func resolveFor(t *testing.T, id int32, args ...string) (Config, error) {
	return resolveWith(t, id, nil, args...)
}

// resolveWith is resolveFor with server.properties settings.
func resolveWith(t *testing.T, id int32, props map[string]string, args ...string) (Config, error) {
	t.Helper()
	f := Flags{NodeID: id, LogLevel: "info", DataDir: t.TempDir(), Listen: "127.0.0.1:0", Given: map[string]bool{"node-id": true}}
	for _, a := range args {
		name, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		switch name {
		case "voters":
			f.Voters = v
		case "roles":
			f.Roles = v
		case "controller-listen":
			f.ControllerListen = v
		default:
			t.Fatalf("flag %s", name)
		}
		f.Given[name] = true
	}
	if len(props) > 0 {
		f.ConfigFile = filepath.Join(t.TempDir(), "server.properties")
		var body strings.Builder
		for k, v := range props {
			fmt.Fprintf(&body, "%s=%s\n", k, v)
		}
		if err := os.WriteFile(f.ConfigFile, []byte(body.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := LoadConfig(f, io.Discard)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
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
			if cs.Roles.Broker != tc.broker || cs.Roles.Controller != tc.controller || cs.ControllerListen != tc.listen || len(cs.Voters) != 3 {
				t.Fatalf("got roles=%v listen=%q voters=%v", cs.Roles, cs.ControllerListen, cs.Voters)
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
	if !cs.Roles.Broker || cs.Roles.Controller || cs.ControllerListen != "127.0.0.1:9493" || len(cs.Voters) != 3 {
		t.Fatalf("got roles=%v listen=%q voters=%v", cs.Roles, cs.ControllerListen, cs.Voters)
	}
}

// Flags apply over server.properties only when given; a flag's default
// applies only where the file is silent. Unknown settings are logged.
func TestLoadConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "server.properties")
	body := "log.dirs=" + filepath.Join(dir, "from-file") + "\nlisteners=PLAINTEXT://127.0.0.1:9100\nsome.unknown.setting=1\n"
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	f := Flags{ConfigFile: file, DataDir: "./samsa-data", Listen: "127.0.0.1:9092", NodeID: 7, LogLevel: "info",
		Advertised: "example.com:9200", Given: map[string]bool{"node-id": true, "advertised-listen": true}}
	var logs strings.Builder
	cfg, err := LoadConfig(f, &logs)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != filepath.Join(dir, "from-file") || cfg.Listen != "127.0.0.1:9100" || cfg.NodeID != 7 || cfg.Advertised != "example.com:9200" {
		t.Fatalf("got data %q listen %q node %d advertised %q", cfg.DataDir, cfg.Listen, cfg.NodeID, cfg.Advertised)
	}
	if !strings.Contains(logs.String(), "some.unknown.setting") {
		t.Fatalf("no warning about the unknown setting: %s", logs.String())
	}
	f.Given["listen"] = true
	if cfg, err = LoadConfig(f, io.Discard); err != nil || cfg.Listen != "127.0.0.1:9092" {
		t.Fatalf("given --listen: %q, %v", cfg.Listen, err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	f.LogLevel = "loud"
	if _, err := LoadConfig(f, io.Discard); err == nil || !strings.Contains(err.Error(), "--log-level") {
		t.Fatalf("bad level: %v", err)
	}
}

// --log-format json writes JSON lines; an unknown format is an error; the
// admin listener comes from --admin-listen, else samsa.admin.listener, else
// the default (not counted as asked for).
func TestLoadConfigLogFormatAndAdmin(t *testing.T) {
	var out strings.Builder
	cfg, err := LoadConfig(Flags{DataDir: t.TempDir(), Listen: "127.0.0.1:9092", NodeID: 1, LogLevel: "info", LogFormat: "json", Given: map[string]bool{}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger.Info("hello", "k", "v")
	if !strings.HasPrefix(out.String(), "{") || !strings.Contains(out.String(), `"msg":"hello"`) {
		t.Fatalf("not JSON: %s", out.String())
	}
	if cfg.AdminListen != DefaultAdminListen || cfg.AdminListenGiven {
		t.Fatalf("admin %q given %v", cfg.AdminListen, cfg.AdminListenGiven)
	}
	if _, err := LoadConfig(Flags{LogLevel: "info", LogFormat: "xml", Given: map[string]bool{}}, io.Discard); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Fatalf("xml accepted: %v", err)
	}
	cfg, err = LoadConfig(Flags{DataDir: t.TempDir(), Listen: "127.0.0.1:9092", NodeID: 1, LogLevel: "info", AdminListen: "none", Given: map[string]bool{"admin-listen": true}}, io.Discard)
	if err != nil || cfg.AdminListen != "none" || !cfg.AdminListenGiven {
		t.Fatalf("--admin-listen none: %q %v", cfg.AdminListen, err)
	}
}
