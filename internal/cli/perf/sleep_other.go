//go:build !linux

package perf

import "time"

func sleepFor(d time.Duration) { time.Sleep(d) }
