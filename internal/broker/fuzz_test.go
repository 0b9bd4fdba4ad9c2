package broker

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/api"
	"github.com/samsa-io/samsa/internal/wire"
)

var (
	fuzzOnce   sync.Once
	fuzzBroker *Broker
)

// fuzzNode is one live node for the whole fuzz process.
func fuzzNode(f *testing.F) *Broker {
	fuzzOnce.Do(func() {
		dir, err := os.MkdirTemp("", "samsa-fuzz")
		if err != nil {
			f.Fatal(err)
		}
		b, err := Start(Config{NodeID: 1, DataDir: dir, ListenAddr: "127.0.0.1:0", AutoCreateTopics: true,
			DeleteTopicEnable: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			f.Fatal(err)
		}
		fuzzBroker = b
		f.Cleanup(func() {
			b.Close()
			os.RemoveAll(dir)
		})
	})
	return fuzzBroker
}

// FuzzServe feeds request bodies of every key and version to a live
// node's handler: whatever the bytes, it answers or refuses without a
// panic, and an answer starts with the correlation id.
func FuzzServe(f *testing.F) {
	for key := int16(0); key < 100; key++ {
		req := kmsg.RequestForKey(key)
		if req == nil {
			continue
		}
		for _, v := range []int16{0, req.MaxVersion()} {
			req.SetVersion(v)
			f.Add(key, v, req.AppendTo(nil))
		}
	}
	b := fuzzNode(f)
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		hdr := wire.RequestHeader{Key: key, Version: version, CorrelationID: 77}
		if req := kmsg.RequestForKey(key); req != nil {
			req.SetVersion(version)
			hdr.Known, hdr.Flexible = true, req.IsFlexible()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		resp, err := b.handler.Serve(ctx, hdr, body, &api.Client{})
		if err != nil || resp == nil {
			return
		}
		v := resp.Vec
		if resp.Wait != nil {
			v = resp.Wait(ctx)
		}
		v.ReleaseRegions()
		out := v.Bytes
		if len(out) < 4 || out[3] != 77 || out[0]|out[1]|out[2] != 0 {
			t.Fatalf("response does not start with the correlation id: % x", out[:min(8, len(out))])
		}
	})
}
