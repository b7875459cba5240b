package registry

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

var adminAddrRE = regexp.MustCompile(`serving admin endpoints.*addr=([0-9.]+:[0-9]+)`)

// TestRegistryLifecycle: the registry starts with the node and is part of
// its readiness (/readyz is 200 only once the registry serves), and it
// stops with the node: SIGTERM ends the node cleanly (every closer,
// the registry's among them, succeeded) and the registry no longer answers.
func TestRegistryLifecycle(t *testing.T) {
	n := clustertest.Start(t, clustertest.Options{
		Args: []string{"--admin-listen", "127.0.0.1:0", "--registry-listen", "127.0.0.1:0", "--rest-listen", "none"},
	})
	url := "http://" + registryAddrFromLog(t, n.LogPath, 1)
	var admin string
	for deadline := time.Now().Add(10 * time.Second); admin == ""; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(n.LogPath)
		if m := adminAddrRE.FindSubmatch(b); m != nil {
			admin = string(m[1])
		}
		if time.Now().After(deadline) {
			t.Fatal("no admin address in the log")
		}
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get("http://" + admin + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz never 200")
		}
	}
	// Ready means the registry serves.
	if a := call(t, "POST", url+"/subjects/life-value/versions", schemaBody(`"string"`, "")); a.Status != 200 {
		t.Fatalf("register: %d %s", a.Status, a.Body)
	}
	n.Stop() // fails the test unless the node exits 0 after SIGTERM
	log, _ := os.ReadFile(n.LogPath)
	if !strings.Contains(string(log), "stopped cleanly") {
		t.Fatalf("the node did not stop cleanly:\n%s", lastBytes(log, 4<<10))
	}
	if _, err := http.Get(url + "/subjects"); err == nil {
		t.Fatal("the registry still answers after the node stopped")
	}
}
