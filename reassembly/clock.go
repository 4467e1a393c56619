package reassembly

import "time"

// Clock is what the capture's packet times did, in reading order (the
// inputs merged, as the assembler gets them): where the clock jumped, and
// the runs of packets on one clock between the jumps. The pipeline's
// clock watch fills it (pipeline/clock.go); the limit notices say it.
type Clock struct {
	// Jumps are the first MaxClockJumps jumps; JumpsMore counts the rest.
	Jumps     []ClockJump
	JumpsMore int
	// Runs are the runs of packets between the jumps, in reading order
	// (one when the clock never jumped; none without packets). Past
	// MaxClockRuns, a run too short to be believed makes room, counted
	// in ShortMore; with none such, the last run takes in the
	// packets after further jumps.
	Runs      []ClockRun
	ShortMore int64
	// Last is the time of the input's last packet.
	Last time.Time
}

// MaxClockJumps bounds the jumps listed, MaxClockRuns the runs kept: a
// hostile capture can jump at every packet.
const (
	MaxClockJumps = 16
	MaxClockRuns  = 64
)

// ClockRunCredible is the packets a run of one clock needs to be believed
// (ClockRun.Judged).
const ClockRunCredible = 4

// ClockJump is one jump of the capture's clock: a packet far later than
// the packet before it (By > 0), or earlier (By < 0).
type ClockJump struct {
	Packet int64         // the packet after the jump, counted from 1 in reading order
	File   string        // its file, when several are read merged ("": one input)
	At     time.Time     // its time
	By     time.Duration // At less the packet before's time
	Gap    time.Duration // forward: the largest gap between packets before it, within runs
}

// ClockRun is a run of packets on one clock: between two jumps.
type ClockRun struct {
	From    int64     // its first packet, counted from 1
	Last    int64     // its last packet
	Packets int64     // how many (fewer than Last-From+1 when a short run between was set aside)
	Lo, Hi  time.Time // its earliest and latest time
	End     time.Time // its last packet's time
	// Judged: the clock jumped, and a connection still open at the end
	// of the input that ended in this run is judged to its End (a run too
	// short to be believed is not).
	Judged bool
}
