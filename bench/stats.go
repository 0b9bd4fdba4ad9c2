package main

import (
	"fmt"
	"math"
	"sort"
)

// span is the range of one figure over the rounds.
type span struct {
	Min, Med, Max float64
	N             int
}

func spanOf(xs []float64) span {
	if len(xs) == 0 {
		return span{}
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return span{Min: s[0], Med: med, Max: s[len(s)-1], N: len(s)}
}

// digits returns how many decimals show v to about three significant
// figures.
func digits(v float64) int {
	switch a := math.Abs(v); {
	case a >= 100 || a == 0:
		return 0
	case a >= 10:
		return 1
	case a >= 1:
		return 2
	default:
		return 3
	}
}

func num(v float64) string { return fmt.Sprintf("%.*f", digits(v), v) }

// String is "min-max", or one number when they print the same.
func (s span) String() string {
	if s.N == 0 {
		return "—"
	}
	lo, hi := num(s.Min), num(s.Max)
	if lo == hi {
		return lo
	}
	return lo + "–" + hi
}

// times is "min–max×".
func (s span) times() string {
	if s.N == 0 {
		return "—"
	}
	return s.String() + "×"
}

// percent is "min–max%" of v.
func (s span) percent() string {
	if s.N == 0 {
		return "—"
	}
	p := span{Min: s.Min * 100, Med: s.Med * 100, Max: s.Max * 100, N: s.N}
	return p.String() + "%"
}

// count is a span of large counts, in thousands when they are.
func (s span) count() string {
	if s.N == 0 {
		return "—"
	}
	if s.Min >= 10000 {
		k := span{Min: s.Min / 1e3, Med: s.Med / 1e3, Max: s.Max / 1e3, N: s.N}
		return k.String() + " k"
	}
	return s.String()
}
