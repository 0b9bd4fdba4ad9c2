package api

// Zero-copy fetch responses. kmsg encodes the FetchResponse with a small
// placeholder as the record batches of each partition served from a file
// region; splice then replaces each placeholder, its length prefix
// included, by the real length prefix (kbin's encoding, as kmsg writes
// it: int32 before v12, compact uvarint length+1 from v12), and marks
// where the region goes. The connection writes the bytes around the
// regions and sends the regions from their files (sendfile), so record
// bytes are neither read into user space nor copied into the response.

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/wire"
)

const (
	nonceLen       = 12
	placeholderLen = nonceLen + 4 // the nonce, then the region's index
)

// nonce starts every placeholder. It is random per process, so no client
// can make a response hold it elsewhere (in a producer id of an aborted
// transaction, say); splice still checks, and falls back to copying.
var nonce = func() (n [nonceLen]byte) {
	rand.Read(n[:])
	return n
}()

// placeholder is the stand-in for the records of regions[k].
func placeholder(k int) []byte {
	b := make([]byte, placeholderLen)
	copy(b, nonce[:])
	binary.BigEndian.PutUint32(b[nonceLen:], uint32(k))
	return b
}

// appendRecordsLen appends the length prefix kmsg writes before n bytes of
// record batches.
func appendRecordsLen(dst []byte, n int, flexible bool) []byte {
	if flexible {
		return kbin.AppendUvarint(dst, uint32(n)+1)
	}
	return kbin.AppendInt32(dst, int32(n))
}

// splice turns b, an encoded response holding placeholder(k) for each
// regions[k] in order, into a Vec, in b's memory (every real prefix is at
// most 5 bytes, shorter than a placeholder with its prefix). ok is false,
// and b is left unusable, when the placeholders are not found exactly once
// each, in order.
func splice(b []byte, flexible bool, regions []*wire.Region) (v wire.Vec, ok bool) {
	pre := appendRecordsLen(nil, placeholderLen, flexible)
	cuts := make([]int, 0, len(regions))
	w, r := 0, 0
	for k, reg := range regions {
		i := bytes.Index(b[r:], nonce[:])
		if i < 0 {
			return v, false
		}
		at := r + i
		start, end := at-len(pre), at+placeholderLen
		if start < r || end > len(b) || !bytes.Equal(b[start:at], pre) ||
			binary.BigEndian.Uint32(b[at+nonceLen:]) != uint32(k) {
			return v, false
		}
		w += copy(b[w:], b[r:start])
		w = len(appendRecordsLen(b[:w], reg.Len, flexible))
		cuts = append(cuts, w)
		r = end
	}
	if bytes.Contains(b[r:], nonce[:]) {
		return v, false
	}
	w += copy(b[w:], b[r:])
	return wire.Vec{Bytes: b[:w], Cuts: cuts, Regions: regions}, true
}

// materialize replaces the placeholders in resp by the regions' bytes and
// releases the regions: the way out when splice fails. A region that
// cannot be read becomes KAFKA_STORAGE_ERROR with no records.
func materialize(resp kmsg.Response, regions []*wire.Region) {
	f, ok := resp.(*kmsg.FetchResponse)
	if !ok {
		return
	}
	for ti := range f.Topics {
		for pi := range f.Topics[ti].Partitions {
			p := &f.Topics[ti].Partitions[pi]
			if len(p.RecordBatches) != placeholderLen || !bytes.Equal(p.RecordBatches[:nonceLen], nonce[:]) {
				continue
			}
			k := int(binary.BigEndian.Uint32(p.RecordBatches[nonceLen:]))
			if k >= len(regions) {
				continue
			}
			data, err := regions[k].AppendTo(nil)
			p.RecordBatches = data
			if err != nil {
				p.ErrorCode, p.RecordBatches = kerr.KafkaStorageError.Code, []byte{}
			}
		}
	}
	for _, r := range regions {
		r.Release()
	}
}
