package main

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"
)

// The latency chart: for each load, a cluster of bars per broker, one bar
// per percentile (median over the rounds), whiskers from min to max, on
// a logarithmic millisecond axis. Plain SVG, no scripts.
const (
	chartW, chartH = 880, 440
	plotL, plotR   = 70, 700 // the plot area
	plotT, plotB   = 56, 360
	legendX        = 720
	targetMs       = 5.0  // issue 4's end-to-end p99 target
	clusterShare   = 0.36 // of a load group's width, per broker
	barGap         = 3.0
	whiskerCap     = 4.0
	axisFont       = 11
	labelFont      = 12
	titleFont      = 14
)

var (
	percentileNames = []string{"p50", "p99", "p99.9"}
	barColors       = map[string][]string{
		samsa: {"#1f4e79", "#2e75b6", "#9dc3e6"},
		kfake: {"#843c0c", "#c55a11", "#f4b183"},
	}
)

var percentiles = []func(l latency) time.Duration{
	func(l latency) time.Duration { return l.Result.Latency.P50 },
	func(l latency) time.Duration { return l.Result.Latency.P99 },
	func(l latency) time.Duration { return l.Result.Latency.P999 },
}

// axis maps milliseconds to y on a log scale between two powers of ten.
type axis struct{ lo, hi float64 }

func (a axis) y(v float64) float64 {
	v = math.Max(v, a.lo)
	f := (math.Log10(v) - math.Log10(a.lo)) / (math.Log10(a.hi) - math.Log10(a.lo))
	return plotB - f*(plotB-plotT)
}

// axisFor covers every value from the smallest to the largest, and the
// target.
func (r *results) axisFor() axis {
	lo, hi := targetMs, targetMs
	for _, pt := range r.Plan.Points {
		for _, name := range []string{samsa, kfake} {
			for _, p := range percentiles {
				s := r.of(name, e2eMs(pt, p))
				if s.N > 0 {
					lo, hi = math.Min(lo, s.Min), math.Max(hi, s.Max)
				}
			}
		}
	}
	lo = math.Max(lo, 0.01)
	return axis{lo: math.Pow(10, math.Floor(math.Log10(lo))), hi: math.Pow(10, math.Ceil(math.Log10(hi)))}
}

func msLabel(v float64) string {
	if v >= 1 {
		return fmt.Sprintf("%g", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

// svg renders the chart.
func (r *results) svg() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif">`+"\n",
		chartW, chartH, chartW, chartH)
	w(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	w(`<text x="%d" y="24" font-size="%d" font-weight="bold">End-to-end latency, 1 KiB records, acks=1, single node (%s)</text>`+"\n",
		plotL, titleFont, html.EscapeString(r.Date.UTC().Format("2006-01-02")))
	w(`<text x="%d" y="42" font-size="%d" fill="#444">bars: median of %d round%s; whiskers: min–max; loads: shares of each broker's own max rates</text>`+"\n",
		plotL, axisFont, r.Plan.Rounds, plural(r.Plan.Rounds))

	ax := r.axisFor()
	for dec := ax.lo; dec <= ax.hi*1.0001; dec *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := dec * m
			if v > ax.hi*1.0001 {
				break
			}
			y := ax.y(v)
			stroke, width := "#e4e4e4", 1.0
			if m == 1 {
				stroke = "#bbbbbb"
			}
			w(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"/>`+"\n", plotL, plotR, y, y, stroke, width)
			if m == 1 || ax.hi/ax.lo <= 1000 {
				w(`<text x="%d" y="%.1f" font-size="%d" text-anchor="end">%s</text>`+"\n", plotL-6, y+4, axisFont, msLabel(v))
			}
		}
	}
	w(`<text transform="translate(20,%d) rotate(-90)" font-size="%d" text-anchor="middle">milliseconds (log scale)</text>`+"\n",
		(plotT+plotB)/2, labelFont)
	w(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#333"/>`+"\n", plotL, plotR, plotB, plotB)
	w(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#333"/>`+"\n", plotL, plotL, plotT, plotB)

	pts := r.Plan.Points
	groupW := float64(plotR-plotL) / float64(max(len(pts), 1))
	for gi, pt := range pts {
		gx := float64(plotL) + groupW*float64(gi)
		clusterW := groupW * clusterShare
		for bi, name := range []string{samsa, kfake} {
			cx := gx + groupW*(0.5-clusterShare) + clusterW*float64(bi) + float64(bi)*barGap*2
			barW := clusterW/float64(len(percentiles)) - barGap
			for pi, p := range percentiles {
				s := r.of(name, e2eMs(pt, p))
				if s.N == 0 {
					continue
				}
				x := cx + float64(pi)*(barW+barGap)
				y := ax.y(s.Med)
				w(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s at %s: %s ms (median %s)</title></rect>`+"\n",
					x, y, barW, float64(plotB)-y, barColors[name][pi], name, percentileNames[pi], pt, s, num(s.Med))
				mid := x + barW/2
				y1, y2 := ax.y(s.Min), ax.y(s.Max)
				w(`<path d="M%.1f %.1fV%.1fM%.1f %.1fh%.1fM%.1f %.1fh%.1f" stroke="#222" fill="none"/>`+"\n",
					mid, y1, y2, mid-whiskerCap, y1, 2*whiskerCap, mid-whiskerCap, y2, 2*whiskerCap)
			}
			rate := r.of(name, rateAt(pt))
			w(`<text x="%.1f" y="%d" font-size="%d" text-anchor="middle">%s</text>`+"\n", cx+clusterW/2, plotB+16, labelFont, name)
			w(`<text x="%.1f" y="%d" font-size="%d" text-anchor="middle" fill="#444">%s/s</text>`+"\n", cx+clusterW/2, plotB+30, axisFont, rateText(rate.Med))
		}
		w(`<text x="%.1f" y="%d" font-size="%d" text-anchor="middle" font-weight="bold">%s</text>`+"\n", gx+groupW/2, plotB+50, labelFont, pt)
	}
	ty := ax.y(targetMs)
	w(`<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#c00000" stroke-dasharray="6 4"/>`+"\n", plotL, plotR, ty, ty)
	ly := plotT
	for _, name := range []string{samsa, kfake} {
		for pi, pn := range percentileNames {
			w(`<rect x="%d" y="%d" width="14" height="14" fill="%s"/>`+"\n", legendX, ly, barColors[name][pi])
			w(`<text x="%d" y="%d" font-size="%d">%s %s</text>`+"\n", legendX+20, ly+12, labelFont, name, pn)
			ly += 22
		}
		ly += 10
	}
	w(`<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#c00000" stroke-dasharray="6 4"/>`+"\n", legendX, legendX+14, ly+7, ly+7)
	w(`<text x="%d" y="%d" font-size="%d" fill="#c00000">issue-4 target:</text>`+"\n", legendX+20, ly+12, axisFont)
	w(`<text x="%d" y="%d" font-size="%d" fill="#c00000">Samsa p99 &lt; 5 ms</text>`+"\n", legendX+20, ly+26, axisFont)
	w(`<text x="%d" y="%d" font-size="%d" fill="#c00000">at 50%% of max produce</text>`+"\n", legendX+20, ly+40, axisFont)
	w("</svg>\n")
	return b.String()
}

// rateText is a rate like "12.3k".
func rateText(v float64) string {
	if v >= 1000 {
		return num(v/1000) + "k"
	}
	return num(v)
}
