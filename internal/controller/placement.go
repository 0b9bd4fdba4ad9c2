package controller

// Replica placement, after Kafka's StripedReplicaPlacer (KIP-631's KRaft
// controller; rack awareness as KIP-36 defined it): replicas go to racks
// round-robin from a random rack, one rack per replica while racks last,
// and within a rack to brokers round-robin from a random broker. Each
// partition starts one rack further and, within each rack, one broker
// further, which gives the "striped" pattern
//
//	p0: A0 B0 C0
//	p1: B1 C1 A1
//	p2: C2 A2 B2
//
// and spreads preferred leaders. Once as many partitions as brokers were
// placed, racks and brokers are shuffled so the pattern does not repeat.
// Brokers without a rack form one rack of their own. Unlike Kafka, which
// may place followers on fenced brokers, only active brokers (unfenced,
// not shutting down) get replicas, so a new partition's ISR is all its
// replicas.

import (
	"math/rand/v2"
	"slices"

	"github.com/samsa-io/samsa/internal/metadata"
)

// brokerList hands out a rack's brokers round-robin.
type brokerList struct {
	ids                  []int32
	index, offset, epoch int
}

// next returns the next broker of this placement epoch, or -1 once every
// broker of the rack was handed out in it.
func (l *brokerList) next(epoch int) int32 {
	if l.epoch != epoch {
		l.epoch, l.index, l.offset = epoch, 0, (l.offset+1)%len(l.ids)
	}
	if l.index >= len(l.ids) {
		return -1
	}
	id := l.ids[(l.index+l.offset)%len(l.ids)]
	l.index++
	return id
}

// rackList places partitions over racks.
type rackList struct {
	rnd     *rand.Rand
	racks   []*brokerList
	brokers int
	epoch   int
	offset  int
}

// newRackList groups brokers by rack (sorted, no rack first) with random
// starting offsets.
func newRackList(rnd *rand.Rand, brokers []metadata.BrokerRecord) *rackList {
	byRack := map[string]*brokerList{}
	var names []string
	for _, b := range brokers {
		name := "\x00" // sorts before every rack name
		if b.Rack != nil {
			name += "\x01" + *b.Rack
		}
		if byRack[name] == nil {
			byRack[name] = &brokerList{}
			names = append(names, name)
		}
		byRack[name].ids = append(byRack[name].ids, b.ID)
	}
	slices.Sort(names)
	rl := &rackList{rnd: rnd, brokers: len(brokers)}
	for _, name := range names {
		l := byRack[name]
		slices.Sort(l.ids)
		l.offset = rnd.IntN(len(l.ids))
		rl.racks = append(rl.racks, l)
	}
	if len(rl.racks) > 0 {
		rl.offset = rnd.IntN(len(rl.racks))
	}
	return rl
}

// place returns one partition's replicas; rf must not exceed the brokers.
func (rl *rackList) place(rf int) []int32 {
	if rl.epoch == rl.brokers && rl.brokers > 1 {
		rl.shuffle()
		rl.epoch = 0
	}
	if rl.offset >= len(rl.racks) {
		rl.offset = 0
	}
	out := make([]int32, 0, rf)
	for i := rl.offset; len(out) < rf; i = (i + 1) % len(rl.racks) {
		if id := rl.racks[i].next(rl.epoch); id >= 0 {
			out = append(out, id)
		}
	}
	rl.epoch++
	rl.offset++
	return out
}

func (rl *rackList) shuffle() {
	rl.rnd.Shuffle(len(rl.racks), func(i, j int) { rl.racks[i], rl.racks[j] = rl.racks[j], rl.racks[i] })
	for _, l := range rl.racks {
		rl.rnd.Shuffle(len(l.ids), func(i, j int) { l.ids[i], l.ids[j] = l.ids[j], l.ids[i] })
	}
}

// activeBrokers returns the brokers that may get new replicas, by id.
func activeBrokers(im *metadata.Image) []metadata.BrokerRecord {
	var out []metadata.BrokerRecord
	for _, b := range im.Brokers() {
		if isActive(im, b.ID) {
			out = append(out, b)
		}
	}
	return out
}

// place assigns parts partitions of rf replicas over the active brokers.
func (c *Controller) place(brokers []metadata.BrokerRecord, parts, rf int) [][]int32 {
	rl := newRackList(c.cfg.Rand, brokers)
	out := make([][]int32, parts)
	for p := range out {
		out[p] = rl.place(rf)
	}
	return out
}
