package broker_test

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/samsa-io/samsa/internal/api"
	"github.com/samsa-io/samsa/samsatest"
)

// ApiVersions, as a client receives it, is exactly the handler registry;
// every advertised version of every key gets an answer, and a key or
// version outside it closes the connection.
func TestApiVersionsIsTheRegistry(t *testing.T) {
	node := samsatest.Start(t)
	body, closed := exchange(t, node.Addr(), frame(kmsg.NewPtrApiVersionsRequest(), 3))
	if closed {
		t.Fatal("ApiVersions closed the connection")
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(3)
	if err := resp.ReadFrom(body); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("ApiVersions: %v, error %d", err, resp.ErrorCode)
	}
	reg := api.Supported()
	if len(resp.ApiKeys) != len(reg) {
		t.Fatalf("advertised %d keys, registered %d", len(resp.ApiKeys), len(reg))
	}
	advertised := map[int16]bool{}
	for i, k := range resp.ApiKeys {
		if k.ApiKey != reg[i].ApiKey || k.MinVersion != reg[i].MinVersion || k.MaxVersion != reg[i].MaxVersion {
			t.Fatalf("advertised %+v, registered %+v", k, reg[i])
		}
		advertised[k.ApiKey] = true
		for _, v := range []int16{k.MinVersion, k.MaxVersion} {
			req := kmsg.RequestForKey(k.ApiKey)
			if _, closed := roundTrip(t, node.Addr(), req, v); closed {
				t.Errorf("%s v%d is advertised but closed the connection", kmsg.NameForKey(k.ApiKey), v)
			}
		}
		if k.MinVersion > 0 {
			if _, closed := roundTrip(t, node.Addr(), kmsg.RequestForKey(k.ApiKey), k.MinVersion-1); !closed {
				t.Errorf("%s v%d is not advertised but was answered", kmsg.NameForKey(k.ApiKey), k.MinVersion-1)
			}
		}
	}
	for key := int16(0); key < 100; key++ {
		req := kmsg.RequestForKey(key)
		if req == nil || advertised[key] {
			continue
		}
		if _, closed := roundTrip(t, node.Addr(), req, 0); !closed {
			t.Errorf("%s is not advertised but was answered", kmsg.NameForKey(key))
		}
	}
}

// roundTrip sends a default request; acks=0 produce aside, every request
// that is answered gets exactly its correlation id back.
func roundTrip(t *testing.T, addr string, req kmsg.Request, version int16) ([]byte, bool) {
	t.Helper()
	if p, ok := req.(*kmsg.ProduceRequest); ok {
		p.Acks = 1
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(frame(req, version)); err != nil {
		return nil, true
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, true
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	return body, false
}
