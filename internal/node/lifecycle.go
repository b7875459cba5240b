package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// step is one start-up step. It pushes on the closer stack what it must
// undo, as soon as it holds it.
type step struct {
	name  string
	start func(ctx context.Context) error
}

// closer undoes part of a step. A critical closer's error makes the
// shutdown unclean (no clean-shutdown marker); another's is only logged.
type closer struct {
	name     string
	critical bool
	close    func() error
}

// stack holds the closers of the steps started so far; unwind runs them in
// reverse. It is used by one goroutine at a time (Start, then Close).
type stack struct {
	lg      *slog.Logger
	hook    func(event, name string) error
	closers []closer
	// unclean is set once a critical closer failed; the clean-shutdown
	// marker's closer reads it.
	unclean bool
}

func (s *stack) push(name string, critical bool, fn func() error) {
	s.tell("push", name)
	s.closers = append(s.closers, closer{name: name, critical: critical, close: fn})
}

func (s *stack) tell(event, name string) error {
	if s.hook == nil {
		return nil
	}
	return s.hook(event, name)
}

// run starts the steps in order. When one fails it unwinds what the
// earlier ones pushed and returns the step's error.
func (s *stack) run(ctx context.Context, steps []step) error {
	for _, st := range steps {
		err := s.tell("start", st.name)
		if err == nil {
			err = st.start(ctx)
		}
		if err != nil {
			s.unclean = true // a failed start writes no clean-shutdown marker
			if uerr := s.unwind(); uerr != nil {
				s.lg.Warn("undoing a failed start", "err", uerr)
			}
			return err
		}
	}
	return nil
}

// unwind runs every closer, last pushed first, and empties the stack. It
// returns the critical closers' errors.
func (s *stack) unwind() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		c := s.closers[i]
		s.tell("close", c.name)
		err := c.close()
		switch {
		case err == nil:
		case c.critical:
			s.unclean = true
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		default:
			s.lg.Warn("closing", "what", c.name, "err", err)
		}
	}
	s.closers = nil
	return errors.Join(errs...)
}
