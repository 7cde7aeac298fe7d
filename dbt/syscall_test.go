package dbt

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/sim"
)

// sysRig is a process with a scratch page for system-call arguments.
type sysRig struct {
	p       *Process
	out     bytes.Buffer
	err     bytes.Buffer
	scratch uint64
	now     sim.Time
	changed [][2]uint64
}

func newSysRig(t *testing.T, stdin string) *sysRig {
	t.Helper()
	prog, err := LoadProgram(readWorkload(t, "recursion"))
	require.NoError(t, err)
	r := &sysRig{}
	r.p, err = NewProcess(prog, ProcessConfig{Path: filepath.Join(workloadsDir, "recursion"), Argv: []string{"recursion", "x"},
		Envp: []string{"A=b"}, Seed: 7, Stdin: strings.NewReader(stdin), Stdout: &r.out, Stderr: &r.err,
		Now: func() sim.Time { return r.now }, OnCodeChange: func(s, e uint64) { r.changed = append(r.changed, [2]uint64{s, e}) }})
	require.NoError(t, err)
	t.Cleanup(r.p.Close)
	at, e := r.p.AS.Mmap(0, 4*GuestPageSize, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	r.scratch = at
	return r
}

func (r *sysRig) call(t *testing.T, num uint64, args ...uint64) int64 {
	t.Helper()
	var a [6]uint64
	copy(a[:], args)
	ret, err := r.p.Syscall(num, a, 0x10000)
	require.NoError(t, err)
	return int64(ret)
}

func (r *sysRig) put(t *testing.T, off uint64, b []byte) uint64 {
	t.Helper()
	require.Zero(t, r.p.AS.Write(r.scratch+off, b))
	return r.scratch + off
}

func (r *sysRig) get(t *testing.T, addr uint64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	require.Zero(t, r.p.AS.Read(addr, b))
	return b
}

func u64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

func TestProcessStack(t *testing.T) {
	r := newSysRig(t, "")
	require.Equal(t, uint64(2), u64(r.get(t, r.p.SP, 8)), "argc")
	argv1 := u64(r.get(t, r.p.SP+16, 8))
	s, e := r.p.AS.ReadString(argv1, 10)
	require.Zero(t, e)
	require.Equal(t, "x", s)
}

func TestReadWrite(t *testing.T) {
	r := newSysRig(t, "hello")
	buf := r.put(t, 0, []byte("out put"))
	require.Equal(t, int64(7), r.call(t, 64, 1, buf, 7))
	require.Equal(t, int64(3), r.call(t, 64, 2, buf, 3))
	require.Equal(t, "out put", r.out.String())
	require.Equal(t, "out", r.err.String())
	require.Equal(t, int64(5), r.call(t, 63, 0, r.scratch+100, 64))
	require.Equal(t, "hello", string(r.get(t, r.scratch+100, 5)))
	require.Equal(t, int64(0), r.call(t, 63, 0, r.scratch+100, 64), "EOF")
	require.Equal(t, -int64(EBADF), r.call(t, 64, 9, buf, 1))
	require.Equal(t, -int64(EFAULT), r.call(t, 64, 1, 0x1000, 1))
	require.Equal(t, -int64(EFAULT), r.call(t, 63, 0, 0x10000, 1), "text is not writable")
	// writev: two pieces.
	iov := make([]byte, 32)
	binary.LittleEndian.PutUint64(iov[0:], buf)
	binary.LittleEndian.PutUint64(iov[8:], 3)
	binary.LittleEndian.PutUint64(iov[16:], buf+3)
	binary.LittleEndian.PutUint64(iov[24:], 4)
	require.Equal(t, int64(7), r.call(t, 66, 1, r.put(t, 200, iov), 2))
	require.Equal(t, "out putout put", r.out.String())
	require.Equal(t, uint64(1), r.p.Calls()["writev"])
	require.Equal(t, uint64(4), r.p.Calls()["write"])
}

func TestFiles(t *testing.T) {
	r := newSysRig(t, "")
	dir := t.TempDir()
	path := filepath.Join(dir, "f.txt")
	pathAddr := r.put(t, 0, append([]byte(path), 0))
	fd := r.call(t, 56, uint64(atFdcwd&0xffffffffffffffff), pathAddr, oCreat|2, 0o644)
	require.Equal(t, int64(3), fd)
	data := r.put(t, 1024, []byte("0123456789"))
	require.Equal(t, int64(10), r.call(t, 64, uint64(fd), data, 10))
	require.Equal(t, int64(2), r.call(t, 62, uint64(fd), 2, 0), "lseek SEEK_SET")
	require.Equal(t, int64(3), r.call(t, 63, uint64(fd), r.scratch+2048, 3))
	require.Equal(t, "234", string(r.get(t, r.scratch+2048, 3)))
	require.Equal(t, int64(4), r.call(t, 67, uint64(fd), r.scratch+2048, 4, 6), "pread64")
	require.Equal(t, "6789", string(r.get(t, r.scratch+2048, 4)))
	// fstat: size and regular file.
	require.Zero(t, r.call(t, 80, uint64(fd), r.scratch+3000))
	st := r.get(t, r.scratch+3000, 128)
	require.Equal(t, uint64(10), u64(st[48:]))
	require.Equal(t, uint32(0o100000), binary.LittleEndian.Uint32(st[16:])&0o170000)
	// newfstatat by path.
	require.Zero(t, r.call(t, 79, uint64(atFdcwd&0xffffffffffffffff), pathAddr, r.scratch+3200, 0))
	require.Equal(t, uint64(10), u64(r.get(t, r.scratch+3248, 8)))
	// AT_EMPTY_PATH on fd 1: a pipe when not a terminal.
	empty := r.put(t, 4000, []byte{0})
	require.Zero(t, r.call(t, 79, 1, empty, r.scratch+3400, atEmptyPath))
	require.Equal(t, uint32(0o010000), binary.LittleEndian.Uint32(r.get(t, r.scratch+3416, 4))&0o170000)
	require.Zero(t, r.call(t, 57, uint64(fd)))
	require.Equal(t, -int64(EBADF), r.call(t, 57, uint64(fd)))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "0123456789", string(got))
	// Missing file; directory check; relative path against a directory fd.
	missing := r.put(t, 5000, []byte("/no/such/file\x00"))
	require.Equal(t, -int64(ENOENT), r.call(t, 56, uint64(atFdcwd&0xffffffffffffffff), missing, 0, 0))
	require.Equal(t, -int64(ENOTDIR), r.call(t, 56, uint64(atFdcwd&0xffffffffffffffff), pathAddr, oDirectory, 0))
	dirfd := r.call(t, 56, uint64(atFdcwd&0xffffffffffffffff), r.put(t, 6000, append([]byte(dir), 0)), oDirectory, 0)
	require.Positive(t, dirfd)
	rel := r.call(t, 56, uint64(dirfd), r.put(t, 6500, []byte("f.txt\x00")), 0, 0)
	require.Positive(t, rel)
	require.Equal(t, -int64(ESPIPE), r.call(t, 62, 1, 0, 0))
	require.Equal(t, -int64(ENOTTY), r.call(t, 29, 1, tcgets, r.scratch))
}

func TestReadlinkSelfExe(t *testing.T) {
	r := newSysRig(t, "")
	n := r.call(t, 78, uint64(atFdcwd&0xffffffffffffffff), r.put(t, 0, []byte("/proc/self/exe\x00")), r.scratch+100, 4096)
	require.Positive(t, n)
	abs, _ := filepath.Abs(filepath.Join(workloadsDir, "recursion"))
	require.Equal(t, abs, string(r.get(t, r.scratch+100, int(n))))
}

func TestMemorySyscalls(t *testing.T) {
	r := newSysRig(t, "")
	brk := uint64(r.call(t, 214, 0))
	require.Equal(t, r.p.Prog.Brk(), brk)
	require.Equal(t, int64(brk+8192), r.call(t, 214, brk+8192))
	at := r.call(t, 222, 0, 3*GuestPageSize, uint64(PermR|PermW), MapPrivate|MapAnonymous, ^uint64(0), 0)
	require.Positive(t, at)
	require.Zero(t, r.call(t, 226, uint64(at), GuestPageSize, uint64(PermR|PermX)))
	require.Zero(t, r.call(t, 215, uint64(at), 3*GuestPageSize))
	require.Equal(t, -int64(EINVAL), r.call(t, 222, 0, 0, 0, MapPrivate|MapAnonymous, ^uint64(0), 0))
	require.Equal(t, -int64(EBADF), r.call(t, 222, 0, GuestPageSize, 1, MapPrivate, 77, 0))
	// Code changes are reported: mprotect with exec, munmap.
	require.Len(t, r.changed, 3) // mmap, mprotect +x, munmap
	// madvise(DONTNEED) zeroes.
	at2 := uint64(r.call(t, 222, 0, GuestPageSize, uint64(PermR|PermW), MapPrivate|MapAnonymous, ^uint64(0), 0))
	require.Zero(t, r.p.AS.Write(at2, []byte{1, 2, 3}))
	require.Zero(t, r.call(t, 233, at2, GuestPageSize, madvDontneed))
	require.Equal(t, []byte{0, 0, 0}, r.get(t, at2, 3))
	// A private file mapping copies the file.
	path := filepath.Join(t.TempDir(), "m")
	require.NoError(t, os.WriteFile(path, []byte("mapped bytes"), 0o644))
	fd := r.call(t, 56, uint64(atFdcwd&0xffffffffffffffff), r.put(t, 0, append([]byte(path), 0)), 0, 0)
	m := uint64(r.call(t, 222, 0, 100, uint64(PermR), MapPrivate, uint64(fd), 0))
	require.Equal(t, "mapped bytes", string(r.get(t, m, 12)))
	require.Equal(t, -int64(EFAULT), r.call(t, 63, 0, m, 1), "read-only mapping")
}

func TestClocksAndIdentity(t *testing.T) {
	r := newSysRig(t, "")
	r.now = 3*sim.Second + 250*sim.Millisecond
	require.Zero(t, r.call(t, 113, 1, r.scratch))
	ts := r.get(t, r.scratch, 16)
	require.Equal(t, uint64(3), u64(ts))
	require.Equal(t, uint64(250_000_000), u64(ts[8:]))
	require.Zero(t, r.call(t, 113, 0, r.scratch))
	require.Equal(t, uint64(Epoch.Unix()+3), u64(r.get(t, r.scratch, 8)))
	require.Equal(t, -int64(EINVAL), r.call(t, 113, 99, r.scratch))
	require.Zero(t, r.call(t, 169, r.scratch))
	require.Equal(t, uint64(250000), u64(r.get(t, r.scratch+8, 8)))
	require.Equal(t, int64(GuestPID), r.call(t, 172))
	require.Equal(t, int64(GuestPID), r.call(t, 96, r.scratch))
	require.Zero(t, r.call(t, 160, r.scratch))
	un := r.get(t, r.scratch, 390)
	require.Equal(t, "Linux", string(bytes.TrimRight(un[:65], "\x00")))
	require.Equal(t, "riscv64", string(bytes.TrimRight(un[4*65:5*65], "\x00")))
	require.Zero(t, r.call(t, 261, 0, 3, 0, r.scratch))
	require.Equal(t, uint64(StackSize), u64(r.get(t, r.scratch, 8)))
}

func TestGetrandomIsSeeded(t *testing.T) {
	a, b := newSysRig(t, ""), newSysRig(t, "")
	require.Equal(t, int64(32), a.call(t, 278, a.scratch, 32, 0))
	require.Equal(t, int64(32), b.call(t, 278, b.scratch, 32, 0))
	require.Equal(t, a.get(t, a.scratch, 32), b.get(t, b.scratch, 32))
	require.NotEqual(t, make([]byte, 32), a.get(t, a.scratch, 32))
}

func TestSignalsRecorded(t *testing.T) {
	r := newSysRig(t, "")
	act := make([]byte, sigactionSize)
	act[0] = 0x42
	require.Zero(t, r.call(t, 134, 2, r.put(t, 0, act), 0, 8))
	r.put(t, 64+sigactionSize, []byte{0x99}) // a byte just past the old action
	require.Zero(t, r.call(t, 134, 2, 0, r.scratch+64, 8))
	require.Equal(t, byte(0x42), r.get(t, r.scratch+64, 1)[0])
	require.Equal(t, byte(0x99), r.get(t, r.scratch+64+sigactionSize, 1)[0], "24 bytes written, not more")
	require.Equal(t, -int64(EINVAL), r.call(t, 134, 9, r.scratch, 0, 8), "SIGKILL")
	mask := make([]byte, 8)
	binary.LittleEndian.PutUint64(mask, 1<<1|1<<8)
	require.Zero(t, r.call(t, 135, 0, r.put(t, 100, mask), r.scratch+200, 8))
	require.Zero(t, r.call(t, 135, 2, 0, r.scratch+200, 8))
	require.Equal(t, uint64(1<<1), u64(r.get(t, r.scratch+200, 8)), "SIGKILL cannot be blocked")
}

func TestExitAndUnsupported(t *testing.T) {
	r := newSysRig(t, "")
	require.Equal(t, -int64(ENOSYS), r.call(t, 220)) // clone
	require.Equal(t, uint64(1), r.p.Unsupported()["clone"])
	r.call(t, 94, 300)
	require.True(t, r.p.Exited)
	require.Equal(t, 300&0xff, r.p.ExitCode)

	prog, err := LoadProgram(readWorkload(t, "recursion"))
	require.NoError(t, err)
	p, err := NewProcess(prog, ProcessConfig{Path: "x", Argv: []string{"x"}, Strict: true})
	require.NoError(t, err)
	_, err = p.Syscall(435, [6]uint64{}, 0x1234)
	require.EqualError(t, err, "unsupported system call 435 (clone3) at guest pc 0x1234")
	require.Equal(t, "syscall 999", SyscallName(999))
	require.Contains(t, p.CallNames(), "clone3")
}

func TestPipe(t *testing.T) {
	r := newSysRig(t, "")
	require.Zero(t, r.call(t, 59, r.scratch, 0))
	fds := r.get(t, r.scratch, 8)
	rfd, wfd := uint64(binary.LittleEndian.Uint32(fds)), uint64(binary.LittleEndian.Uint32(fds[4:]))
	require.Equal(t, -int64(EAGAIN), r.call(t, 63, rfd, r.scratch+100, 10), "empty, writer open: would block")
	require.Equal(t, int64(5), r.call(t, 64, wfd, r.put(t, 200, []byte("hello")), 5))
	require.Equal(t, int64(5), r.call(t, 63, rfd, r.scratch+100, 10))
	require.Equal(t, "hello", string(r.get(t, r.scratch+100, 5)))
	require.Zero(t, r.call(t, 57, wfd))
	require.Zero(t, r.call(t, 63, rfd, r.scratch+100, 10), "writer closed: EOF")
	require.Equal(t, -int64(EINVAL), r.call(t, 59, r.scratch, 0x80))
	// Zero-length buffers anywhere, and a flush of everything.
	require.Zero(t, r.call(t, 64, 1, 1<<40, 0))
	require.Zero(t, r.call(t, 278, 1<<40, 0, 0))
	require.Zero(t, r.call(t, 233, 1<<40, 0, madvDontneed))
	require.Zero(t, r.call(t, 259, 0, ^uint64(0), 0))
	require.Equal(t, -int64(EINVAL), r.call(t, 259, 0, 1, 2))
}
