package configs

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

// files holds the example configurations beside this file.
//
//go:embed *.toml
var files embed.FS

// Embedded returns the names of the embedded configurations, sorted, without
// ".toml": "default" and the examples.
func Embedded() []string { return tomlNames(files, ".") }

// tomlNames lists the .toml files of dir in fsys by name without the
// suffix, sorted.
func tomlNames(fsys embed.FS, dir string) []string {
	entries, _ := fsys.ReadDir(dir)
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".toml"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// EmbeddedFile returns the text of the embedded configuration name, given
// with or without ".toml".
func EmbeddedFile(name string) ([]byte, error) {
	n := strings.TrimSuffix(name, ".toml")
	data, err := files.ReadFile(n + ".toml")
	if err != nil || strings.ContainsAny(n, "/\\") {
		return nil, fmt.Errorf("no embedded configuration %q (embedded: %s)", name, strings.Join(Embedded(), ", "))
	}
	return data, nil
}

// sweepFiles holds the example sweeps, among them those behind the figures.
//
//go:embed sweeps/*.toml
var sweepFiles embed.FS

// EmbeddedSweeps returns the names of the embedded sweeps, sorted, without
// ".toml".
func EmbeddedSweeps() []string { return tomlNames(sweepFiles, "sweeps") }

// EmbeddedSweepFile returns the text of the embedded sweep name, given with
// or without ".toml" and with or without a leading "sweeps/".
func EmbeddedSweepFile(name string) ([]byte, error) {
	n := strings.TrimSuffix(strings.TrimPrefix(name, "sweeps/"), ".toml")
	data, err := sweepFiles.ReadFile("sweeps/" + n + ".toml")
	if err != nil || strings.ContainsAny(n, "/\\") {
		return nil, fmt.Errorf("no embedded sweep %q (embedded: %s)", name, strings.Join(EmbeddedSweeps(), ", "))
	}
	return data, nil
}
