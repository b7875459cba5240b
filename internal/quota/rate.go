package quota

import "math"

// maxThrottleMs bounds every throttle: throttle_time_ms is an int32.
const maxThrottleMs = math.MaxInt32

// sample is one window of a sampled rate (Kafka's SampledStat.Sample).
type sample struct {
	start, last int64 // ms: window start, last event
	value       float64
}

// rate is Kafka's Rate over a WindowedSum (SampledStat): up to
// samples+1 windows of sizeMs each, allocated as they are first used.
// The rate is the sum of the windows over the time since the oldest
// window started, counted as at least samples-1 full windows.
type rate struct {
	samples []sample
	cur     int
}

func (r *rate) current(now int64) *sample {
	if len(r.samples) == 0 {
		r.samples = append(r.samples, sample{start: now, last: now})
	}
	return &r.samples[r.cur]
}

// record adds v at now, starting a new window when the current one is
// complete (SampledStat.record).
func (r *rate) record(w window, v float64, now int64) {
	s := r.current(now)
	if now-s.start >= w.sizeMs {
		// One extra window is kept for the sample overlapping the
		// monitored span (Kafka's "overlapping sample").
		r.cur = (r.cur + 1) % (w.samples + 1)
		if r.cur >= len(r.samples) {
			r.samples = append(r.samples, sample{start: now, last: now})
		} else {
			r.samples[r.cur] = sample{start: now, last: now}
		}
		s = &r.samples[r.cur]
	}
	s.value += v
	s.last = now
}

// purge resets the windows with no event in the last samples×sizeMs.
func (r *rate) purge(w window, now int64) {
	expire := int64(w.samples) * w.sizeMs
	for i := range r.samples {
		if now-r.samples[i].last >= expire {
			r.samples[i] = sample{start: now, last: now}
		}
	}
}

// measure is Rate.measure: the rate per second at now and the span in ms
// it was measured over (Rate.windowSize).
func (r *rate) measure(w window, now int64) (perSec float64, spanMs int64) {
	r.purge(w, now)
	r.current(now)
	total, oldest := 0.0, r.samples[0].start
	for _, s := range r.samples {
		total += s.value
		oldest = min(oldest, s.start)
	}
	span := now - oldest
	if full, least := span/w.sizeMs, int64(w.samples-1); full < least {
		span += (least - full) * w.sizeMs
	}
	span = max(span, 1)
	return total / (float64(span) / 1000), span
}

// throttleMs is QuotaUtils.throttleTime for a rate that exceeds bound:
// the delay that brings it back to the bound if nothing more is
// recorded, (rate-bound)/bound × span, rounded; capped at capMs when
// capMs > 0 (QuotaUtils.boundedThrottleTime). 0 when within the bound.
func throttleMs(perSec, bound float64, spanMs, capMs int64) int64 {
	if perSec <= bound {
		return 0
	}
	t := float64(maxThrottleMs)
	if bound > 0 {
		t = math.Min(t, math.Floor((perSec-bound)/bound*float64(spanMs)+0.5))
	}
	if capMs > 0 {
		t = math.Min(t, float64(capMs))
	}
	return int64(t)
}

// recordAndThrottle records v and returns the throttle in ms
// (Sensor.record with quota checking, then the throttle time).
func (r *rate) recordAndThrottle(w window, v, bound float64, now, capMs int64) int64 {
	r.record(w, v, now)
	perSec, span := r.measure(w, now)
	return throttleMs(perSec, bound, span, capMs)
}

// bucket is Kafka's TokenBucket: credits refill at the quota per second
// up to a burst of samples × window seconds × quota; the quota is
// exhausted while credits are below zero. A new bucket starts full
// (Kafka's starts empty at time 0, so full at its first use).
type bucket struct {
	tokens  float64
	last    int64
	started bool
}

func (b *bucket) refill(w window, quota float64, now int64) {
	burst := float64(w.samples) * float64(w.sizeMs) / 1000 * quota
	if !b.started {
		b.tokens, b.last, b.started = burst, now, true
		return
	}
	elapsed := max(now-b.last, 0)
	b.tokens = math.Min(burst, b.tokens+quota*float64(elapsed)/1000)
	b.last = now
}

// throttleMs is ControllerMutationQuotaManager.throttleTimeMs: the time
// to bring the credits back to zero.
func (b *bucket) throttleMs(quota float64) int64 {
	if b.tokens >= 0 {
		return 0
	}
	return int64(math.Min(math.Floor(-b.tokens/quota*1000+0.5), maxThrottleMs))
}

// strict is StrictControllerMutationQuota.record: refused (with the
// throttle) while the credits are already below zero; otherwise taken,
// however far below zero that leaves them.
func (b *bucket) strict(w window, quota, permits float64, now int64) (int64, bool) {
	burst := float64(w.samples) * float64(w.sizeMs) / 1000 * quota
	b.refill(w, quota, now)
	if b.tokens < 0 {
		return b.throttleMs(quota), false
	}
	b.tokens = math.Min(burst, b.tokens-permits)
	return 0, true
}

// permissive is PermissiveControllerMutationQuota.record: always taken,
// throttled once the credits are below zero.
func (b *bucket) permissive(w window, quota, permits float64, now int64) int64 {
	burst := float64(w.samples) * float64(w.sizeMs) / 1000 * quota
	b.refill(w, quota, now)
	b.tokens = math.Min(burst, b.tokens-permits)
	return b.throttleMs(quota)
}
