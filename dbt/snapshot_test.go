package dbt

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/memory"
)

// imageRun is a guest in a VM image of its own: 256 MiB at 64 MiB of a
// 512 MiB host memory, in functional mode (a run stops after any number
// of host instructions).
type imageRun struct {
	prog     *Program
	phys     *memory.Physical
	mem      *Backing
	m        *Machine
	out, err bytes.Buffer
}

const (
	testImageBase = 64 << 20
	testImageSize = 256 << 20
)

func imageConfig(hostPage uint64) MachineConfig { return MachineConfig{HostPageSize: hostPage} }

func newImageRun(t require.TestingT, hostPage uint64, c diffCase) *imageRun {
	r := &imageRun{}
	var err error
	r.prog, err = LoadProgram(programBytes(t, c.prog))
	require.NoError(t, err)
	r.phys, err = memory.NewPhysical(512 << 20)
	require.NoError(t, err)
	r.mem, err = NewImageBacking(r.phys, testImageBase, testImageSize)
	require.NoError(t, err)
	path := filepath.Join(workloadsDir, c.prog)
	p, err := NewProcess(r.prog, ProcessConfig{Path: path, Argv: append([]string{path}, c.args...), Seed: 1,
		Stdout: &r.out, Stderr: &r.err, Backing: r.mem})
	require.NoError(t, err)
	r.m, err = NewMachine(p, imageConfig(hostPage), &r.err)
	require.NoError(t, err)
	return r
}

// programBytes reads a committed workload.
func programBytes(t require.TestingT, name string) []byte {
	data, err := os.ReadFile(filepath.Join(workloadsDir, name))
	require.NoError(t, err)
	return data
}

func expectedRun(t require.TestingT, id string) (string, string) {
	out, err := os.ReadFile(filepath.Join("../workloads/expected", id+".out"))
	require.NoError(t, err)
	status, err := os.ReadFile(filepath.Join("../workloads/expected", id+".status"))
	require.NoError(t, err)
	return string(out), strings.TrimSpace(string(status))
}

// TestImageBackingMatchesQemu: every differential case run with its memory
// in a VM image (64 KiB host pages: experiment's program-VM tests run both
// sizes on the timing cores) gives qemu-riscv64's output and exit status;
// nothing of the guest lies outside the image.
func TestImageBackingMatchesQemu(t *testing.T) {
	for _, c := range readCases(t) {
		for _, hp := range []uint64{64 << 10} {
			t.Run(c.id+"/"+strconv.Itoa(int(hp>>10))+"k", func(t *testing.T) {
				t.Parallel()
				r := newImageRun(t, hp, c)
				res, err := r.m.Run()
				require.NoError(t, err)
				wantOut, wantStatus := expectedRun(t, c.id)
				require.Equal(t, wantOut, r.out.String())
				require.Equal(t, wantStatus, strconv.Itoa(res.ExitCode), "stderr: %s", r.err.String())
				require.LessOrEqual(t, r.mem.UsedBytes(), uint64(testImageSize))
				// The host memory outside the image is untouched.
				lo, err := memory.NewPhysical(512 << 20)
				require.NoError(t, err)
				same, at := r.phys.Equal(lo, 0, testImageBase)
				require.True(t, same, "host memory below the image written at %#x", at)
				same, at = r.phys.Equal(lo, testImageBase+testImageSize, 512<<20-testImageBase-testImageSize)
				require.True(t, same, "host memory above the image written at %#x", at)
			})
		}
	}
}

// TestImageBackingFull: a guest that maps more than its image holds gets
// ENOMEM from mmap (and brk stays put), as in a VM out of memory.
func TestImageBackingFull(t *testing.T) {
	phys, err := memory.NewPhysical(4 << 20)
	require.NoError(t, err)
	mem, err := NewImageBacking(phys, 0, 1<<20)
	require.NoError(t, err)
	as, err := NewAddressSpaceIn(mem)
	require.NoError(t, err)
	a, e := as.Mmap(0, 512<<10, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	require.Equal(t, uint64(512<<10), mem.UsedBytes())
	_, e = as.Mmap(0, 1<<20, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Equal(t, ENOMEM, e)
	require.Zero(t, as.Munmap(a, 512<<10))
	require.Zero(t, mem.UsedBytes(), "the frames came back")
	b, e := as.Mmap(0, 1<<20, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	buf := make([]byte, 8)
	require.Zero(t, as.Read(b+4096, buf))
	require.Equal(t, make([]byte, 8), buf, "reused frames read as zeros")
	_, err = NewImageBacking(phys, 4096, 1<<20)
	require.Error(t, err, "not 64 KiB aligned")
	_, err = NewImageBacking(phys, 0, 8<<20)
	require.Error(t, err, "beyond host memory")
}

// TestImageBackingLimit: a limit below the image refuses mappings beyond
// it (ENOMEM, reported to OnNoMemory); raising it lets the guest grow.
func TestImageBackingLimit(t *testing.T) {
	phys, err := memory.NewPhysical(4 << 20)
	require.NoError(t, err)
	mem, err := NewImageBacking(phys, 0, 1<<20)
	require.NoError(t, err)
	refused := 0
	mem.OnNoMemory = func() { refused++ }
	mem.SetLimit(256<<10 + 100) // whole frames: 256 KiB
	require.Equal(t, uint64(256<<10), mem.Limit())
	as, err := NewAddressSpaceIn(mem)
	require.NoError(t, err)
	_, e := as.Mmap(0, 192<<10, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	_, e = as.Mmap(0, 128<<10, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Equal(t, ENOMEM, e)
	require.Equal(t, 1, refused)
	mem.SetLimit(0)
	require.Equal(t, uint64(1<<20), mem.Limit())
	_, e = as.Mmap(0, 128<<10, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
}

// TestSymbol: an unstripped program's symbols are found (kvserver keeps
// its allocator's padding word); a stripped one has none.
func TestSymbol(t *testing.T) {
	for _, c := range []struct {
		prog, sym string
		found     bool
	}{{"kvserver", "twinsim_alloc_pad", true}, {"kvserver", "no_such_symbol", false}, {"sieve", "main", false}} {
		data, err := os.ReadFile("../workloads/bin/" + c.prog)
		require.NoError(t, err)
		p, err := LoadProgram(data)
		require.NoError(t, err)
		a, ok := p.Symbol(c.sym)
		require.Equal(t, c.found, ok, c)
		if ok {
			require.Positive(t, a)
		}
	}
}

// runFull returns a case's uninterrupted run in an image: output, exit
// status, guest instructions and cycles.
func runFull(t require.TestingT, hostPage uint64, c diffCase) (string, int, uint64, uint64) {
	r := newImageRun(t, hostPage, c)
	res, err := r.m.Run()
	require.NoError(t, err)
	return r.out.String(), res.ExitCode, r.m.Stats().GuestInsts, r.m.now()
}

// resumeAt runs c until host instruction at, snapshots it, copies its image to a
// fresh host and resumes it there; it returns the whole output (before
// and after), the exit status and the guest instructions.
func resumeAt(t require.TestingT, hostPage uint64, c diffCase, at uint64) (string, int, uint64) {
	r := newImageRun(t, hostPage, c)
	res, exited, err := r.m.RunUntil(max(at, 1))
	require.NoError(t, err)
	if exited {
		return r.out.String(), res.ExitCode, r.m.Stats().GuestInsts
	}
	snap, err := r.m.Snapshot()
	require.NoError(t, err)
	require.Positive(t, snap.Bytes())
	phys, err := memory.NewPhysical(512 << 20)
	require.NoError(t, err)
	r.phys.Copy(phys, testImageBase, testImageBase, testImageSize)
	mem, err := NewImageBacking(phys, testImageBase, testImageSize)
	require.NoError(t, err)
	var out, errs bytes.Buffer
	out.Write(r.out.Bytes())
	path := filepath.Join(workloadsDir, c.prog)
	m, err := Resume(r.prog, snap, ProcessConfig{Path: path, Argv: append([]string{path}, c.args...), Seed: 99,
		Stdout: &out, Stderr: &errs, Backing: mem}, imageConfig(hostPage), &errs)
	require.NoError(t, err)
	res, err = m.Run()
	require.NoError(t, err)
	return out.String(), res.ExitCode, m.Stats().GuestInsts
}

// TestResumeFromSnapshot: a guest stopped anywhere, snapshotted, its image
// copied to a fresh host and resumed there (with another seed, which the
// snapshot's random stream overrides) ends with the output, exit status
// and instruction count of the uninterrupted run — for every case, at
// the middle of its run, and at random instants (a property test).
func TestResumeFromSnapshot(t *testing.T) {
	cases := readCases(t)
	type full struct {
		out    string
		status int
		insts  uint64
		cycles uint64
	}
	fulls := map[string]full{}
	for _, c := range cases {
		out, status, insts, cycles := runFull(t, 64<<10, c)
		fulls[c.id] = full{out, status, insts, cycles}
		wantOut, wantStatus := expectedRun(t, c.id)
		require.Equal(t, wantOut, out)
		require.Equal(t, wantStatus, strconv.Itoa(status))
		t.Run(c.id, func(t *testing.T) {
			out, status, insts := resumeAt(t, 64<<10, c, cycles/2)
			f := fulls[c.id]
			require.Equal(t, f.out, out)
			require.Equal(t, f.status, status)
			require.Equal(t, f.insts, insts)
		})
	}
	// The property draws from the shorter cases, so that a hundred draws
	// stay within seconds; the long ones were resumed at their middle.
	var short []diffCase
	for _, c := range cases {
		if fulls[c.id].cycles < 50_000_000 {
			short = append(short, c)
		}
	}
	require.Greater(t, len(short), len(cases)/2)
	rapid.Check(t, func(rt *rapid.T) {
		c := rapid.SampledFrom(short).Draw(rt, "case")
		hp := rapid.SampledFrom([]uint64{4 << 10, 64 << 10}).Draw(rt, "host_page")
		f := fulls[c.id]
		at := rapid.Uint64Range(1, f.cycles).Draw(rt, "cycle")
		out, status, insts := resumeAt(rt, hp, c, at)
		require.Equal(rt, f.out, out)
		require.Equal(rt, f.status, status)
		require.Equal(rt, f.insts, insts)
	})
}
