package filter

import (
	"net/netip"
	"strconv"
	"strings"
)

// hostPort splits a --host value that names a port ("10.0.0.2:80",
// "[::1]:8080", "example.com:80", ":8080": any host) into its host and
// port; ok is false for one without a port (an address alone, "::1", is
// no port either).
func hostPort(p string) (host string, port uint16, ok bool) {
	i := strings.LastIndexByte(p, ':')
	if i < 0 {
		return "", 0, false
	}
	host, ps := p[:i], p[i+1:]
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	} else if strings.Contains(host, ":") {
		return "", 0, false // an IPv6 address without brackets: no port
	}
	n, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return "", 0, false
	}
	return host, uint16(n), true
}

// hostPortMatches is hostMatches for a value with a port: the port must
// be the one named, never a longer one that starts with it (--host
// 10.0.0.2:80 does not select 10.0.0.2:8080). An address with a port
// selects a connection with that endpoint (either side), or whose Host
// is that address and port; a name with a port one whose Host holds the
// name (as a name alone matches: a substring, any case) and whose port
// is the one named: the Host's, else, when it names none, the server's
// (Host: example.com to port 80). A port alone (name "": ":8080") selects
// a connection with an endpoint at that port or a Host with it. host is
// the Host ("": none).
func hostPortMatches(name string, port uint16, client, server netip.AddrPort, host string) bool {
	hport := server.Port()
	if hn, hp, ok := hostPort(host); ok {
		host, hport = hn, hp
	} else {
		host = unbracket(host)
	}
	if name == "" {
		return client.Port() == port || server.Port() == port || host != "" && hport == port
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		ip = ip.Unmap()
		if client.Addr().Unmap() == ip && client.Port() == port || server.Addr().Unmap() == ip && server.Port() == port {
			return true
		}
		hip, err := netip.ParseAddr(host)
		return err == nil && hip.Unmap() == ip && hport == port
	}
	return host != "" && hport == port && strings.Contains(strings.ToLower(host), strings.ToLower(name))
}

// unbracket is h without the brackets of a bracketed IPv6 address
// ("[::1]": "::1"), else h.
func unbracket(h string) string {
	if len(h) > 2 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}
