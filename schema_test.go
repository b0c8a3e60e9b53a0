package lockchat_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lockchat/lockchat"
)

type schemaAddress struct {
	Street string `json:"street"`
	City   string `json:"city,omitempty"`
}

type schemaBase struct {
	ID      int    `json:"id"`
	Comment string `json:"comment"`
}

type schemaShadow struct {
	Name  string `json:"name"` // the shallower schemaPerson.Name hides it
	Extra bool   `json:"extra"`
}

type schemaPerson struct {
	schemaBase
	*schemaShadow
	Name     string            `json:"name"`
	Age      int               `json:",omitempty"`
	Height   float64           `json:"height"`
	Email    *string           `json:"email"`
	Tags     []string          `json:"tags"`
	Home     schemaAddress     `json:"home"`
	Previous []*schemaAddress  `json:"previous"`
	Labels   map[string]int    `json:"labels"`
	Born     time.Time         `json:"born"`
	Count    int64             `json:"count,string"`
	Photo    []byte            `json:"photo"`
	Pair     [2]bool           `json:"pair"`
	Any      any               `json:"any"`
	Raw      json.RawMessage   `json:"raw"`
	Secret   string            `json:"-"`
	hidden   string            // unexported: not encoded
	Nested   map[string][]bool `json:"nested"`
}

func TestSchemaFor(t *testing.T) {
	got, err := lockchat.SchemaFor[schemaPerson]()
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"object","properties":{` +
		`"id":{"type":"integer"},` +
		`"comment":{"type":"string"},` +
		`"extra":{"type":"boolean"},` +
		`"name":{"type":"string"},` +
		`"Age":{"type":["integer","null"]},` +
		`"height":{"type":"number"},` +
		`"email":{"type":["string","null"]},` +
		`"tags":{"type":["array","null"],"items":{"type":"string"}},` +
		`"home":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":["string","null"]}},"required":["street","city"],"additionalProperties":false},` +
		`"previous":{"type":["array","null"],"items":{"type":["object","null"],"properties":{"street":{"type":"string"},"city":{"type":["string","null"]}},"required":["street","city"],"additionalProperties":false}},` +
		`"labels":{"type":["object","null"],"additionalProperties":{"type":"integer"}},` +
		`"born":{"type":"string","format":"date-time"},` +
		`"count":{"type":"string"},` +
		`"photo":{"type":"string"},` +
		`"pair":{"type":"array","items":{"type":"boolean"},"minItems":2,"maxItems":2},` +
		`"any":{},` +
		`"raw":{},` +
		`"nested":{"type":["object","null"],"additionalProperties":{"type":["array","null"],"items":{"type":"boolean"}}}` +
		`},"required":["id","comment","extra","name","Age","height","email","tags","home","previous","labels","born","count","photo","pair","any","raw","nested"],"additionalProperties":false}`
	if string(got) != want {
		t.Errorf("schema:\n got %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Error("schema is not valid JSON")
	}

	// The schema names exactly the keys encoding/json writes for a value of the type.
	email := "a@example.com"
	p := schemaPerson{schemaShadow: &schemaShadow{}, Email: &email, hidden: "not written"}
	enc, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var written map[string]any
	if err := json.Unmarshal(enc, &written); err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(got, &schema); err != nil {
		t.Fatal(err)
	}
	for _, k := range schema.Required {
		if _, ok := written[k]; !ok && k != "Age" { // Age is omitempty and 0 here
			t.Errorf("schema requires %q, which encoding/json does not write", k)
		}
		delete(written, k)
	}
	if len(written) > 0 {
		t.Errorf("encoding/json writes keys the schema lacks: %v", written)
	}
}

func TestSchemaForScalars(t *testing.T) {
	check := func(t *testing.T, got json.RawMessage, err error, want string) {
		t.Helper()
		if err != nil || string(got) != want {
			t.Errorf("got %s, %v; want %s", got, err, want)
		}
	}
	s, err := lockchat.SchemaFor[string]()
	check(t, s, err, `{"type":"string"}`)
	s, err = lockchat.SchemaFor[*uint8]()
	check(t, s, err, `{"type":["integer","null"]}`)
	s, err = lockchat.SchemaFor[[]float32]()
	check(t, s, err, `{"type":["array","null"],"items":{"type":"number"}}`)
	s, err = lockchat.SchemaFor[map[int]string]()
	check(t, s, err, `{"type":["object","null"],"additionalProperties":{"type":"string"}}`)
}

type schemaTree struct {
	Name     string       `json:"name"`
	Children []schemaTree `json:"children"`
}

type schemaLoop struct {
	Next *schemaLoop
}

type schemaOwnJSON struct{}

func (schemaOwnJSON) MarshalJSON() ([]byte, error) { return []byte(`1`), nil }

type schemaAmbiguousA struct{ X int }
type schemaAmbiguousB struct{ X string }
type schemaAmbiguous struct {
	schemaAmbiguousA
	schemaAmbiguousB
	Y int
}

func TestSchemaForErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func() (json.RawMessage, error)
		want string
	}{
		{"channel", lockchat.SchemaFor[chan int], "chan"},
		{"function field", lockchat.SchemaFor[struct{ F func() }], "field F: JSON cannot express a func"},
		{"complex", lockchat.SchemaFor[complex128], "complex128"},
		{"recursive slice", lockchat.SchemaFor[schemaTree], "contains itself"},
		{"recursive pointer", lockchat.SchemaFor[schemaLoop], "contains itself"},
		{"own MarshalJSON", lockchat.SchemaFor[schemaOwnJSON], "MarshalJSON"},
		{"map key", lockchat.SchemaFor[map[[2]int]string], "map key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.f()
			if err == nil {
				t.Fatalf("no error; schema %s", got)
			}
			if !strings.HasPrefix(err.Error(), "lockchat: no JSON schema for ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want the prefix and %q", err, tc.want)
			}
			if strings.Count(err.Error(), "lockchat:") != 1 {
				t.Errorf("error %q carries the prefix more than once", err)
			}
		})
	}

	// Fields that encoding/json finds ambiguous are left out, as it leaves them out.
	got, err := lockchat.SchemaFor[schemaAmbiguous]()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"object","properties":{"Y":{"type":"integer"}},"required":["Y"],"additionalProperties":false}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
