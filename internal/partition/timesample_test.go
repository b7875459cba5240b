package partition

import "testing"

func TestTimeSamples(t *testing.T) {
	var s timeSamples
	if _, ok := s.at(0); ok {
		t.Fatal("empty samples answered")
	}
	for i := int64(0); i < 10_000; i++ {
		s.add(i, 1000+i)
	}
	if len(s.entries) > maxTimeSamples {
		t.Fatalf("%d samples, want at most %d", len(s.entries), maxTimeSamples)
	}
	if s.entries[0].offset != 0 {
		t.Fatalf("oldest sample %d, want 0", s.entries[0].offset)
	}
	if _, ok := s.at(-1); ok {
		t.Error("an offset before the samples answered")
	}
	for _, off := range []int64{0, 1, 4999, 9999, 20_000} {
		ts, ok := s.at(off)
		want := 1000 + min(off, 9999)
		if !ok || ts > want || want-ts > s.gap {
			t.Errorf("at(%d) = %d, want within %d below %d", off, ts, s.gap, want)
		}
	}
	s.truncate(5000)
	if ts, _ := s.at(9999); ts >= 6000 {
		t.Errorf("after truncation at(9999) = %d", ts)
	}
	s.add(3, 7) // below the newest: a truncation the table was not told of
	if ts, _ := s.at(5000); ts != 1000 {
		t.Errorf("at(5000) = %d, want 1000 (offset 0's; the rest went)", ts)
	}
}
