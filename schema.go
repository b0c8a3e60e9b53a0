package lockchat

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SchemaFor returns a JSON schema for the JSON encoding of T, for WithJSONSchema. It
// follows encoding/json: exported fields under their tag names, `json:"-"` left out,
// embedded structs' fields promoted by the same rules, `,string` fields as strings,
// []byte as a (base64) string, time.Time as a date-time string, and an
// encoding.TextMarshaler as a string.
//
// Every property is required and objects forbid additional properties, as OpenAI's
// strict mode demands; a field that can be absent from a Go value's JSON (a pointer or an
// `omitempty` field) may be null instead. A map with string keys becomes an object whose
// additionalProperties is its value's schema (strict mode rejects such objects; use a
// struct there). An interface is left unconstrained ({}).
//
// SchemaFor fails, never panics, for what JSON cannot express: channels, functions,
// complex numbers, maps with keys encoding/json cannot write, recursive types, and types
// with their own MarshalJSON (their shape is unknown).
func SchemaFor[T any]() (json.RawMessage, error) {
	t := reflect.TypeFor[T]()
	s := schemaWriter{seen: map[reflect.Type]bool{}}
	if err := s.write(t, false); err != nil {
		return nil, fmt.Errorf("lockchat: no JSON schema for %v: %w", t, err)
	}
	return json.RawMessage(s.b), nil
}

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// schemaWriter writes one schema into b. seen holds the struct types being written, to
// refuse a type that contains itself.
type schemaWriter struct {
	b    []byte
	seen map[reflect.Type]bool
}

// write appends the schema of t; nullable adds null to the types it allows.
func (s *schemaWriter) write(t reflect.Type, nullable bool) error {
	// Types with their own encoding come first: they decide their shape.
	switch t {
	case reflect.TypeFor[time.Time]():
		s.simple("string", nullable, `,"format":"date-time"`)
		return nil
	case reflect.TypeFor[json.RawMessage]():
		s.b = append(s.b, "{}"...)
		return nil
	case reflect.TypeFor[json.Number]():
		s.simple("number", nullable, "")
		return nil
	}
	if t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType) {
		return fmt.Errorf("%v has its own MarshalJSON, so its shape is unknown", t)
	}
	if t.Implements(textMarshalerType) || reflect.PointerTo(t).Implements(textMarshalerType) {
		s.simple("string", nullable, "")
		return nil
	}

	switch t.Kind() {
	case reflect.Bool:
		s.simple("boolean", nullable, "")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s.simple("integer", nullable, "")
	case reflect.Float32, reflect.Float64:
		s.simple("number", nullable, "")
	case reflect.String:
		s.simple("string", nullable, "")
	case reflect.Pointer:
		return s.write(t.Elem(), true)
	case reflect.Interface:
		s.b = append(s.b, "{}"...)
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 &&
			!reflect.PointerTo(t.Elem()).Implements(jsonMarshalerType) &&
			!reflect.PointerTo(t.Elem()).Implements(textMarshalerType) {
			s.simple("string", nullable, "") // encoding/json writes []byte as base64
			return nil
		}
		// A nil slice encodes as null.
		s.typeField("array", nullable || t.Kind() == reflect.Slice)
		s.b = append(s.b, `,"items":`...)
		if err := s.write(t.Elem(), false); err != nil {
			return err
		}
		if t.Kind() == reflect.Array {
			s.b = append(s.b, `,"minItems":`...)
			s.b = strconv.AppendInt(s.b, int64(t.Len()), 10)
			s.b = append(s.b, `,"maxItems":`...)
			s.b = strconv.AppendInt(s.b, int64(t.Len()), 10)
		}
		s.b = append(s.b, '}')
	case reflect.Map:
		if !mapKeyOK(t.Key()) {
			return fmt.Errorf("map key type %v cannot be a JSON object key", t.Key())
		}
		s.typeField("object", true) // a nil map encodes as null
		s.b = append(s.b, `,"additionalProperties":`...)
		if err := s.write(t.Elem(), false); err != nil {
			return err
		}
		s.b = append(s.b, '}')
	case reflect.Struct:
		return s.object(t, nullable)
	default: // channels, functions, complex numbers, unsafe pointers
		return fmt.Errorf("JSON cannot express a %v", t.Kind())
	}
	return nil
}

// simple appends {"type":typ} (or the type with null), then more, then the brace.
func (s *schemaWriter) simple(typ string, nullable bool, more string) {
	s.typeField(typ, nullable)
	s.b = append(s.b, more...)
	s.b = append(s.b, '}')
}

// typeField appends an open object with its "type".
func (s *schemaWriter) typeField(typ string, nullable bool) {
	if nullable {
		s.b = append(s.b, `{"type":["`+typ+`","null"]`...)
	} else {
		s.b = append(s.b, `{"type":"`+typ+`"`...)
	}
}

// object appends a struct's schema: its properties in field order, all required.
func (s *schemaWriter) object(t reflect.Type, nullable bool) error {
	if s.seen[t] {
		return fmt.Errorf("%v contains itself", t)
	}
	s.seen[t] = true
	defer delete(s.seen, t)

	fields, err := jsonFields(t)
	if err != nil {
		return err
	}
	s.typeField("object", nullable)
	s.b = append(s.b, `,"properties":{`...)
	for i, f := range fields {
		if i > 0 {
			s.b = append(s.b, ',')
		}
		s.b = strconv.AppendQuote(s.b, f.name) // names are valid UTF-8, as JSON wants
		s.b = append(s.b, ':')
		ft := f.typ
		if f.asString {
			s.simple("string", f.omitEmpty, "")
			continue
		}
		if err := s.write(ft, f.omitEmpty); err != nil {
			return fmt.Errorf("field %s: %w", f.goName, err)
		}
	}
	s.b = append(s.b, `},"required":[`...)
	for i, f := range fields {
		if i > 0 {
			s.b = append(s.b, ',')
		}
		s.b = strconv.AppendQuote(s.b, f.name)
	}
	s.b = append(s.b, `],"additionalProperties":false}`...)
	return nil
}

// mapKeyOK reports whether encoding/json can write a map key of type k.
func mapKeyOK(k reflect.Type) bool {
	switch k.Kind() {
	case reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return k.Implements(textMarshalerType)
}

// jsonField is one field of a struct's JSON encoding.
type jsonField struct {
	name      string // the JSON name
	goName    string // the Go name, for errors
	typ       reflect.Type
	omitEmpty bool
	asString  bool // the ",string" option on a number or boolean

	index  []int // the path of embedded fields, whose length is the depth
	tagged bool  // the name came from a tag
}

// jsonFields lists the fields encoding/json writes for struct type t, in its order and by
// its rules: fields of embedded structs are promoted; of several fields with one name the
// shallowest wins, then the one with a tag; a tie of those leaves the name out.
func jsonFields(t reflect.Type) ([]jsonField, error) {
	var all []jsonField
	if err := collectFields(t, nil, map[reflect.Type]bool{}, &all); err != nil {
		return nil, err
	}
	// Group by name, keep each name's dominant field, then sort by the fields' paths:
	// encoding/json's order.
	byName := map[string][]int{}
	var order []string
	for i, f := range all {
		if _, ok := byName[f.name]; !ok {
			order = append(order, f.name)
		}
		byName[f.name] = append(byName[f.name], i)
	}
	var out []jsonField
	for _, name := range order {
		if f, ok := dominant(all, byName[name]); ok {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b jsonField) int { return slices.Compare(a.index, b.index) })
	return out, nil
}

// dominant picks the field encoding/json keeps among those that share a name.
func dominant(all []jsonField, idx []int) (jsonField, bool) {
	best := all[idx[0]]
	tie := false
	for _, i := range idx[1:] {
		f := all[i]
		switch {
		case len(f.index) < len(best.index) || (len(f.index) == len(best.index) && f.tagged && !best.tagged):
			best, tie = f, false
		case len(f.index) == len(best.index) && f.tagged == best.tagged:
			tie = true
		}
	}
	return best, !tie
}

// collectFields appends the fields of struct t, at the embedding path index, to out.
// visiting holds the embedded struct types on the path, which encoding/json visits once.
func collectFields(t reflect.Type, index []int, visiting map[reflect.Type]bool, out *[]jsonField) error {
	if visiting[t] {
		return nil
	}
	visiting[t] = true
	defer delete(visiting, t)

	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		path := append(append([]int(nil), index...), i)

		if sf.Anonymous {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if !sf.IsExported() && ft.Kind() != reflect.Struct {
				continue // an unexported embedded non-struct is not encoded
			}
			if name == "" && ft.Kind() == reflect.Struct {
				// An untagged embedded struct's fields are promoted.
				if err := collectFields(ft, path, visiting, out); err != nil {
					return err
				}
				continue
			}
		} else if !sf.IsExported() {
			continue
		}

		f := jsonField{
			name:   name,
			goName: sf.Name,
			typ:    sf.Type,
			index:  path,
			tagged: name != "",
		}
		if f.name == "" {
			f.name = sf.Name
		}
		for _, opt := range strings.Split(opts, ",") {
			switch opt {
			case "omitempty", "omitzero":
				f.omitEmpty = true
			case "string":
				f.asString = stringable(sf.Type)
			}
		}
		*out = append(*out, f)
	}
	return nil
}

// stringable reports whether the ",string" option applies to a field of type t: to
// booleans, numbers and strings, behind at most one pointer.
func stringable(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}
