package pipeline

import (
	"regexp"
	"time"

	"github.com/wsdump/wsdump/health"
)

// HealthFlags are the heartbeat and reconnect-storm options of the
// commands that judge health (conns, report, lint):
// one set, so that lint's verdicts are the ones conns shows for the
// same flags.
type HealthFlags struct {
	HeartbeatText     string
	HeartbeatInterval time.Duration
	Tolerance         float64
	StormAttempts     int
	StormWindow       time.Duration

	textRE *regexp.Regexp
}

// validate checks the heartbeat and storm flags.
func (o *HealthFlags) validate() error {
	o.textRE = nil
	if o.HeartbeatText != "" {
		re, err := regexp.Compile(o.HeartbeatText)
		if err != nil {
			return Usagef("--heartbeat-text: %v", err)
		}
		o.textRE = re
	}
	if o.HeartbeatInterval < 0 {
		return Usagef("--heartbeat-interval must not be negative")
	}
	if o.Tolerance < 1 {
		return Usagef("--tolerance must be at least 1")
	}
	if o.StormAttempts < 2 || o.StormWindow <= 0 {
		return Usagef("--storm-attempts must be at least 2 and --storm-window positive")
	}
	return nil
}

// health is the tracker's options of the flags (validated).
func (o *HealthFlags) health() health.Options {
	return health.Options{
		HeartbeatText: o.textRE, HeartbeatInterval: o.HeartbeatInterval, Tolerance: o.Tolerance,
		StormAttempts: o.StormAttempts, StormWindow: o.StormWindow,
	}
}

// DefaultHealthFlags are the flags' defaults (addHealthFlags's).
func DefaultHealthFlags() HealthFlags {
	return HealthFlags{Tolerance: 1.5, StormAttempts: 5, StormWindow: 10 * time.Second}
}
