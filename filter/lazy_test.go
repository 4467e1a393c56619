package filter

import (
	"testing"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/wsparse"
)

// TestMessageEnvLazyFields (issue 17): the pipeline's sessions leave a
// JSON object's members in its Body (appproto's LazyFields, Fields nil);
// the filter's app.<key> still reads them, first value of a repeated key,
// keys lowercased with "-" as "_", escaped keys unquoted.
func TestMessageEnvLazyFields(t *testing.T) {
	s := appproto.New(nil, appproto.JSON)
	s.LazyFields()
	m := &wsparse.Message{Opcode: wsparse.OpText, Data: []byte(`{"Room-Id":"a","n" : [ 1, 2 ],"n":3,"\u0078":"y"}`), Frames: 1}
	m.Len = uint64(len(m.Data))
	apps := s.Message(m)
	if len(apps) != 1 || apps[0].Fields != nil || apps[0].NumFields() != 4 {
		t.Fatalf("not an object left in its Body: %+v", apps)
	}
	a := New(nil, Spec{}).MessageEnv(&wsparse.Conn{ID: 1}, m, nil, &apps[0])["app"].(map[string]any)
	for k, want := range map[string]string{"room_id": `"a"`, "n": "[1,2]", "x": `"y"`} {
		if a[k] != want {
			t.Errorf("app.%s = %#v, want %q", k, a[k], want)
		}
	}
}
