package restproxy

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestV3OpenAPI fetches /openapi.json: an OpenAPI 3 document listing the
// v2 and v3 paths, each operation with responses, every $ref resolving.
func TestV3OpenAPI(t *testing.T) {
	n := v3Start(t)
	a := v3Call(t, "GET", n.URL+"/openapi.json", "")
	doc := v3Expect(t, a, 200, "openapi", "info", "paths", "components")
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{
		"/topics", "/topics/{topic}", "/topics/{topic}/partitions/{partition}/offsets", "/brokers",
		"/consumers/{group}", "/consumers/{group}/instances/{instance}/records",
		"/v3/clusters", "/v3/clusters/{cluster_id}/topics", "/v3/clusters/{cluster_id}/topics/{topic_name}/configs:alter",
		"/v3/clusters/{cluster_id}/topics/{topic_name}/records", "/v3/clusters/{cluster_id}/topics/{topic_name}/records:batch",
		"/v3/clusters/{cluster_id}/consumer-groups/{consumer_group_id}/lag-summary", "/v3/clusters/{cluster_id}/acls",
		"/v3/clusters/{cluster_id}/topics/-/partitions/-/reassignment", "/openapi.json",
	} {
		if paths[p] == nil {
			t.Fatalf("no path %s", p)
		}
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for _, m := range regexp.MustCompile(`"#/components/schemas/([A-Za-z0-9]+)"`).FindAllStringSubmatch(string(a.Body), -1) {
		if schemas[m[1]] == nil {
			t.Fatalf("dangling $ref %s", m[1])
		}
	}
	ops := 0
	for p, item := range paths {
		for method, op := range item.(map[string]any) {
			o := op.(map[string]any)
			if o["responses"] == nil || o["operationId"] == nil {
				t.Fatalf("%s %s: %v", method, p, o)
			}
			ops++
		}
		// Every path parameter is declared.
		for _, m := range regexp.MustCompile(`\{([a-z_]+)\}`).FindAllStringSubmatch(p, -1) {
			for method, op := range item.(map[string]any) {
				found := false
				params, _ := op.(map[string]any)["parameters"].([]any)
				for _, x := range params {
					if x.(map[string]any)["name"] == m[1] {
						found = true
					}
				}
				if !found {
					t.Fatalf("%s %s: path parameter %s not declared", method, p, m[1])
				}
			}
		}
	}
	if ops < 60 {
		t.Fatalf("%d operations", ops)
	}
	resp, err := http.Head(n.URL + "/openapi.json")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HEAD: %v %v", resp, err)
	}
}
