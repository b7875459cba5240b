package registry

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Failover between two `samsa registry` instances of one group against a
// node: writes go through both (the follower forwards to the leader), the
// leader is killed with SIGKILL while writes continue, then started again.
// Ids and versions must stay stable, every instance must answer the same
// schema for an id, and no id may ever be handed out for two schemas.
//
// The design under test (internal/registry election.go, kafkastore.go):
// the instances join the Kafka group schema-registry with protocol type
// "sr"; the group's leader assigns one registry leader (the current one
// while it is a member, else the eligible member with the smallest URL).
// The registry leader writes through a transactional producer whose
// transactional.id is the group id; taking over, it first commits a NOOP
// record, which bumps the producer epoch (fencing the previous leader: a
// fenced producer can commit nothing more, and its open transaction is
// aborted) and reads up to it, so its state holds every committed write
// and its next id (the largest id seen plus one) has never been used. The
// reader reads read_committed. A killed leader stays the group's registry
// leader until the coordinator expires its session (6 s); until then the
// follower forwards writes to a dead address (50003).

// regWrite is one registration's outcome.
type regWrite struct {
	at, end time.Time // sent, answered
	via     string    // "a" or "b"
	subject string
	schema  string
	id      int
	status  int
	code    int
	msg     string
	err     error
}

// logHas says the file at path contains s.
func logHas(path, s string) bool {
	b, _ := os.ReadFile(path)
	return strings.Contains(string(b), s)
}

// leadsByLog says whether the instance logging to path last logged that it
// leads (rather than that it no longer does).
func leadsByLog(path string) bool {
	b, _ := os.ReadFile(path)
	lead := strings.LastIndex(string(b), "schema registry: leader")
	lost := strings.LastIndex(string(b), "schema registry: no longer leader")
	return lead >= 0 && lead > lost
}

func TestRegistryFailover(t *testing.T) {
	n := startNode(t)
	// The default store timeout (10 s) also bounds how long a write waits
	// for the election when an instance first writes.
	args := []string{"--brokers", n.Addr}
	procs := map[string]*registryProc{"a": startRegistry(t, args...), "b": startRegistry(t, args...)}
	var urls sync.Map // "a"/"b" → current URL
	for name, p := range procs {
		waitReady(t, p.URL)
		urls.Store(name, p.URL)
	}
	if a := call(t, "PUT", procs["a"].URL+"/config", `{"compatibility":"NONE"}`); a.Status != 200 {
		t.Fatalf("PUT /config: %d %s", a.Status, a.Body)
	}

	var (
		mu     sync.Mutex
		writes []regWrite
		stop   atomic.Bool
		wg     sync.WaitGroup
	)
	client := &http.Client{Timeout: 20 * time.Second}
	register := func(via, subject, schema string) (w regWrite) {
		u, _ := urls.Load(via)
		w = regWrite{at: time.Now(), via: via, subject: subject, schema: schema}
		defer func() { w.end = time.Now() }()
		resp, err := client.Post(u.(string)+"/subjects/"+subject+"/versions", "application/vnd.schemaregistry.v1+json",
			strings.NewReader(schemaBody(schema, "")))
		if err != nil {
			w.err = err
			return w
		}
		defer resp.Body.Close()
		a := answer{Status: resp.StatusCode}
		_ = decodeJSON(resp, &a)
		w.status, w.code, w.id = a.Status, a.ErrorCode(), idOf(a)
		if w.status != 200 {
			w.msg = string(a.Body)
		}
		return w
	}
	for _, via := range []string{"a", "b"} {
		wg.Add(1)
		go func() { // one writer per instance; ends with stop
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				own := fmt.Sprintf(`{"type":"record","name":"R","fields":[{"name":"%s_%d","type":"int"}]}`, via, i)
				w := register(via, "fo-"+via, own)
				mu.Lock()
				writes = append(writes, w)
				mu.Unlock()
				// Both writers also register the same shared schemas.
				shared := fmt.Sprintf(`{"type":"enum","name":"Shared","symbols":["S%d"]}`, i/2)
				w = register(via, "fo-shared", shared)
				mu.Lock()
				writes = append(writes, w)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}

	// Let writes flow, then find the leader and kill it.
	time.Sleep(3 * time.Second)
	// The leader is the one instance whose last leadership line says it
	// leads (leadership may have moved while the writes above ran).
	leader := ""
	for deadline := time.Now().Add(30 * time.Second); leader == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var leading []string
		for name, p := range procs {
			if leadsByLog(p.LogPath) {
				leading = append(leading, name)
			}
		}
		if len(leading) == 1 {
			leader = leading[0]
		}
	}
	if leader == "" {
		t.Fatal("no single instance logged that it leads")
	}
	survivor := map[string]string{"a": "b", "b": "a"}[leader]
	killedAt := time.Now()
	procs[leader].Kill()
	t.Logf("killed the leader %s (%s) with SIGKILL", leader, procs[leader].URL)

	// Wait for a write through the survivor to succeed again.
	var recovered time.Time
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && recovered.IsZero(); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		for _, w := range writes {
			if w.via == survivor && w.at.After(killedAt) && w.status == 200 {
				recovered = w.at
				break
			}
		}
		mu.Unlock()
	}
	if recovered.IsZero() {
		stop.Store(true)
		wg.Wait()
		t.Fatalf("no write through the survivor succeeded within 60 s of the kill")
	}
	outage := recovered.Sub(killedAt)
	if !logHas(procs[survivor].LogPath, "schema registry: leader") {
		t.Errorf("the survivor %s never logged that it took over", survivor)
	}

	// Restart the killed instance (a new process, a new port) and keep
	// writing through both.
	time.Sleep(time.Second)
	procs[leader] = startRegistry(t, args...)
	waitReady(t, procs[leader].URL)
	restartedAt := time.Now()
	urls.Store(leader, procs[leader].URL)
	time.Sleep(4 * time.Second)
	stop.Store(true)
	wg.Wait()

	// Tally the writes by phase.
	var failedDuring, failedBefore, failedAfter, okTotal int
	codes := map[string]int{}
	for _, w := range writes {
		if w.status == 200 {
			okTotal++
			continue
		}
		why := fmt.Sprintf("HTTP %d code %d", w.status, w.code)
		if w.err != nil {
			why = "no answer"
		}
		switch {
		case w.end.Before(killedAt):
			// Answered before the kill (one in flight when the leader
			// died may fail: it counts as during the failover).
			failedBefore++
			t.Errorf("a write via %s at %s, before the kill, failed: %s %s %v", w.via, w.at.Format("15:04:05.000"), why, w.msg, w.err)
		case w.via == leader && w.at.Before(restartedAt):
			// Sent to the killed instance: nobody answers, as expected.
		case w.at.Before(recovered):
			failedDuring++
			codes[why]++
		default:
			failedAfter++
			codes["after recovery: "+why]++
		}
	}
	t.Logf("writes: %d succeeded; through the survivor, %d failed during the failover (%v), %d after it; outage: %v from the kill to the first successful write through the survivor",
		okTotal, failedDuring, codes, failedAfter, outage.Round(10*time.Millisecond))
	if failedAfter > 0 {
		t.Errorf("%d writes failed after the failover had completed: %v", failedAfter, codes)
	}
	if outage > 40*time.Second {
		t.Errorf("the failover took %v", outage)
	}

	// No id is ever handed out twice, and a schema keeps its id.
	idOfSchema, schemaOfID := map[string]int{}, map[int]string{}
	for _, w := range writes {
		if w.status != 200 {
			continue
		}
		if id, ok := idOfSchema[w.schema]; ok && id != w.id {
			t.Errorf("schema %s got ids %d and %d", w.schema, id, w.id)
		}
		if s, ok := schemaOfID[w.id]; ok && s != w.schema {
			t.Errorf("id %d handed out for %s and for %s", w.id, s, w.schema)
		}
		idOfSchema[w.schema], schemaOfID[w.id] = w.id, w.schema
	}
	var sharedAcks, sharedBoth int
	for i := 0; ; i++ {
		s := fmt.Sprintf(`{"type":"enum","name":"Shared","symbols":["S%d"]}`, i)
		if _, ok := idOfSchema[s]; !ok {
			break
		}
		sharedAcks++
		vias := map[string]bool{}
		for _, w := range writes {
			if w.schema == s && w.status == 200 {
				vias[w.via] = true
			}
		}
		if len(vias) == 2 {
			sharedBoth++
		}
	}
	if sharedBoth == 0 {
		t.Errorf("no shared schema was registered through both instances")
	}

	// Both instances serve every id with its schema, and the same
	// subjects and versions.
	final := []string{procs["a"].URL, procs["b"].URL}
	for _, u := range final {
		waitApplied(t, u, len(schemaOfID))
	}
	for id, s := range schemaOfID {
		for _, u := range final {
			if a := call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d", u, id), ""); field(a, "schema") != s {
				t.Errorf("GET %s/schemas/ids/%d = %d %s; want %s", u, id, a.Status, a.Body, s)
			}
		}
	}
	for _, subject := range []string{"fo-a", "fo-b", "fo-shared"} {
		var lists [][]any
		for _, u := range final {
			a := call(t, "GET", u+"/subjects/"+subject+"/versions", "")
			vs, _ := a.JSON.([]any)
			lists = append(lists, vs)
			for i, v := range vs {
				if v.(float64) != float64(i+1) {
					t.Errorf("%s versions via %s are not 1..n: %s", subject, u, a.Body)
					break
				}
			}
			// Each version's id is the id its schema got.
			for _, v := range vs {
				sv := call(t, "GET", fmt.Sprintf("%s/subjects/%s/versions/%v", u, subject, v), "")
				s, _ := field(sv, "schema").(string)
				if id, ok := idOfSchema[s]; ok && id != idOf(sv) {
					t.Errorf("%s version %v via %s has id %d; its schema was answered id %d", subject, v, u, idOf(sv), id)
				}
			}
		}
		if !slices.Equal(lists[0], lists[1]) {
			t.Errorf("%s versions differ between the instances: %v and %v", subject, lists[0], lists[1])
		}
	}
	// Every schema stored has one id and every id one schema.
	all := call(t, "GET", final[1]+"/schemas", "")
	seen := map[float64]string{}
	list, _ := all.JSON.([]any)
	for _, x := range list {
		m := x.(map[string]any)
		id, s := m["id"].(float64), m["schema"].(string)
		if prev, ok := seen[id]; ok && prev != s {
			t.Errorf("id %v serves %s and %s", id, prev, s)
		}
		seen[id] = s
	}
	t.Logf("%d distinct ids over %d stored versions, %d shared schemas (%d registered through both instances)", len(seen), len(list), sharedAcks, sharedBoth)
	// Writes still work through both after everything.
	for _, u := range final {
		if a := call(t, "POST", u+"/subjects/fo-end/versions", schemaBody(`"string"`, "")); a.Status != 200 {
			t.Errorf("a write via %s at the end: %d %s", u, a.Status, a.Body)
		}
	}
}

// waitApplied waits until the instance at u serves at least n schemas.
func waitApplied(t *testing.T, u string, n int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ids := map[float64]bool{}
		list, _ := call(t, "GET", u+"/schemas", "").JSON.([]any)
		for _, x := range list {
			ids[x.(map[string]any)["id"].(float64)] = true
		}
		if len(ids) >= n {
			return
		}
	}
	t.Errorf("%s never served %d schemas", u, n)
}

// decodeJSON reads resp's body into a.Body and a.JSON.
func decodeJSON(resp *http.Response, a *answer) error {
	b, err := io.ReadAll(resp.Body)
	a.Body = b
	if err == nil && len(b) > 0 {
		err = json.Unmarshal(b, &a.JSON)
	}
	return err
}

// signal sends sig to the process.
func (p *registryProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// TestRegistryZombieLeaderFenced freezes the leader (SIGSTOP) until the
// other instance has taken over and handed out new ids, then thaws it
// (SIGCONT) and writes through it at once, while it may still believe it
// leads with a stale state: its transactional producer has been fenced,
// so such a write must fail (or be forwarded), never commit an id the new
// leader already gave another schema.
func TestRegistryZombieLeaderFenced(t *testing.T) {
	n := startNode(t)
	args := []string{"--brokers", n.Addr, "--store-timeout", "5s"}
	procs := map[string]*registryProc{"a": startRegistry(t, args...), "b": startRegistry(t, args...)}
	for _, p := range procs {
		waitReady(t, p.URL)
	}
	if a := call(t, "PUT", procs["a"].URL+"/config", `{"compatibility":"NONE"}`); a.Status != 200 {
		t.Fatalf("PUT /config: %d %s", a.Status, a.Body)
	}
	idOfSchema, schemaOfID := map[string]int{}, map[int]string{}
	record := func(what string, a answer, schema string) {
		t.Helper()
		if a.Status != 200 {
			return
		}
		id := idOf(a)
		if prev, ok := schemaOfID[id]; ok && prev != schema {
			t.Errorf("%s: id %d handed out for %s and for %s", what, id, prev, schema)
		}
		if prev, ok := idOfSchema[schema]; ok && prev != id {
			t.Errorf("%s: schema %s got ids %d and %d", what, schema, prev, id)
		}
		schemaOfID[id], idOfSchema[schema] = schema, id
	}
	schema := func(tag string, i int) string {
		return fmt.Sprintf(`{"type":"fixed","name":"F","doc":"%s","size":%d}`, tag, i+1)
	}
	for i := range 3 {
		for name, p := range procs {
			s := schema("before-"+name, i)
			a := call(t, "POST", p.URL+"/subjects/z-"+name+"/versions", schemaBody(s, ""))
			if a.Status != 200 {
				t.Fatalf("write via %s: %d %s", name, a.Status, a.Body)
			}
			record("before", a, s)
		}
	}
	// The leader is the one instance whose last leadership line says it
	// leads (leadership may have moved while the writes above ran).
	leader := ""
	for deadline := time.Now().Add(30 * time.Second); leader == "" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var leading []string
		for name, p := range procs {
			if leadsByLog(p.LogPath) {
				leading = append(leading, name)
			}
		}
		if len(leading) == 1 {
			leader = leading[0]
		}
	}
	if leader == "" {
		t.Fatal("no single instance logged that it leads")
	}
	other := map[string]string{"a": "b", "b": "a"}[leader]
	z, s := procs[leader], procs[other]
	z.signal(t, syscall.SIGSTOP)
	stoppedAt := time.Now()
	thawed := false
	defer func() {
		if !thawed {
			z.signal(t, syscall.SIGCONT)
		}
	}()
	// The other instance takes over once the frozen one's session ends.
	var took time.Duration
	for i := 0; ; i++ {
		sch := schema("takeover", i)
		a := call(t, "POST", s.URL+"/subjects/z-new/versions", schemaBody(sch, ""))
		if a.Status == 200 {
			record("takeover", a, sch)
			took = time.Since(stoppedAt)
			break
		}
		if time.Since(stoppedAt) > 60*time.Second {
			t.Fatalf("no write through %s succeeded within 60 s of freezing the leader: %d %s", other, a.Status, a.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for i := 100; i < 110; i++ {
		sch := schema("new-leader", i)
		a := call(t, "POST", s.URL+"/subjects/z-new/versions", schemaBody(sch, ""))
		if a.Status != 200 {
			t.Errorf("write through the new leader: %d %s", a.Status, a.Body)
		}
		record("new leader", a, sch)
	}
	// Thaw the zombie and write through it at once, several times.
	z.signal(t, syscall.SIGCONT)
	thawed = true
	var zombieCodes []string
	for i := 200; i < 230; i++ {
		sch := schema("zombie", i)
		a := call(t, "POST", z.URL+"/subjects/z-zombie/versions", schemaBody(sch, ""))
		record("zombie", a, sch)
		zombieCodes = append(zombieCodes, fmt.Sprintf("%d/%d", a.Status, a.ErrorCode()))
		if a.Status != 200 && a.Status != 500 {
			t.Errorf("a write through the thawed leader: %d %s", a.Status, a.Body)
		}
		if a.Status == 500 && a.ErrorCode() != 50004 && a.ErrorCode() != 50003 && a.ErrorCode() != 50002 {
			t.Errorf("a write through the thawed leader failed with %d %s; want a leadership error", a.Status, a.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("froze leader %s; %s took over after %v; writes through the thawed one answered %v",
		leader, other, took.Round(10*time.Millisecond), zombieCodes)
	if last := zombieCodes[len(zombieCodes)-1]; last != "200/0" {
		t.Errorf("writes through the thawed instance still fail after 3 s: %v", zombieCodes)
	}
	if !logHas(s.LogPath, "schema registry: leader") {
		t.Errorf("%s never logged that it took over", other)
	}
	// Both instances agree on every id.
	for id, sch := range schemaOfID {
		for _, p := range procs {
			var a answer
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if a = call(t, "GET", fmt.Sprintf("%s/schemas/ids/%d", p.URL, id), ""); a.Status == 200 {
					break
				}
			}
			if field(a, "schema") != sch {
				t.Errorf("GET %s/schemas/ids/%d = %d %s; want %s", p.URL, id, a.Status, a.Body, sch)
			}
		}
	}
	seen := map[float64]string{}
	list, _ := call(t, "GET", s.URL+"/schemas", "").JSON.([]any)
	for _, x := range list {
		m := x.(map[string]any)
		id, sch := m["id"].(float64), m["schema"].(string)
		if prev, ok := seen[id]; ok && prev != sch {
			t.Errorf("id %v serves %s and %s", id, prev, sch)
		}
		seen[id] = sch
	}
	if len(seen) != len(list) {
		t.Errorf("%d stored versions share %d ids; every schema here is distinct", len(list), len(seen))
	}
}
