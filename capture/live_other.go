//go:build !linux

package capture

const liveSupportsAny = false

// OpenLive fails outside Linux: the pure-Go build captures through
// AF_PACKET sockets, which only Linux has.
func OpenLive(opts LiveOptions) (LiveSource, error) {
	return nil, ErrLiveUnsupported
}
