package connect

import (
	"net/http/httptest"
	"testing"

	"github.com/samsa-streaming/samsa/internal/httpserve"
)

// TestOpFor: reads and validation need DESCRIBE on the worker's group,
// every other request READ.
func TestOpFor(t *testing.T) {
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/connectors", httpserve.OpDescribe},
		{"GET", "/connectors/a/status", httpserve.OpDescribe},
		{"HEAD", "/connectors", httpserve.OpDescribe},
		{"PUT", "/connector-plugins/FileStreamSource/config/validate", httpserve.OpDescribe},
		{"POST", "/connectors", httpserve.OpRead},
		{"PUT", "/connectors/a/config", httpserve.OpRead},
		{"PUT", "/connectors/validate/config", httpserve.OpRead},
		{"DELETE", "/connectors/a", httpserve.OpRead},
		{"PUT", "/admin/loggers/root", httpserve.OpRead},
		{"PATCH", "/connectors/a/offsets", httpserve.OpRead},
	} {
		if got, _ := opFor(httptest.NewRequest(c.method, c.path, nil)); got != c.want {
			t.Errorf("%s %s: op %d, want %d", c.method, c.path, got, c.want)
		}
	}
}
