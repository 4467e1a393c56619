package wsparse

// Side names the peer that sends in direction d: "client" or "server"
// (who closed first, who initiated).
func (d Dir) Side() string {
	if d == ClientToServer {
		return "client"
	}
	return "server"
}
