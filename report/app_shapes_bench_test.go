package report

import (
	"strconv"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/wsparse"
)

// shapesChat is bench/jsongen's small message.
const shapesChat = `{"type":"chat","seq":1042,"from":"heidi","to":"dave","text":"see you at the standup tomorrow, bring the notes","ts":1732600000123}`

// shapeMembers is an object of n members "k<key(i)>":i (bench/jsongen's).
func shapeMembers(n int, key func(i int) int) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"k` + strconv.Itoa(key(i)) + `":` + strconv.Itoa(i))
	}
	sb.WriteByte('}')
	return sb.String()
}

// shapeMessages is one connection of bench/jsongen's capture: small chat
// objects, objects of 2000 members (distinct and in pairs), one 1 MB object.
func shapeMessages() []wsparse.Message {
	var msgs []string
	for i := 0; i < 200; i++ {
		msgs = append(msgs, shapesChat)
	}
	for i := 0; i < 20; i++ {
		msgs = append(msgs, shapeMembers(2000, func(i int) int { return i }), shapeMembers(2000, func(i int) int { return i % 1000 }))
	}
	var sb strings.Builder
	sb.WriteString(`{"n":1,"items":[`)
	for sb.Len() < 1<<20 {
		sb.WriteString(shapesChat + ",")
	}
	sb.WriteString(shapesChat + `]}`)
	msgs = append(msgs, sb.String())
	wm := make([]wsparse.Message, len(msgs))
	for i, s := range msgs {
		wm[i] = wsparse.Message{Opcode: wsparse.OpText, Data: []byte(s), Len: uint64(len(s)), Dir: wsparse.Dir(i & 1)}
	}
	return wm
}

// BenchmarkAppShapes (issue 17): decoding bench/jsongen's messages
// (decode) and writing their app objects as jsonl does (render), with
// Fields built (fields) or JSON objects' members left in their Body
// (lazy: appproto's LazyFields, as the pipeline decodes).
func BenchmarkAppShapes(b *testing.B) {
	wm := shapeMessages()
	size := 0
	for _, m := range wm {
		size += len(m.Data)
	}
	for _, lazy := range []bool{false, true} {
		session := func() *appproto.Session {
			s := appproto.New(nil, appproto.JSON)
			if lazy {
				s.LazyFields()
			}
			return s
		}
		name := map[bool]string{false: "fields", true: "lazy"}[lazy]
		b.Run("decode/"+name, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				s := session()
				for j := range wm {
					s.Message(&wm[j])
				}
			}
		})
		b.Run("render/"+name, func(b *testing.B) {
			s := session()
			var apps []appproto.App
			for j := range wm {
				apps = append(apps, s.Message(&wm[j])...)
			}
			var out []byte
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, a := range apps {
					out = AppendAppJSON(out[:0], a)
				}
			}
		})
	}
}
