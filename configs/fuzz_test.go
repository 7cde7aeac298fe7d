package configs

import (
	"bytes"
	"testing"
)

// FuzzParse: Parse never panics, and whatever it accepts is valid and
// survives Dump→Parse.
func FuzzParse(f *testing.F) {
	for _, name := range Embedded() {
		data, err := EmbeddedFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "")
	}
	f.Add([]byte("[cache.l2]\nways = 4\n"), "vm[1].workload.pattern=strided")
	f.Add([]byte("vm = [{name = \"a\"}]\n"), "vm[1].cores=[1]")
	f.Fuzz(func(t *testing.T, data []byte, set string) {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		cfg, err := Parse(data, "fuzz.toml", sets)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid config: %v", err)
		}
		var b bytes.Buffer
		if err := Dump(&b, cfg); err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(b.Bytes(), "dump", nil); err != nil {
			t.Fatalf("dump of an accepted config does not parse: %v\n%s", err, b.String())
		}
	})
}
