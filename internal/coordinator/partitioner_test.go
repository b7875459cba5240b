package coordinator

import "testing"

// The expected values are Java's: String.hashCode() and
// Utils.abs(hashCode) % n, computed with a JDK.
func TestPartitionForMatchesJava(t *testing.T) {
	for _, c := range []struct {
		key         string
		hash        int32
		mod50, mod7 int32
	}{
		{"", 0, 0, 0},
		{"a", 97, 47, 6},
		{"hello", 99162322, 22, 0},
		{"Aa", 2112, 12, 5},
		{"BB", 2112, 12, 5},
		{"polygenelubricants", -2147483648, 0, 0}, // Utils.abs(MIN_VALUE) is 0
		{"\U0001F600", 1772899, 49, 2},            // a surrogate pair
		{"my-txn", -1061187895, 45, 5},
		{"console-consumer-59393", 162358280, 30, 0},
		{"test-group", 627841412, 12, 2},
		{"my-transactional-id", -959806496, 46, 5},
		{"Ünïcödé-grüppe", -1838758580, 30, 1},
		{"group-2", 293427300, 0, 5},
	} {
		if got := JavaHashCode(c.key); got != c.hash {
			t.Errorf("JavaHashCode(%q) = %d, want %d", c.key, got, c.hash)
		}
		if got := PartitionFor(c.key, 50); got != c.mod50 {
			t.Errorf("PartitionFor(%q, 50) = %d, want %d", c.key, got, c.mod50)
		}
		if got := PartitionFor(c.key, 7); got != c.mod7 {
			t.Errorf("PartitionFor(%q, 7) = %d, want %d", c.key, got, c.mod7)
		}
		if got := PartitionFor(c.key, 1); got != 0 {
			t.Errorf("PartitionFor(%q, 1) = %d", c.key, got)
		}
	}
}
