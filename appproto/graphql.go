package appproto

import (
	"strings"

	"github.com/wsdump/wsdump/wsparse"
)

// GraphQL over WebSocket: one JSON object {"type", "id", "payload"} per
// text message, in two dialects:
//   - graphql-transport-ws (the graphql-ws library, GraphQL over WebSocket
//     Protocol): connection_init, connection_ack, ping, pong, subscribe,
//     next, error, complete;
//   - graphql-ws, the legacy subscriptions-transport-ws protocol:
//     connection_init, connection_ack, connection_error, ka
//     (connection_keep_alive), connection_terminate, start, data, error,
//     complete, stop.

// graphqlTypes maps each message type to the dialect that has it only
// (0 both, 1 graphql-transport-ws, 2 legacy).
var graphqlTypes = map[string]int{
	"connection_init": 0, "connection_ack": 0, "error": 0, "complete": 0,
	"ping": 1, "pong": 1, "subscribe": 1, "next": 1,
	"connection_error": 2, "ka": 2, "connection_keep_alive": 2, "connection_terminate": 2,
	"start": 2, "data": 2, "stop": 2,
}

type graphqlDecoder struct {
	fixed  bool // the dialect came from the subprotocol
	legacy bool
}

func (d *graphqlDecoder) protocol() string {
	if d.legacy {
		return GraphQLWS
	}
	return GraphQLTransportWS
}

func (d *graphqlDecoder) decode(s *Session, m *wsparse.Message, out []App) []App {
	a := App{Protocol: d.protocol(), Key: "-"}
	if m.Opcode != wsparse.OpText {
		a.Anomalies = []string{"graphql_binary_frame"}
		a.Summary = "GQL binary message"
		return append(out, a)
	}
	_, raw, ok := jsonObject(m.Data)
	if !ok {
		a.Anomalies = []string{"graphql_bad_json"}
		a.Summary = "GQL invalid JSON " + quote(m.Data)
		return append(out, a)
	}
	typ := jsonString(raw["type"])
	dialect, known := graphqlTypes[typ]
	if !d.fixed && known && dialect != 0 {
		d.legacy, d.fixed = dialect == 2, true
		a.Protocol = d.protocol()
	}
	switch {
	case !known:
		a.Anomalies = append(a.Anomalies, "graphql_unknown_type")
	case dialect == 1 && d.legacy, dialect == 2 && !d.legacy:
		a.Anomalies = append(a.Anomalies, "graphql_wrong_dialect")
	}
	a.Type = typ
	id := jsonString(raw["id"])
	a.Key = keyOf("id", id)
	a.Fields = []Field{{"type", typ}}
	if id != "" {
		a.Fields = append(a.Fields, Field{"id", id})
	}
	sum := "GQL " + typ
	if id != "" {
		sum += " " + preview(id)
	}
	if p, ok := raw["payload"]; ok {
		a.Body = clone(p)
		_, pr, isObj := jsonObject(p)
		if isObj {
			if op := jsonString(pr["operationName"]); op != "" && op != "null" {
				a.Fields = append(a.Fields, Field{"operationName", op})
			}
			if q := jsonString(pr["query"]); q != "" {
				a.Fields = append(a.Fields, Field{"query", q})
				sum += " " + quote(strings.Join(strings.Fields(q), " "))
			} else if typ != "connection_init" {
				sum += " " + previewJSON(p)
			}
		} else if string(p) != "null" {
			sum += " " + previewJSON(p)
		}
	}
	switch typ {
	case "ping", "pong", "ka", "connection_keep_alive":
		a.Heartbeat = true
	}
	a.Summary = sum
	return append(out, a)
}
