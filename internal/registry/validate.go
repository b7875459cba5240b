package registry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/samsa-streaming/samsa/internal/registry/schema"
	"github.com/samsa-streaming/samsa/serde/wire"
)

// catchUpEvery bounds how often a miss on the produce path (an id not
// known here) makes the registry ask for the store's end offset, so that
// a producer sending made-up ids costs one request per interval, not one
// per record.
const catchUpEvery = 200 * time.Millisecond

// validateState is the rate limit of ValidateRecord's catch-ups.
type validateState struct {
	mu   sync.Mutex
	last time.Time
}

// ValidateRecord is the broker's schema check (samsa.schema.validation,
// internal/broker's SchemaValidator): data must name, by its wire-format
// prefix or the record's schema id header, a schema registered under
// subject (a live version), and decode with it.
func (r *Registry) ValidateRecord(ctx context.Context, subject string, key bool, data []byte, headers []wire.RecordHeader) error {
	f, err := wire.Split(data, headers, key)
	if err != nil {
		return fmt.Errorf("not in the schema registry's wire format: %w", err)
	}
	e, err := r.validationEntry(ctx, subject, f.Header)
	if err != nil {
		return err
	}
	r.st.mu.RLock()
	p, err := r.parsed(r.st, e)
	r.st.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("schema id %d cannot be used: %w", e.id, err)
	}
	payload, idx := f.Payload, []int(nil)
	if e.typ == schema.Protobuf {
		if idx, payload, err = f.ProtoIndexes(); err != nil {
			return err
		}
	}
	if err := p.Validate(payload, idx); err != nil {
		return fmt.Errorf("does not decode with schema id %d (%s): %w", e.id, e.typ, err)
	}
	return nil
}

// validationEntry finds the schema h names and checks it is registered
// under subject; an unknown schema first makes the registry catch up with
// its store (at most every catchUpEvery).
func (r *Registry) validationEntry(ctx context.Context, subject string, h wire.Header) (*entry, error) {
	for attempt := 0; ; attempt++ {
		r.st.mu.RLock()
		e, under := r.st.lookupHeader(subject, h)
		r.st.mu.RUnlock()
		switch {
		case e != nil && under:
			return e, nil
		case e != nil:
			return nil, fmt.Errorf("schema %s is not registered under subject %s", h, subject)
		case attempt > 0 || !r.mayCatchUp():
			return nil, fmt.Errorf("schema %s is not registered in the schema registry", h)
		}
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := r.store.catchUp(cctx)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("schema %s is not known here and the registry cannot read its store: %w", h, err)
		}
	}
}

func (r *Registry) mayCatchUp() bool {
	r.val.mu.Lock()
	defer r.val.mu.Unlock()
	if time.Since(r.val.last) < catchUpEvery {
		return false
	}
	r.val.last = time.Now()
	return true
}

// lookupHeader finds the schema h names and says whether a live version
// of subject uses it (st held for reading).
func (st *state) lookupHeader(subject string, h wire.Header) (*entry, bool) {
	var e *entry
	if h.IsGUID() {
		if id, ok := st.byGUID[h.GUID.String()]; ok {
			e = st.ids[id]
		}
	} else {
		e = st.ids[int(h.ID)]
	}
	if e == nil {
		return nil, false
	}
	if s := st.subjects[subject]; s != nil {
		for _, v := range s.versions {
			if v.id == e.id && !v.deleted {
				return e, true
			}
		}
	}
	return e, false
}
