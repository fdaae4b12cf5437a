// Package simstate saves a simulator's whole in-memory state as JSON and
// loads it back, so that the sandbox can remember what earlier dfpeer
// processes did.
//
// It walks the simulator's struct by reflection, unexported fields
// included, instead of asking each simulator to list what it keeps: a field
// or map added to a simulator later is saved and restored without anyone
// having to remember this file. What cannot be saved is skipped or refused:
//
//   - func and chan fields, and sync primitives, are skipped (a func is an
//     effect still to run; callers settle those before saving);
//   - protobuf messages go through protojson;
//   - time.Time, netip.Prefix and other encoding.TextMarshaler values go
//     through their text form (absolute times, so timers resume);
//   - pointers keep their identity: two fields pointing at one record
//     point at one record again after loading; a pointer the target
//     already has (a generator the constructor made) is loaded in place;
//   - an interface field is loaded into the value it already holds in the
//     target (a seeded *rand.Rand's source continues exactly where the
//     saved one stopped), except `any`, which holds plain JSON values.
//
// Encode and Decode visit fields in declaration order, map keys sorted and
// slices by index, so a pointer's first occurrence, which carries it, always
// comes before its references.
package simstate

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"unsafe"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Encode returns root's state as JSON. root is a pointer to a struct;
// its top-level fields named in skip (runtime wiring such as options,
// HTTP handlers, the mutex) are left out.
func Encode(root any, skip ...string) ([]byte, error) {
	v := reflect.ValueOf(root)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("simstate: want a pointer to a struct, got %T", root)
	}
	e := &encoder{ids: map[ptrKey]int{}}
	out, err := e.structFields(v.Elem(), skip)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("simstate: %w", err)
	}
	return buf.Bytes(), nil
}

// Decode loads data (from Encode of the same type) into root, replacing
// every field Encode saved. root should come from the simulator's
// constructor, so that skipped fields and interface values are set up.
func Decode(data []byte, root any, skip ...string) error {
	v := reflect.ValueOf(root)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("simstate: want a pointer to a struct, got %T", root)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return fmt.Errorf("simstate: %w", err)
	}
	d := &decoder{ptrs: map[int]reflect.Value{}}
	return d.structFields(v.Elem(), tree, skip)
}

type ptrKey struct {
	addr uintptr
	typ  reflect.Type
}

var (
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
	protoMessage  = reflect.TypeFor[proto.Message]()
	skipTypes     = []reflect.Type{reflect.TypeFor[sync.Mutex](), reflect.TypeFor[sync.RWMutex](), reflect.TypeFor[sync.Once]()}
)

// field returns struct field i of v as a settable, exported view, so that
// unexported fields can be read and written. v must be addressable.
func field(v reflect.Value, i int) reflect.Value {
	f := v.Field(i)
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
}

func skipped(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return true
	}
	return slices.Contains(skipTypes, t)
}

type encoder struct {
	ids  map[ptrKey]int
	next int
}

func (e *encoder) structFields(v reflect.Value, skip []string) (map[string]any, error) {
	out := map[string]any{}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if slices.Contains(skip, sf.Name) || skipped(sf.Type) {
			continue
		}
		x, err := e.value(field(v, i))
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), sf.Name, err)
		}
		out[sf.Name] = x
	}
	return out, nil
}

// addressable returns v itself, or an addressable copy (map values are
// not addressable).
func addressable(v reflect.Value) reflect.Value {
	if v.CanAddr() {
		return v
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	return c
}

func (e *encoder) value(v reflect.Value) (any, error) {
	t := v.Type()
	if t.Kind() == reflect.Pointer && t.Implements(protoMessage) {
		if v.IsNil() {
			return nil, nil
		}
		b, err := protojson.Marshal(v.Interface().(proto.Message))
		if err != nil {
			return nil, err
		}
		return json.RawMessage(b), nil
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(textMarshaler) {
		b, err := addressable(v).Addr().Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return json.Number(strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return json.Number(strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		return v.Float(), nil
	case reflect.String:
		return v.String(), nil
	case reflect.Struct:
		return e.structFields(addressable(v), nil)
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		fallthrough
	case reflect.Array:
		out := make([]any, v.Len())
		for i := range v.Len() {
			x, err := e.value(v.Index(i))
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = x
		}
		return out, nil
	case reflect.Map:
		if v.IsNil() {
			return nil, nil
		}
		keys := v.MapKeys()
		names := make([]string, len(keys))
		byName := map[string]reflect.Value{}
		for i, k := range keys {
			n, err := keyString(k)
			if err != nil {
				return nil, err
			}
			names[i] = n
			byName[n] = k
		}
		slices.Sort(names)
		out := map[string]any{}
		for _, n := range names {
			x, err := e.value(v.MapIndex(byName[n]))
			if err != nil {
				return nil, fmt.Errorf("[%q]: %w", n, err)
			}
			out[n] = x
		}
		return out, nil
	case reflect.Pointer:
		if v.IsNil() {
			return nil, nil
		}
		k := ptrKey{v.Pointer(), t}
		if id, ok := e.ids[k]; ok {
			return map[string]any{"$ref": id}, nil
		}
		e.next++
		id := e.next
		e.ids[k] = id
		x, err := e.value(v.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"$id": id, "$v": x}, nil
	case reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		if t.NumMethod() == 0 {
			// `any`: plain JSON values (decoded error details and the like).
			b, err := json.Marshal(v.Interface())
			if err != nil {
				return nil, err
			}
			return map[string]any{"$json": json.RawMessage(b)}, nil
		}
		x, err := e.value(v.Elem())
		if err != nil {
			return nil, err
		}
		return map[string]any{"$type": v.Elem().Type().String(), "$v": x}, nil
	}
	return nil, fmt.Errorf("simstate: cannot save a %s", t)
}

func keyString(k reflect.Value) (string, error) {
	switch k.Kind() {
	case reflect.String:
		return k.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(k.Uint(), 10), nil
	}
	return "", fmt.Errorf("simstate: cannot save a map keyed by %s", k.Type())
}

type decoder struct {
	ptrs map[int]reflect.Value
}

func (d *decoder) structFields(v reflect.Value, tree map[string]any, skip []string) error {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if slices.Contains(skip, sf.Name) || skipped(sf.Type) {
			continue
		}
		x, ok := tree[sf.Name]
		if !ok {
			// A field added since the state was saved: keep its zero (or
			// constructor) value.
			continue
		}
		if err := d.value(field(v, i), x); err != nil {
			return fmt.Errorf("%s.%s: %w", t.Name(), sf.Name, err)
		}
	}
	return nil
}

func (d *decoder) value(v reflect.Value, x any) error {
	t := v.Type()
	if t.Kind() == reflect.Pointer && t.Implements(protoMessage) {
		if x == nil {
			v.SetZero()
			return nil
		}
		b, err := json.Marshal(x)
		if err != nil {
			return err
		}
		m := reflect.New(t.Elem())
		if err := protojson.Unmarshal(b, m.Interface().(proto.Message)); err != nil {
			return err
		}
		v.Set(m)
		return nil
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(textMarshaler) {
		s, ok := x.(string)
		if !ok {
			return fmt.Errorf("want text, got %T", x)
		}
		return v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s))
	}
	switch t.Kind() {
	case reflect.Bool:
		b, ok := x.(bool)
		if !ok {
			return fmt.Errorf("want a bool, got %T", x)
		}
		v.SetBool(b)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := number(x)
		if err != nil {
			return err
		}
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil || v.OverflowInt(i) {
			return fmt.Errorf("bad %s %q", t, n)
		}
		v.SetInt(i)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := number(x)
		if err != nil {
			return err
		}
		u, err := strconv.ParseUint(n, 10, 64)
		if err != nil || v.OverflowUint(u) {
			return fmt.Errorf("bad %s %q", t, n)
		}
		v.SetUint(u)
		return nil
	case reflect.Float32, reflect.Float64:
		n, err := number(x)
		if err != nil {
			return err
		}
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return err
		}
		v.SetFloat(f)
		return nil
	case reflect.String:
		s, ok := x.(string)
		if !ok {
			return fmt.Errorf("want a string, got %T", x)
		}
		v.SetString(s)
		return nil
	case reflect.Struct:
		m, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("want an object, got %T", x)
		}
		return d.structFields(v, m, nil)
	case reflect.Slice, reflect.Array:
		if x == nil && t.Kind() == reflect.Slice {
			v.SetZero()
			return nil
		}
		l, ok := x.([]any)
		if !ok {
			return fmt.Errorf("want a list, got %T", x)
		}
		if t.Kind() == reflect.Array {
			if len(l) != v.Len() {
				return fmt.Errorf("want %d items, got %d", v.Len(), len(l))
			}
		} else {
			v.Set(reflect.MakeSlice(t, len(l), len(l)))
		}
		for i, item := range l {
			if err := d.value(v.Index(i), item); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return nil
	case reflect.Map:
		if x == nil {
			v.SetZero()
			return nil
		}
		m, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("want an object, got %T", x)
		}
		out := reflect.MakeMapWithSize(t, len(m))
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			k := reflect.New(t.Key()).Elem()
			if err := parseKey(k, n); err != nil {
				return err
			}
			e := reflect.New(t.Elem()).Elem()
			if err := d.value(e, m[n]); err != nil {
				return fmt.Errorf("[%q]: %w", n, err)
			}
			out.SetMapIndex(k, e)
		}
		v.Set(out)
		return nil
	case reflect.Pointer:
		if x == nil {
			v.SetZero()
			return nil
		}
		m, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("want a pointer object, got %T", x)
		}
		if ref, ok := m["$ref"]; ok {
			id, err := number(ref)
			if err != nil {
				return err
			}
			n, _ := strconv.Atoi(id)
			p, ok := d.ptrs[n]
			if !ok || p.Type() != t {
				return fmt.Errorf("dangling reference %s", id)
			}
			v.Set(p)
			return nil
		}
		id, err := number(m["$id"])
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(id)
		// Load into the record the constructor made, if any, so that what
		// it wired (interface values such as a generator's source) stays.
		p := v
		if p.IsNil() {
			p = reflect.New(t.Elem())
		}
		d.ptrs[n] = p
		if err := d.value(p.Elem(), m["$v"]); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Interface:
		if x == nil {
			v.SetZero()
			return nil
		}
		m, ok := x.(map[string]any)
		if !ok {
			return fmt.Errorf("want an interface object, got %T", x)
		}
		if raw, ok := m["$json"]; ok {
			b, err := json.Marshal(raw)
			if err != nil {
				return err
			}
			var val any
			if err := json.Unmarshal(b, &val); err != nil {
				return err
			}
			if val == nil {
				v.SetZero()
			} else {
				v.Set(reflect.ValueOf(val))
			}
			return nil
		}
		// Load into the value the constructor put there: the concrete
		// type cannot be built from its name.
		cur := v.Elem()
		if !cur.IsValid() || cur.Type().String() != m["$type"] {
			return fmt.Errorf("cannot restore a %v into %s holding %v", m["$type"], t, cur)
		}
		if cur.Kind() != reflect.Pointer {
			c := reflect.New(cur.Type()).Elem()
			if err := d.value(c, m["$v"]); err != nil {
				return err
			}
			v.Set(c)
			return nil
		}
		pm, ok := m["$v"].(map[string]any)
		if !ok {
			return fmt.Errorf("want a pointer object, got %T", m["$v"])
		}
		if ref, ok := pm["$ref"]; ok {
			id, err := number(ref)
			if err != nil {
				return err
			}
			n, _ := strconv.Atoi(id)
			p, ok := d.ptrs[n]
			if !ok || !p.Type().AssignableTo(t) {
				return fmt.Errorf("dangling reference %s", id)
			}
			v.Set(p)
			return nil
		}
		id, err := number(pm["$id"])
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(id)
		d.ptrs[n] = cur
		return d.value(reflect.NewAt(cur.Type().Elem(), cur.UnsafePointer()).Elem(), pm["$v"])
	}
	return fmt.Errorf("simstate: cannot restore a %s", t)
}

func number(x any) (string, error) {
	switch n := x.(type) {
	case json.Number:
		return n.String(), nil
	case float64:
		return strconv.FormatFloat(n, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("want a number, got %T", x)
}

func parseKey(k reflect.Value, s string) error {
	switch k.Kind() {
	case reflect.String:
		k.SetString(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		k.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return err
		}
		k.SetUint(u)
	default:
		return fmt.Errorf("simstate: cannot restore a map keyed by %s", k.Type())
	}
	return nil
}
