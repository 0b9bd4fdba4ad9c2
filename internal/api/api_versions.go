package api

// ApiVersions (key 18; KIP-35, KIP-511 for v3's flexible request with the
// client's software name and version). The answer is the registry itself;
// v3+ also carries the feature flags of KIP-584 (features.go), among them
// transaction.version 2, which turns on transactions v2 (KIP-890 part 2).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { registerOn(onBoth, kmsg.ApiVersions, 0, 4, handleApiVersions) }

func handleApiVersions(_ context.Context, h *Handler, _ *Client, req kmsg.Request) reply {
	r := req.(*kmsg.ApiVersionsRequest)
	resp := r.ResponseKind().(*kmsg.ApiVersionsResponse)
	if r.Version >= 3 && !validSoftwareName(r.ClientSoftwareName, r.ClientSoftwareVersion) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return now(resp)
	}
	resp.ApiKeys = supported(h.scope)
	if r.Version >= 3 {
		h.setFeatures(resp)
	}
	return now(resp)
}

// unsupportedApiVersions is the answer to an ApiVersions version we do
// not know: error 35 and our ranges, encoded as v0 so any client can read
// it and retry with a version we have.
func (h *Handler) unsupportedApiVersions() kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(0)
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = supported(h.scope)
	return versionPinned{resp}
}

// versionPinned keeps a response at the version it was built for when
// the dispatcher sets the request's version.
type versionPinned struct{ kmsg.Response }

func (versionPinned) SetVersion(int16) {}

// validSoftwareName applies KIP-511's rule for the client's software name
// and version: letters, digits, '.', '-'; starting and ending with a
// letter or digit. Empty values are accepted (older clients send none).
func validSoftwareName(name, version string) bool {
	for _, s := range []string{name, version} {
		if s == "" {
			continue
		}
		if !alnum(rune(s[0])) || !alnum(rune(s[len(s)-1])) {
			return false
		}
		for _, r := range s {
			if !alnum(r) && r != '.' && r != '-' {
				return false
			}
		}
	}
	return true
}

func alnum(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' }
