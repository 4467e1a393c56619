package lint

import (
	"os"
	"regexp"
	"strconv"
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

// TestReadmeRuleCount: the README's "(N rules with stable IDs" is the
// number of rules: a rule added without the count left it behind.
func TestReadmeRuleCount(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`\((\d+) rules with`).FindAllSubmatch(b, -1)
	if len(m) != 1 {
		t.Fatalf("README: %d places say \"(N rules with\", want 1", len(m))
	}
	if n, _ := strconv.Atoi(string(m[0][1])); n != len(Rules) {
		t.Errorf("README says %d rules, lint has %d", n, len(Rules))
	}
}
