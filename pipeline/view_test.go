package pipeline

import (
	"regexp"
	"testing"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/filter"
)

// TestViewAppOptions: the default table (frames), CSV's frames and -T
// fields without an app field on messages decode no application messages,
// as they show none; every view that shows them (--messages, jsonl, csv
// --messages, -T fields --messages -e app.*, parquet) or filters on them
// keeps the --decode mode; of the filters, only a -Y that reads app (or
// the whole $env) needs them.
func TestViewAppOptions(t *testing.T) {
	for _, c := range []struct {
		name    string
		o       ViewOptions
		spec    filter.Spec
		dataset bool
		want    string
	}{
		{name: "table", o: ViewOptions{Format: "table"}, want: appproto.ModeNone},
		{name: "default format", o: ViewOptions{}, want: appproto.ModeNone},
		{name: "table --decode stomp", o: ViewOptions{Format: "table", Decode: "stomp"}, want: appproto.ModeNone},
		{name: "--messages", o: ViewOptions{Format: "table", Messages: true}, want: ""},
		{name: "jsonl", o: ViewOptions{Format: "jsonl", Decode: "stomp"}, want: "stomp"},
		{name: "csv", o: ViewOptions{Format: "csv"}, want: appproto.ModeNone},
		{name: "csv --messages", o: ViewOptions{Format: "csv", Messages: true}, want: ""},
		{name: "-T fields -e app.type", o: ViewOptions{Format: "table", fields: true, Fields: Fields{Fields: []string{"opcode", "app.type"}}}, want: appproto.ModeNone},
		{name: "-T fields --messages -e len", o: ViewOptions{Format: "table", fields: true, Messages: true, Fields: Fields{Fields: []string{"len", "application"}}}, want: appproto.ModeNone},
		{name: "-T fields --messages -e app.type", o: ViewOptions{Format: "table", fields: true, Messages: true, Decode: "stomp", Fields: Fields{Fields: []string{"len", "app.type"}}}, want: "stomp"},
		{name: "-T fields --messages -e app", o: ViewOptions{Format: "jsonl", fields: true, Messages: true, Fields: Fields{Fields: []string{"app"}}}, want: ""},
		{name: "-T fields -Y", o: ViewOptions{Format: "table", fields: true, Fields: Fields{Fields: []string{"len"}}}, spec: filter.Spec{Expr: mustExpr(t, `app.protocol == "json"`)}, want: ""},
		{name: "parquet", o: ViewOptions{Format: "parquet"}, dataset: true, want: ""},
		{name: "--grep", o: ViewOptions{Format: "table"}, spec: filter.Spec{Grep: regexp.MustCompile("x")}, want: appproto.ModeNone},
		{name: "-c", o: ViewOptions{Format: "table"}, spec: filter.Spec{Count: 3}, want: appproto.ModeNone},
		{name: "-Y opcode", o: ViewOptions{Format: "csv"}, spec: filter.Spec{Expr: mustExpr(t, "opcode == 1")}, want: appproto.ModeNone},
		{name: "-Y app.type", o: ViewOptions{Format: "table", Decode: "stomp"}, spec: filter.Spec{Expr: mustExpr(t, `app.type == "SEND"`)}, want: "stomp"},
		{name: "-Y $env", o: ViewOptions{Format: "table"}, spec: filter.Spec{Expr: mustExpr(t, `"text" in $env`)}, want: ""},
		{name: "--grep jsonl", o: ViewOptions{Format: "jsonl"}, spec: filter.Spec{Grep: regexp.MustCompile("x")}, want: ""},
	} {
		app := c.o.appOptions(&c.spec, c.dataset)
		if app.Mode != c.want || !app.Apps || app.Beats != c.dataset {
			t.Errorf("%s: %+v, want mode %q", c.name, app, c.want)
		}
	}
}

func mustExpr(t *testing.T, src string) *filter.Expr {
	t.Helper()
	e, err := filter.CompileExpr(src)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
