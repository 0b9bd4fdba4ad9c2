package raft

import (
	"io"

	etcdraft "go.etcd.io/raft/v3"
)

// SnapshotReporter is a Transport that reports the delivery of every MsgSnap
// it is given, exactly once, through Node.ReportSnapshot. For any other
// Transport the node reports a snapshot delivered as soon as it is handed
// over; if it was lost, the leader probes the follower and sends it again.
type SnapshotReporter interface {
	Transport
	ReportsSnapshots() bool
}

// attacher is a Transport of this package that needs the node it serves:
// Open attaches it, and the node's Close closes it.
type attacher interface {
	attach(n *Node) io.Closer
}

type reportKind uint8

const (
	reportUnreachable reportKind = iota
	reportSnapOK
	reportSnapFailed
)

// report is a transport's news about a peer, for raft's flow control.
type report struct {
	id   uint64
	kind reportKind
}

// ReportUnreachable tells raft that a message to peer id could not be
// delivered, so that the leader stops streaming entries to it and probes
// instead. It never blocks, and may be called from Transport.Send; a report
// the loop has no room for is dropped (the next failure reports again).
func (n *Node) ReportUnreachable(id uint64) {
	select {
	case n.reports <- report{id: id, kind: reportUnreachable}:
	default:
	}
}

// ReportSnapshot tells raft whether a MsgSnap to peer id was delivered.
// While a snapshot is outstanding the leader sends that peer nothing else,
// so a SnapshotReporter must report every one. It waits for the loop, so it
// must not be called from Transport.Send.
func (n *Node) ReportSnapshot(id uint64, ok bool) {
	r := report{id: id, kind: reportSnapFailed}
	if ok {
		r.kind = reportSnapOK
	}
	select {
	case n.reports <- r:
	case <-n.done:
	}
}

// handleReport passes a transport's report to raft, on the loop.
func (l *loop) handleReport(r report) {
	switch r.kind {
	case reportUnreachable:
		l.rn.ReportUnreachable(r.id)
	case reportSnapOK:
		l.rn.ReportSnapshot(r.id, etcdraft.SnapshotFinish)
	case reportSnapFailed:
		l.rn.ReportSnapshot(r.id, etcdraft.SnapshotFailure)
	}
}

func (l *loop) drainReports() {
	for range maxPropBatch {
		select {
		case r := <-l.n.reports:
			l.handleReport(r)
		default:
			return
		}
	}
}

// transportReportsSnapshots reports whether the transport reports snapshot
// delivery itself.
func (l *loop) transportReportsSnapshots() bool {
	sr, ok := l.n.cfg.Transport.(SnapshotReporter)
	return ok && sr.ReportsSnapshots()
}
