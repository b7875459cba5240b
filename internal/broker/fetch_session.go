package broker

import (
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
)

// fetchSessions is the KIP-227 incremental fetch session cache.
type fetchSessions struct {
	mu       sync.Mutex
	max      int
	nextID   int32
	sessions map[int32]*fetchSession
	lru      []int32 // session ids, least recently used first
}

type sessionKey struct {
	topic string
	part  int32
}

// sessionPart is what the session remembers of one partition.
type sessionPart struct {
	key       sessionKey
	topicID   [16]byte
	offset    int64
	maxBytes  int32
	lastHW    int64
	lastLSO   int64
	lastStart int64
	sent      bool
}

type fetchSession struct {
	id    int32
	epoch int32
	mu    sync.Mutex
	order []sessionKey
	parts map[sessionKey]*sessionPart
}

func newFetchSessions(max int) *fetchSessions {
	return &fetchSessions{max: max, nextID: 1, sessions: make(map[int32]*fetchSession)}
}

// create makes a new session, evicting the least recently used one at the
// limit.
func (s *fetchSessions) create() *fetchSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sessions) >= s.max && len(s.lru) > 0 {
		delete(s.sessions, s.lru[0])
		s.lru = s.lru[1:]
	}
	id := s.nextID
	for {
		if _, used := s.sessions[id]; !used && id > 0 {
			break
		}
		id++
		if id <= 0 {
			id = 1
		}
	}
	s.nextID = id + 1
	if s.nextID <= 0 {
		s.nextID = 1
	}
	fs := &fetchSession{id: id, epoch: 0, parts: make(map[sessionKey]*sessionPart)}
	s.sessions[id] = fs
	s.lru = append(s.lru, id)
	return fs
}

// get finds a session for an incremental fetch and checks its epoch.
func (s *fetchSessions) get(id, epoch int32) (*fetchSession, *kerr.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fs, ok := s.sessions[id]
	if !ok {
		return nil, kerr.FetchSessionIDNotFound
	}
	fs.mu.Lock()
	e := fs.epoch
	fs.mu.Unlock()
	if e != epoch {
		return nil, kerr.InvalidFetchSessionEpoch
	}
	for i, v := range s.lru {
		if v == id {
			s.lru = append(append(s.lru[:i:i], s.lru[i+1:]...), id)
			break
		}
	}
	return fs, nil
}

func (s *fetchSessions) remove(id int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions[id]; !ok {
		return
	}
	delete(s.sessions, id)
	for i, v := range s.lru {
		if v == id {
			s.lru = append(s.lru[:i:i], s.lru[i+1:]...)
			break
		}
	}
}

func (fs *fetchSession) upsert(k sessionKey, id [16]byte, offset int64, maxBytes int32) {
	p, ok := fs.parts[k]
	if !ok {
		p = &sessionPart{key: k, lastHW: -1, lastLSO: -1, lastStart: -1}
		fs.parts[k] = p
		fs.order = append(fs.order, k)
	}
	p.topicID, p.offset, p.maxBytes = id, offset, maxBytes
}

func (fs *fetchSession) forget(k sessionKey) {
	if _, ok := fs.parts[k]; !ok {
		return
	}
	delete(fs.parts, k)
	for i, v := range fs.order {
		if v == k {
			fs.order = append(fs.order[:i:i], fs.order[i+1:]...)
			break
		}
	}
}
