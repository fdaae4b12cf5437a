package awssim

import (
	"encoding/base64"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// paramSpec is the set of request parameter names an action accepts. EC2
// refuses a parameter it does not know (UnknownParameter) rather than
// ignoring it, so a misspelt or misplaced parameter in a client is caught
// here rather than silently dropped.
type paramSpec []*regexp.Regexp

// spec compiles parameter name patterns in which a segment "N" stands for a
// 1-based list index: "Filter.N.Value.N" accepts "Filter.1.Value.2".
// Action, Version and DryRun are accepted everywhere.
func spec(patterns ...string) paramSpec {
	patterns = append(patterns, "Action", "Version", "DryRun")
	out := make(paramSpec, 0, len(patterns))
	for _, p := range patterns {
		segs := strings.Split(p, ".")
		for i, seg := range segs {
			if seg == "N" {
				segs[i] = `[1-9][0-9]*`
			} else {
				segs[i] = regexp.QuoteMeta(seg)
			}
		}
		out = append(out, regexp.MustCompile(`^`+strings.Join(segs, `\.`)+`$`))
	}
	return out
}

func (ps paramSpec) check(form url.Values) *apiError {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
outer:
	for _, k := range keys {
		// Presigned-URL authentication travels as X-Amz-* parameters.
		if strings.HasPrefix(k, "X-Amz-") {
			continue
		}
		for _, re := range ps {
			if re.MatchString(k) {
				continue outer
			}
		}
		return clientErr("UnknownParameter", "The parameter %s is not recognized", k)
	}
	return nil
}

// Patterns shared by several actions.
var (
	filterParams  = []string{"Filter.N.Name", "Filter.N.Value.N"}
	pagingParams  = []string{"MaxResults", "NextToken"}
	tagSpecParams = []string{"TagSpecification.N.ResourceType", "TagSpecification.N.Tag.N.Key", "TagSpecification.N.Tag.N.Value"}
)

func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// params is a request's form, read the way ec2query lays lists out: a list
// member is "Name.N", a structure member "Name.N.Field".
type params url.Values

func (p params) str(k string) string { return url.Values(p).Get(k) }

func (p params) has(k string) bool {
	_, ok := p[k]
	return ok
}

// indexes returns the list indexes used under prefix ("Filter" → 1, 2 for
// Filter.1.Name, Filter.2.Value.1), sorted.
func (p params) indexes(prefix string) []int {
	seen := map[int]bool{}
	for k := range p {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 {
			continue
		}
		seen[n] = true
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// list returns the values of a flat string list ("VpcId.1", "VpcId.2", …)
// in index order.
func (p params) list(prefix string) []string {
	var out []string
	for _, i := range p.indexes(prefix) {
		if k := prefix + "." + strconv.Itoa(i); p.has(k) {
			out = append(out, p.str(k))
		}
	}
	return out
}

func (p params) boolean(k, wireName string) (bool, *apiError) {
	if !p.has(k) {
		return false, nil
	}
	switch strings.ToLower(p.str(k)) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalidValue("Value (%s) for parameter %s is invalid. Expected: 'true' or 'false'.", p.str(k), wireName)
}

// integer reads an optional integer; ok is false when it is absent.
func (p params) integer(k, wireName string) (n int, ok bool, aerr *apiError) {
	if !p.has(k) {
		return 0, false, nil
	}
	v, err := strconv.Atoi(p.str(k))
	if err != nil {
		return 0, false, invalidValue("Value (%s) for parameter %s is invalid. Expected a number.", p.str(k), wireName)
	}
	return v, true, nil
}

// filter is one Filter.N: the name and the values it may match.
type filter struct {
	name   string
	values []string
}

func (p params) filters() ([]filter, *apiError) {
	var out []filter
	for _, i := range p.indexes("Filter") {
		prefix := "Filter." + strconv.Itoa(i)
		name := p.str(prefix + ".Name")
		if name == "" {
			return nil, invalidValue("The filter 'null' is invalid")
		}
		values := p.list(prefix + ".Value")
		if len(values) == 0 {
			return nil, invalidValue("The filter '%s' must have at least one value", name)
		}
		out = append(out, filter{name: name, values: values})
	}
	if len(out) > 50 {
		return nil, clientErr("FilterLimitExceeded", "The maximum number of filters specified on a single call is 50")
	}
	return out, nil
}

// filterSet describes the filters one Describe* action understands over a
// resource type T: each name maps to the resource's values for it. tag:<key>
// and tag-key come for free from tagsOf.
type filterSet[T any] struct {
	attrs  map[string]func(T) []string
	tagsOf func(T) map[string]string
}

// validate refuses filter names the action does not document, the way EC2
// does ("The filter 'x' is invalid"), before anything is looked up.
func (fs filterSet[T]) validate(filters []filter) *apiError {
	for _, f := range filters {
		if _, ok := fs.attrs[f.name]; ok {
			continue
		}
		if fs.tagsOf != nil && (f.name == "tag-key" || (strings.HasPrefix(f.name, "tag:") && len(f.name) > 4)) {
			continue
		}
		return invalidValue("The filter '%s' is invalid", f.name)
	}
	return nil
}

// apply keeps the items matching every filter; within one filter, any value
// may match (AWS's AND of filters, OR of values). Values may use the * and ?
// wildcards.
func (fs filterSet[T]) apply(items []T, filters []filter) []T {
	var out []T
	for _, it := range items {
		if fs.matches(it, filters) {
			out = append(out, it)
		}
	}
	return out
}

func (fs filterSet[T]) matches(it T, filters []filter) bool {
	for _, f := range filters {
		var have []string
		switch {
		case f.name == "tag-key":
			for k := range fs.tagsOf(it) {
				have = append(have, k)
			}
		case strings.HasPrefix(f.name, "tag:"):
			if v, ok := fs.tagsOf(it)[f.name[4:]]; ok {
				have = []string{v}
			}
		default:
			have = fs.attrs[f.name](it)
		}
		if !anyMatch(f.values, have) {
			return false
		}
	}
	return true
}

func anyMatch(patterns, have []string) bool {
	for _, pat := range patterns {
		for _, h := range have {
			if globMatch(pat, h) {
				return true
			}
		}
	}
	return false
}

// globMatch matches EC2 filter wildcards: * any run of characters, ? any one
// character, and a backslash escaping either.
func globMatch(pattern, s string) bool {
	if !strings.ContainsAny(pattern, `*?\`) {
		return pattern == s
	}
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '\\':
			if i+1 < len(pattern) {
				i++
				b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
			} else {
				b.WriteString(`\\`)
			}
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	return err == nil && re.MatchString(s)
}

// page is the MaxResults/NextToken contract of a Describe* action.
type page struct {
	min, max int
	// idsParam is how EC2 names the explicit-ID list in the error refusing
	// it together with MaxResults ("vpcIds"); empty when the action allows
	// both.
	idsParam string
}

const tokenPrefix = "awssim:"

// paginate cuts items (already sorted) to one page. Without MaxResults the
// whole remainder is returned, as EC2 does for these actions.
func paginate[T any](items []T, p params, pg page, hasIDs bool) ([]T, string, *apiError) {
	offset := 0
	if p.has("NextToken") {
		raw, err := base64.RawURLEncoding.DecodeString(p.str("NextToken"))
		n, convErr := strconv.Atoi(strings.TrimPrefix(string(raw), tokenPrefix))
		if err != nil || convErr != nil || !strings.HasPrefix(string(raw), tokenPrefix) || n < 0 || n > len(items) {
			return nil, "", clientErr("InvalidPaginationToken", "Invalid pagination token")
		}
		offset = n
	}
	max, ok, aerr := p.integer("MaxResults", "maxResults")
	if aerr != nil {
		return nil, "", aerr
	}
	if !ok {
		return items[offset:], "", nil
	}
	if hasIDs && pg.idsParam != "" {
		return nil, "", clientErr("InvalidParameterCombination",
			"The parameter %s cannot be used with the parameter maxResults", pg.idsParam)
	}
	if max < pg.min || max > pg.max {
		return nil, "", invalidValue("Value ( %d ) for parameter maxResults is invalid. Parameter must be between %d and %d.",
			max, pg.min, pg.max)
	}
	end := offset + max
	if end >= len(items) {
		return items[offset:], "", nil
	}
	return items[offset:end], base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + strconv.Itoa(end))), nil
}

// selectIDs resolves an explicit ID list (VpcId.N and friends) against the
// resources the caller can see. Unlike a filter, an ID that does not resolve
// is an error: shape first over the whole list (Malformed), then existence
// (NotFound).
func selectIDs[T any](all []T, ids []string, idOf func(T) string, kind idKind) ([]T, *apiError) {
	if len(ids) == 0 {
		return all, nil
	}
	for _, id := range ids {
		if aerr := kind.checkShape(id); aerr != nil {
			return nil, aerr
		}
	}
	byID := make(map[string]T, len(all))
	for _, it := range all {
		byID[idOf(it)] = it
	}
	want := map[string]bool{}
	for _, id := range ids {
		if _, ok := byID[id]; !ok {
			return nil, kind.notFound(id)
		}
		want[id] = true
	}
	var out []T
	for _, it := range all {
		if want[idOf(it)] {
			out = append(out, it)
		}
	}
	return out, nil
}
