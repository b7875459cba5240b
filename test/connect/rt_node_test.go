package connect

import (
	"testing"

	"github.com/samsa-streaming/samsa/internal/clustertest"
)

// TestRTNodeSettings: the embedded worker is turned on by
// SAMSA_CONNECT_LISTEN or samsa.connect.listener in server.properties, as
// by --connect-listen, and serves as a distributed worker.
func TestRTNodeSettings(t *testing.T) {
	base := []string{"--admin-listen", "none", "--registry-listen", "none", "--rest-listen", "none"}
	for _, opts := range []clustertest.Options{
		{Args: base, Env: []string{"SAMSA_CONNECT_LISTEN=127.0.0.1:0"}},
		{Args: base, Config: "samsa.connect.listener=127.0.0.1:0\n"},
	} {
		n := clustertest.Start(t, opts)
		url := "http://" + rtAddrFromLog(t, n.LogPath, rtConnectAddrRE)
		rtWaitHTTP(t, url+"/")
		rtWaitWritable(t, url)
		root := rtExpect(t, 200, "GET", url+"/", nil).Map()
		if root["version"] == "" {
			t.Fatalf("GET / %v", root)
		}
		rtExpect(t, 200, "GET", url+"/connectors", nil)
	}
}
