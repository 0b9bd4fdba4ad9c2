package perf

import (
	"syscall"
	"time"
)

// sleepFor sleeps with the kernel's high-resolution timers. Go's own
// timers wake an idle program in whole milliseconds (its network poller
// waits at least 1 ms), which would add up to a millisecond of the
// generator's lateness to every measured latency; nanosleep on a locked
// thread wakes within tens of microseconds.
func sleepFor(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}
