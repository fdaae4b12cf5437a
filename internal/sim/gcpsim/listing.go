package gcpsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
)

// Compute pages lists at 500 items at most.
const maxPageSize = 500

// listPage applies Compute's list parameters (filter, orderBy, maxResults,
// pageToken) to items, which come in the default order.
func listPage[T proto.Message](r *http.Request, items []T) ([]T, *string, *apiError) {
	q := r.URL.Query()
	if f := q.Get("filter"); f != "" {
		expr, err := parseFilter(f)
		if err != nil {
			return nil, nil, errInvalid("filter", f, "Invalid list filter expression.")
		}
		var kept []T
		for _, it := range items {
			if expr.match(toMap(it)) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	switch ob := q.Get("orderBy"); ob {
	case "", "name":
		if ob == "name" {
			sort.SliceStable(items, func(i, j int) bool {
				return fieldString(toMap(items[i]), "name") < fieldString(toMap(items[j]), "name")
			})
		}
	case "creationTimestamp desc":
		sort.SliceStable(items, func(i, j int) bool {
			return fieldString(toMap(items[i]), "creationTimestamp") > fieldString(toMap(items[j]), "creationTimestamp")
		})
	default:
		return nil, nil, errInvalid("orderBy", ob, "Sorting by this field is not supported; only 'name' and 'creationTimestamp desc' are.")
	}

	size := maxPageSize
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, nil, errInvalid("maxResults", v, "Must be greater than or equal to 0")
		}
		if n > maxPageSize {
			return nil, nil, errInvalid("maxResults", v, fmt.Sprintf("Must be less than or equal to %d", maxPageSize))
		}
		if n > 0 {
			size = n
		}
	}
	start := 0
	if tok := q.Get("pageToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		n, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
		if err != nil || err2 != nil || !strings.HasPrefix(string(b), "offset:") || n < 0 || n > len(items) {
			return nil, nil, errInvalid("pageToken", tok, "")
		}
		start = n
	}
	end := start + size
	if end >= len(items) {
		return items[start:], nil, nil
	}
	next := base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))
	return items[start:end], &next, nil
}

func fieldString(m map[string]any, path string) string {
	vs := lookup(m, strings.Split(path, "."))
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// lookup resolves a dotted field path, flattening repeated fields.
func lookup(v any, path []string) []string {
	if len(path) == 0 {
		switch x := v.(type) {
		case nil:
			return nil
		case string:
			return []string{x}
		case bool:
			return []string{strconv.FormatBool(x)}
		case float64:
			return []string{strconv.FormatFloat(x, 'f', -1, 64)}
		case []any:
			var out []string
			for _, e := range x {
				out = append(out, lookup(e, nil)...)
			}
			return out
		default:
			return []string{fmt.Sprint(x)}
		}
	}
	switch x := v.(type) {
	case map[string]any:
		return lookup(x[path[0]], path[1:])
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, lookup(e, path)...)
		}
		return out
	}
	return nil
}

// filterExpr is the subset of Compute's list filter syntax a CLI needs:
// comparisons `field = value`, `!=`, `:` (has), the legacy `eq`/`ne`
// (regular expressions), optionally parenthesised, joined by AND (explicit
// or implicit) and OR.
type filterExpr struct {
	any [][]comparison // OR of ANDs
}

type comparison struct {
	field, op, value string
	re               *regexp.Regexp
}

func (e filterExpr) match(m map[string]any) bool {
	for _, all := range e.any {
		ok := true
		for _, c := range all {
			if !c.match(m) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (c comparison) match(m map[string]any) bool {
	vals := lookup(m, strings.Split(c.field, "."))
	hit := func(pred func(string) bool) bool {
		for _, v := range vals {
			if pred(v) {
				return true
			}
		}
		return false
	}
	switch c.op {
	case "=":
		return hit(func(v string) bool { return v == c.value })
	case "!=":
		return !hit(func(v string) bool { return v == c.value })
	case ":":
		if c.value == "*" {
			return len(vals) > 0
		}
		return hit(func(v string) bool { return v == c.value })
	case "eq":
		return hit(c.re.MatchString)
	case "ne":
		return !hit(c.re.MatchString)
	}
	return false
}

func parseFilter(s string) (filterExpr, error) {
	toks, err := tokenize(s)
	if err != nil {
		return filterExpr{}, err
	}
	var e filterExpr
	cur := []comparison{}
	for i := 0; i < len(toks); {
		switch strings.ToUpper(toks[i]) {
		case "AND", "(", ")":
			i++
			continue
		case "OR":
			if len(cur) == 0 {
				return filterExpr{}, fmt.Errorf("dangling OR")
			}
			e.any = append(e.any, cur)
			cur = []comparison{}
			i++
			continue
		}
		if i+2 >= len(toks) {
			return filterExpr{}, fmt.Errorf("incomplete comparison")
		}
		c := comparison{field: toks[i], op: toks[i+1], value: toks[i+2]}
		switch c.op {
		case "=", "!=", ":":
		case "eq", "ne":
			re, err := regexp.Compile("^(?:" + c.value + ")$")
			if err != nil {
				return filterExpr{}, err
			}
			c.re = re
		default:
			return filterExpr{}, fmt.Errorf("unknown operator %q", c.op)
		}
		cur = append(cur, c)
		i += 3
	}
	if len(cur) == 0 {
		return filterExpr{}, fmt.Errorf("empty filter")
	}
	e.any = append(e.any, cur)
	return e, nil
}

// tokenize splits a filter into fields, operators, values and parentheses,
// honouring single and double quotes.
func tokenize(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ':' || c == '=':
			toks = append(toks, string(c))
			i++
		case c == '!' && i+1 < len(s) && s[i+1] == '=':
			toks = append(toks, "!=")
			i += 2
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote")
			}
			toks = append(toks, s[i+1:i+1+j])
			i += j + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t()=:!", rune(s[j])) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q", c)
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}
