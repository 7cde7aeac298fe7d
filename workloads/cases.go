package workloads

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Case is a differential test case of cases.txt: an id (its expected
// output and status are expected/ID.out and expected/ID.status, recorded
// under qemu-riscv64), a committed program and its arguments.
type Case struct {
	ID, Program string
	Args        []string
}

// Command is the case's program and arguments, separated by spaces (as
// exec.command and a VM's program take them).
func (c Case) Command() string { return strings.Join(append([]string{c.Program}, c.Args...), " ") }

// ParseCases parses cases.txt: one case a line, "ID PROGRAM [ARGS...]";
// blank lines and lines starting with # are skipped.
func ParseCases(text string) ([]Case, error) {
	var out []Case
	for n, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 0 || strings.HasPrefix(f[0], "#"):
		case len(f) < 2:
			return nil, fmt.Errorf("cases.txt:%d: %q has an id but no program", n+1, line)
		default:
			out = append(out, Case{ID: f[0], Program: f[1], Args: f[2:]})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cases.txt lists no case")
	}
	return out, nil
}

// ReadCases reads and parses a cases.txt file.
func ReadCases(path string) ([]Case, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseCases(string(data))
}

// ReadExpected reads what case id does under qemu-riscv64, as `make
// workloads` recorded it in dir (workloads/expected): its standard output
// and its exit status as a shell reports it.
func ReadExpected(dir, id string) (out string, status int, err error) {
	data, err := os.ReadFile(filepath.Join(dir, id+".out"))
	if err != nil {
		return "", 0, err
	}
	st, err := os.ReadFile(filepath.Join(dir, id+".status"))
	if err != nil {
		return "", 0, err
	}
	if status, err = strconv.Atoi(strings.TrimSpace(string(st))); err != nil {
		return "", 0, fmt.Errorf("%s.status: %w", id, err)
	}
	return string(data), status, nil
}
