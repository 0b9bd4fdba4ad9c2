package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Listener is one entry of listeners or advertised.listeners.
type Listener struct {
	// Name is upper-cased, as Kafka normalises listener names.
	Name string
	// Host is empty to bind every interface; IPv6 hosts have no brackets.
	Host string
	Port int
}

// String renders the listener as Kafka writes it: NAME://host:port.
func (l Listener) String() string {
	return l.Name + "://" + net.JoinHostPort(l.Host, strconv.Itoa(l.Port))
}

// ParseListeners parses listener URIs ("PLAINTEXT://:9092",
// "SSL://[::1]:9093"). Names must be unique.
func ParseListeners(uris []string) ([]Listener, error) {
	out := make([]Listener, 0, len(uris))
	seen := make(map[string]bool, len(uris))
	for _, u := range uris {
		l, err := parseListener(u)
		if err != nil {
			return nil, err
		}
		if seen[l.Name] {
			return nil, fmt.Errorf("Each listener must have a different name, %s appears twice", l.Name)
		}
		seen[l.Name] = true
		out = append(out, l)
	}
	return out, nil
}

func parseListener(uri string) (Listener, error) {
	name, hostPort, ok := strings.Cut(uri, "://")
	if !ok || name == "" {
		return Listener{}, fmt.Errorf("Listener %q must be of the form NAME://host:port", uri)
	}
	host, portStr, err := net.SplitHostPort(hostPort)
	if err != nil {
		return Listener{}, fmt.Errorf("Listener %q must be of the form NAME://host:port", uri)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return Listener{}, fmt.Errorf("Listener %q has an invalid port", uri)
	}
	return Listener{Name: strings.ToUpper(name), Host: host, Port: port}, nil
}

// securityProtocols are the protocols a listener may speak.
var securityProtocols = []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

// ParseProtocolMap parses listener.security.protocol.map
// ("INTERNAL:SSL,EXTERNAL:SASL_SSL") into upper-case listener names and
// their protocols.
func ParseProtocolMap(s string) (map[string]string, error) {
	out := make(map[string]string)
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, entry := range strings.Split(s, ",") {
		name, proto, ok := strings.Cut(strings.TrimSpace(entry), ":")
		name, proto = strings.ToUpper(strings.TrimSpace(name)), strings.TrimSpace(proto)
		if !ok || name == "" {
			return nil, fmt.Errorf("Map entry %q must be of the form LISTENER:PROTOCOL", entry)
		}
		if (oneOf{values: securityProtocols}).Validate(proto) != nil {
			return nil, fmt.Errorf("Unknown security protocol %q for listener %s", proto, name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("Listener %s appears twice", name)
		}
		out[name] = proto
	}
	return out, nil
}

var listenersValidator = Func("NAME://host:port,...", func(v any) error {
	list, _ := v.([]string)
	_, err := ParseListeners(list)
	return err
})

var protocolMapValidator = Func("LISTENER:PROTOCOL,...", func(v any) error {
	s, _ := v.(string)
	_, err := ParseProtocolMap(s)
	return err
})

// hostPortValidator accepts "host:port" with an optional host, or "" for
// off.
var hostPortValidator = Func(`"host:port", or empty for off`, func(v any) error {
	if s, _ := v.(string); s != "" {
		return checkHostPort(s)
	}
	return nil
})

func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q must be of the form host:port", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has an invalid port", s)
	}
	return nil
}

// hostPortListValidator accepts host:port entries.
var hostPortListValidator = Func("host:port,...", func(v any) error {
	list, _ := v.([]string)
	for _, e := range list {
		if err := checkHostPort(e); err != nil {
			return err
		}
	}
	return nil
})

// votersValidator accepts id@host:port entries.
var votersValidator = Func("id@host:port,...", func(v any) error {
	list, _ := v.([]string)
	for _, e := range list {
		id, hp, ok := strings.Cut(e, "@")
		if !ok || !isNonNegInt(id) {
			return fmt.Errorf("%q must be of the form id@host:port", e)
		}
		if err := checkHostPort(hp); err != nil {
			return err
		}
	}
	return nil
})
