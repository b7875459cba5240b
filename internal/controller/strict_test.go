package controller

import (
	"slices"
	"testing"
	"time"

	"github.com/samsa-streaming/samsa/internal/metadata"
)

// TestStrictELR runs both modes of eligible.leader.replicas.strict on a
// real single-voter controller with its election loop: the last ISR/ELR
// member of a partition registers after an unclean stop. By default it
// stays and leads again; strict, it leaves the ISR and ELR and the
// partition stays leaderless (the loop does not elect it) until an
// unclean election. The strict rule is in the record, so a restart of
// the controller replays the same image.
func TestStrictELR(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(map[bool]string{false: "default", true: "strict"}[strict], func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig(t, dir)
			cfg.StrictELR = strict
			c := open(t, cfg)
			inc := metadata.RandomUuid()
			propose(t, c, metadata.RegisterBroker{ID: 1, Host: "localhost", Port: 9091, IncarnationID: inc})
			propose(t, c, metadata.RegisterBroker{ID: 2, Host: "localhost", Port: 9092, IncarnationID: metadata.RandomUuid()})
			propose(t, c, metadata.CreateTopic{Name: "solo", ID: metadata.RandomUuid(), Assignments: [][]int32{{1}}})
			// Fenced, broker 1 moves from the ISR to the ELR.
			propose(t, c, metadata.FenceBroker{ID: 1, IncarnationID: inc})
			waitSolo(t, c, "fenced", func(p *metadata.Partition) bool {
				return p.Leader == metadata.NoLeader && len(p.ISR) == 0 && slices.Equal(p.ELR, []int32{1})
			})
			img := propose(t, c, metadata.RegisterBroker{ID: 1, Host: "localhost", Port: 9091, IncarnationID: metadata.RandomUuid()})
			if !strict {
				waitSolo(t, c, "unclean restart, default", func(p *metadata.Partition) bool {
					return p.Leader == 1 && slices.Equal(p.ISR, []int32{1}) && len(p.ELR) == 0
				})
				return
			}
			if p := img.Topics["solo"].Partitions[0]; p.Leader != metadata.NoLeader || len(p.ISR) != 0 || len(p.ELR) != 0 {
				t.Fatalf("unclean restart, strict: %v", stateOf(p))
			}
			time.Sleep(300 * time.Millisecond) // election passes run; none may elect
			p := c.Image().Topics["solo"].Partitions[0]
			if p.Leader != metadata.NoLeader {
				t.Fatalf("the election loop elected %v without an unclean election", stateOf(p))
			}
			// An unclean election (ElectLeaders UNCLEAN's policy) brings it back.
			ch, ok := ElectPartition(c.Image(), p, ElectionPolicy{MinISR: 1, Unclean: true})
			if !ok || ch.Leader != 1 {
				t.Fatalf("unclean election: %+v %v", ch, ok)
			}
			propose(t, c, ch)
			want := content(t, waitSolo(t, c, "unclean election", func(p *metadata.Partition) bool {
				return p.Leader == 1 && slices.Equal(p.ISR, []int32{1})
			}))
			closeC(t, c)
			c = open(t, testConfig(t, dir)) // not strict: the record carries the rule
			if got := content(t, waitSolo(t, c, "reopened", func(p *metadata.Partition) bool { return p.Leader == 1 })); got != want {
				t.Fatalf("reopened image differs:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// waitSolo waits until partition solo-0 satisfies ok and returns the
// image it did so in.
func waitSolo(t *testing.T, c *Controller, what string, ok func(p *metadata.Partition) bool) *metadata.Image {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		img := c.Image()
		if p := img.Topics["solo"].Partitions[0]; ok(p) {
			return img
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: solo-0 is %v", what, stateOf(img.Topics["solo"].Partitions[0]))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
