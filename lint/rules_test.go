package lint

import (
	"regexp"
	"testing"
)

// Every anomaly the decoder defines has a rule: a new anomaly without one
// fails here rather than surfacing as WS999 in someone's CI.
func TestEveryAnomalyHasARule(t *testing.T) {
	names := AnomalyNames()
	if len(names) < 30 {
		t.Fatalf("only %d anomaly names", len(names))
	}
	for _, n := range names {
		if r := RuleForAnomaly(n); r.Anomaly != n {
			t.Errorf("anomaly %s has no rule", n)
		}
	}
}

func TestRulesAreWellFormed(t *testing.T) {
	ids, names := map[string]bool{}, map[string]bool{}
	idRE := regexp.MustCompile(`^WS[0-9]{3}$`)
	nameRE := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	for _, r := range Rules {
		if !idRE.MatchString(r.ID) || !nameRE.MatchString(r.Name) || ids[r.ID] || names[r.Name] {
			t.Errorf("rule %s %s: bad or repeated ID or name", r.ID, r.Name)
		}
		ids[r.ID], names[r.Name] = true, true
		if r.Severity < Info || r.Severity > Error || r.Summary == "" || r.Ref == "" || r.On == "" {
			t.Errorf("rule %s: incomplete", r.ID)
		}
	}
}

func TestParseSeverity(t *testing.T) {
	for s, want := range map[string]Severity{"error": Error, "WARNING": Warning, "info": Info, "none": None} {
		if got, err := ParseSeverity(s); err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if _, err := ParseSeverity("fatal"); err == nil {
		t.Error("fatal accepted")
	}
}
