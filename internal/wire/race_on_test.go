//go:build race

package wire

// allocSlack scales allocation ceilings: the race detector's
// instrumentation makes the same code allocate more (measured: error paths
// 13-14 objects instead of 8-9, kmsg up to 43 bytes per body byte instead
// of 24).
const allocSlack = 2
