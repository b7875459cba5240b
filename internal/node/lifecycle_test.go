package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"
)

// A failure at step k closes exactly what steps 1..k-1 pushed, in
// reverse; a clean run closes everything in reverse.
func TestStackUnwindsInReverse(t *testing.T) {
	const steps = 5
	for fail := 0; fail <= steps; fail++ {
		t.Run(fmt.Sprint("fail at ", fail), func(t *testing.T) {
			var closed []string
			s := &stack{lg: slog.New(slog.DiscardHandler)}
			var list []step
			for i := 1; i <= steps; i++ {
				list = append(list, step{fmt.Sprint("s", i), func(context.Context) error {
					if i == fail {
						return errors.New("boom")
					}
					name := fmt.Sprint("c", i)
					s.push(name, i == 2, func() error {
						closed = append(closed, name)
						if i == 2 {
							return errors.New("close failed")
						}
						return nil
					})
					return nil
				}})
			}
			err := s.run(context.Background(), list)
			var want []string
			last := steps
			if fail > 0 {
				last = fail - 1
				if err == nil || err.Error() != "boom" {
					t.Fatalf("run: %v, want boom", err)
				}
				if !s.unclean {
					t.Fatal("a failed start left the stack clean")
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				uerr := s.unwind()
				if uerr == nil || !s.unclean {
					t.Fatalf("unwind: %v, unclean=%v: a critical closer failed", uerr, s.unclean)
				}
			}
			for i := last; i >= 1; i-- {
				want = append(want, fmt.Sprint("c", i))
			}
			if !slices.Equal(closed, want) {
				t.Fatalf("closed %v, want %v", closed, want)
			}
			if len(s.closers) != 0 {
				t.Fatal("closers left on the stack")
			}
		})
	}
}
