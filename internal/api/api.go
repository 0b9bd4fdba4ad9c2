// Package api answers Kafka requests: a dispatch table with one file per
// API key, each registering the version range it implements. The table is
// the only source of the ApiVersions answer (KIP-35, KIP-511), so Samsa
// never advertises what it does not implement.
//
// Before kmsg decodes a body, wire.CheckRequest bounds every count in it by
// the bytes present; a request that fails the check, or an unknown key or
// version, closes that one connection, as Kafka does (ApiVersions answers
// UNSUPPORTED_VERSION at version 0 instead, so a client can fall back).
package api

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/metadata"
	"github.com/samsa-io/samsa/internal/wire"
)

// handlerFunc answers one decoded request.
type handlerFunc func(ctx context.Context, h *Handler, c *Client, req kmsg.Request) reply

// reply is a handler's answer: a response now, one to wait for (the
// writer goroutine calls wait, in request order), none (acks=0), or a
// reason to close the connection.
type reply struct {
	resp  kmsg.Response
	wait  func(ctx context.Context) kmsg.Response
	none  bool
	close error
	// encoded, if set, runs once the response is encoded: the memory it
	// referenced (fetched records) may be reused.
	encoded func()
	// regions, if set, returns the file regions whose placeholders the
	// response holds, in order (fetch_splice.go); the Response takes them.
	regions func() []*wire.Region
}

func now(resp kmsg.Response) reply { return reply{resp: resp} }

type registration struct {
	key, min, max int16
	fn            handlerFunc
	scope         scope
}

// scope says on which listeners an API is served: Kafka answers the
// broker-to-controller APIs (BrokerRegistration, AlterPartition, ...) only
// on the controller listener, and client APIs only on broker listeners;
// admin APIs are on both (KIP-919).
type scope uint8

const (
	onBroker scope = 1 << iota
	onController
	onBoth = onBroker | onController
)

var registry = map[int16]registration{}

// register adds an API served on broker listeners; each handler file calls
// it (or registerOn) from init.
func register(key kmsg.Key, min, max int16, fn handlerFunc) {
	registerOn(onBroker, key, min, max, fn)
}

// registerOn adds an API served on the listeners of sc.
func registerOn(sc scope, key kmsg.Key, min, max int16, fn handlerFunc) {
	if _, dup := registry[int16(key)]; dup {
		panic(fmt.Sprintf("api: key %d registered twice", key))
	}
	if probe := kmsg.RequestForKey(int16(key)); probe == nil || max > probe.MaxVersion() {
		panic(fmt.Sprintf("api: key %d version %d is beyond what kmsg encodes", key, max))
	}
	registry[int16(key)] = registration{key: int16(key), min: min, max: max, fn: fn, scope: sc}
}

// Supported returns the keys a broker listener serves with their version
// ranges, sorted by key: what ApiVersions advertises there.
func Supported() []kmsg.ApiVersionsResponseApiKey { return supported(onBroker) }

// SupportedOnController is Supported for the controller listener.
func SupportedOnController() []kmsg.ApiVersionsResponseApiKey { return supported(onController) }

func supported(sc scope) []kmsg.ApiVersionsResponseApiKey {
	keys := make([]int16, 0, len(registry))
	for k, r := range registry {
		if r.scope&sc != 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]kmsg.ApiVersionsResponseApiKey, len(keys))
	for i, k := range keys {
		r := registry[k]
		out[i] = kmsg.ApiVersionsResponseApiKey{ApiKey: r.key, MinVersion: r.min, MaxVersion: r.max}
	}
	return out
}

// Client describes the connection a request came on.
type Client struct {
	ID       *string
	Remote   string
	Listener string
}

// Handler answers requests for one broker.
type Handler struct {
	deps Deps
	log  *slog.Logger
	fs   *fetchSessions
	// scope is the listener kind this handler serves.
	scope scope
	// ctl answers the cluster APIs (cluster.go): the local controller on
	// a controller listener, a forwarder to the active one on a broker's.
	ctl Controller
}

// New returns a handler over deps.
func New(deps Deps) *Handler {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Handler{deps: deps, log: deps.Logger, fs: newFetchSessions(deps.FetchSessionCacheSlots, deps.Now), scope: onBroker, ctl: noController{}}
}

// ErrClose asks the connection to close after logging why.
var ErrClose = errors.New("api: closing the connection")

// Response is the answer to one request: Vec now (header and body,
// without the size prefix; a fetch's records may be file regions), or Wait
// to call, in request order, for it. Whoever holds a Vec with regions
// must release them once written or abandoned.
type Response struct {
	Vec  wire.Vec
	Wait func(ctx context.Context) wire.Vec
}

// KeepsNoRequest reports the API keys whose handler keeps no reference to
// the request body once its response is given, so the listener may reuse
// the frame. Produce, the only large request, qualifies: its batches are
// appended, and the log keeps no reference to them (log.Append).
func KeepsNoRequest(key int16) bool { return key == int16(kmsg.Produce) }

// Serve handles one request. A nil Response means none is sent (acks=0).
// An error means the connection must be closed.
func (h *Handler) Serve(ctx context.Context, hdr wire.RequestHeader, body []byte, c *Client) (*Response, error) {
	start := h.deps.Now()
	reg, ok := registry[hdr.Key]
	if !ok || reg.scope&h.scope == 0 {
		return nil, fmt.Errorf("%w: unsupported API key %d", ErrClose, hdr.Key)
	}
	if hdr.Version < reg.min || hdr.Version > reg.max {
		if hdr.Key == int16(kmsg.ApiVersions) {
			return &Response{Vec: wire.Vec{Bytes: h.encode(hdr, start, h.unsupportedApiVersions())}}, nil
		}
		return nil, fmt.Errorf("%w: API key %d version %d is outside %d-%d", ErrClose, hdr.Key, hdr.Version, reg.min, reg.max)
	}
	if err := wire.CheckRequest(hdr.Key, hdr.Version, body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrClose, err)
	}
	req := kmsg.RequestForKey(hdr.Key)
	req.SetVersion(hdr.Version)
	if err := req.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("%w: decoding API key %d v%d: %v", ErrClose, hdr.Key, hdr.Version, err)
	}
	r := reg.fn(ctx, h, c, req)
	switch {
	case r.close != nil:
		h.observe(hdr.Key, start)
		return nil, fmt.Errorf("%w: %v", ErrClose, r.close)
	case r.none:
		h.observe(hdr.Key, start)
		return nil, nil
	case r.wait != nil:
		return &Response{Wait: func(ctx context.Context) wire.Vec {
			resp := r.wait(ctx)
			resp.SetVersion(hdr.Version)
			return h.encodeReply(hdr, start, resp, &r)
		}}, nil
	}
	r.resp.SetVersion(hdr.Version)
	return &Response{Vec: h.encodeReply(hdr, start, r.resp, &r)}, nil
}

// encodeReply encodes resp, splicing in the file regions it has
// placeholders for (fetch_splice.go).
func (h *Handler) encodeReply(hdr wire.RequestHeader, start time.Time, resp kmsg.Response, r *reply) wire.Vec {
	var regions []*wire.Region
	if r.regions != nil {
		regions = r.regions()
	}
	b := h.encode(hdr, start, resp)
	v := wire.Vec{Bytes: b}
	if len(regions) > 0 {
		var ok bool
		if v, ok = splice(b, resp.IsFlexible(), regions); !ok {
			h.log.Error("api: fetch response placeholders not found; sending the records copied")
			materialize(resp, regions)
			wire.PutBuffer(b)
			v = wire.Vec{Bytes: h.encode(hdr, start, resp)}
		}
	}
	if r.encoded != nil {
		r.encoded()
	}
	return v
}

// encode writes the response header (v1 with tagged fields for flexible
// versions, except ApiVersions which always uses v0: KIP-511) and body.
func (h *Handler) encode(hdr wire.RequestHeader, start time.Time, resp kmsg.Response) []byte {
	b := binary.BigEndian.AppendUint32(wire.GetBuffer(sizeHint(resp))[:0], uint32(hdr.CorrelationID))
	if resp.IsFlexible() && hdr.Key != int16(kmsg.ApiVersions) {
		b = append(b, 0)
	}
	b = resp.AppendTo(b)
	h.observe(hdr.Key, start)
	return b
}

// sizeHint sizes a response's buffer: a fetch response is mostly its
// record batches, and growing a megabyte by doubling would copy it again
// several times over.
func sizeHint(resp kmsg.Response) int {
	f, ok := resp.(*kmsg.FetchResponse)
	if !ok {
		return 256
	}
	n := 256
	for _, t := range f.Topics {
		n += 64 + len(t.Topic)
		for _, p := range t.Partitions {
			n += 64 + len(p.RecordBatches) + 32*len(p.AbortedTransactions)
		}
	}
	return n
}

func (h *Handler) observe(key int16, start time.Time) {
	if h.deps.Observe != nil {
		h.deps.Observe(key, h.deps.Now().Sub(start))
	}
}

// errCode returns the Kafka error code of err: 0 for nil, the code of a
// wrapped kerr value, else UNKNOWN_SERVER_ERROR.
func errCode(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

// errMessage is err's text for responses that carry one, nil for success.
func errMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

// image returns the current metadata image.
func (h *Handler) image() *metadata.Image { return h.deps.Image() }
