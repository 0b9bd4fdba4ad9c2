package config

import "strings"

// Suggest returns the known config most likely meant by name, or "" when
// none is close. It knows the two classic mix-ups — a topic config in
// server.properties (retention.ms for log.retention.ms) and a broker config
// as a topic override (log.retention.ms for retention.ms) — then compares
// names ignoring case and the separators '_' and '-', then by edit distance.
func (c *Catalog) Suggest(name string) string {
	if s := c.crossCatalog(name); s != "" {
		return s
	}
	norm := normalizeName(name)
	best, bestDist := "", maxSuggestDistance(norm)+1
	for _, d := range c.defs {
		dist := editDistance(norm, d.Name)
		if dist < bestDist {
			best, bestDist = d.Name, dist
		}
	}
	return best
}

// crossCatalog maps a config of the other catalog to its counterpart here.
func (c *Catalog) crossCatalog(name string) string {
	switch c.kind {
	case "broker":
		if td, ok := topicCatalog.Lookup(name); ok && len(td.Synonyms) > 0 {
			return td.Synonyms[0].Name
		}
	case "topic":
		for _, td := range topicCatalog.defs {
			for _, s := range td.Synonyms {
				if s.Name == name {
					return td.Name
				}
			}
		}
	}
	return ""
}

func normalizeName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer("_", ".", "-", ".").Replace(s)
}

// maxSuggestDistance bounds how different a suggestion may be: two edits,
// or one in five characters for long names.
func maxSuggestDistance(name string) int {
	return max(2, len(name)/5)
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and swaps of adjacent characters cost one each.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
