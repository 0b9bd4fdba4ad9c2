//go:build !race

package wire

// allocSlack scales allocation ceilings; 1 without the race detector.
const allocSlack = 1
