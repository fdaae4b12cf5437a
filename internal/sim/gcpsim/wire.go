package gcpsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// writeProto answers 200 with m in Compute's JSON (camelCase names, int64
// and uint64 as strings, enums by name).
func writeProto(w http.ResponseWriter, m proto.Message) {
	b, err := protojson.MarshalOptions{UseProtoNames: false}.Marshal(m)
	if err != nil {
		writeError(w, &apiError{code: 500, reason: "backendError", message: "Internal error. Please try again or contact Google Support."})
		return
	}
	// protojson deliberately varies its whitespace; answer stable bytes.
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") != nil {
		out.Reset()
		out.Write(b)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	out.WriteByte('\n')
	w.Write(out.Bytes())
}

var unknownFieldRE = regexp.MustCompile(`unknown field "([^"]+)"`)

// decodeBody parses the request body into m the way Google's front end
// does: both JSON and proto field names are accepted, unknown fields are an
// error. It also returns the top-level keys present, which PATCH needs to
// tell "absent" from "empty".
func decodeBody(r *http.Request, m proto.Message) (map[string]bool, *apiError) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, errBadJSON("Unexpected end of input.")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	if err := (protojson.UnmarshalOptions{}).Unmarshal(b, m); err != nil {
		if m := unknownFieldRE.FindStringSubmatch(err.Error()); m != nil {
			return nil, errBadJSON(`Unknown name "` + m[1] + `" at 'resource': Cannot find field.`)
		}
		return nil, errBadJSON("Syntax error or wrong value type in request body.")
	}
	var raw map[string]json.RawMessage
	present := map[string]bool{}
	if json.Unmarshal(b, &raw) == nil {
		fields := m.ProtoReflect().Descriptor().Fields()
		for k := range raw {
			fd := fields.ByJSONName(k)
			if fd == nil {
				fd = fields.ByTextName(k)
			}
			if fd != nil {
				present[fd.JSONName()] = true
			}
		}
	}
	return present, nil
}

// toMap renders m as generic JSON, for filters and snapshots.
func toMap(m proto.Message) map[string]any {
	b, err := protojson.Marshal(m)
	if err != nil {
		return nil
	}
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}
