package dbt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// Epoch is the wall-clock time the simulated machine's clock starts at:
// CLOCK_REALTIME reads Epoch plus the simulated time, so runs are
// reproducible.
var Epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// GuestPID is the process and thread id the guest sees.
const GuestPID = 1000

// ProcessConfig is how a guest process is set up.
type ProcessConfig struct {
	Path   string   // the executable's host path; /proc/self/exe reads as its absolute form
	Argv   []string // argv[0] included
	Envp   []string
	Seed   uint64 // AT_RANDOM and getrandom bytes derive from it
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Now returns the simulated time, for the clocks; nil reads 0.
	Now func() sim.Time
	// Strict makes an unsupported system call an error that stops the run
	// instead of returning -ENOSYS.
	Strict bool
	// Backing holds the guest's memory: nil for an identity backing of its
	// own, or a VM image (NewImageBacking).
	Backing *Backing
	// Net is the network under the guest's UDP sockets; nil: a host
	// without one (sockets reach only the loopback address).
	Net NetDevice
	// OnCodeChange is called when guest code may have changed without a
	// store the translator sees (riscv_flush_icache, mprotect adding
	// execute permission, munmap).
	OnCodeChange func(start, end uint64)
}

// Process is an emulated Linux process: its address space, open files,
// signal dispositions and the system calls it makes. It is not safe for
// concurrent use.
type Process struct {
	cfg   ProcessConfig
	AS    *AddressSpace
	Prog  *Program
	SP    uint64 // initial stack pointer
	files []*guestFile
	pcg   *rand.PCG // rng's source, whose state a snapshot carries
	rng   *rand.Rand

	sigactions [65][sigactionSize]byte
	sigmask    uint64
	tidAddress uint64
	robust     [2]uint64

	Exited   bool
	ExitCode int
	signal   int // the signal whose default action ended the process, if one did
	// NetDropped counts datagrams that arrived for a port no socket is
	// bound to.
	NetDropped uint64
	deadline   sim.Time // a blocked call's timeout (sim.MaxTime: none; 0: nothing blocked)

	calls map[string]uint64
	// syscalls counts every entry into the system-call layer
	syscalls uint64
	unknown  map[string]uint64
}

type guestFile struct {
	f      *os.File // nil for the standard streams
	r      io.Reader
	w      io.Writer
	name   string
	stdNum int      // 0, 1, 2 for the standard streams; -1 otherwise
	pipe   *pipeBuf // the write end of a pipe: closing it ends the reader's data
	flags  int      // a host file: how it was opened (os.OpenFile's flags)
	sock   *socket  // a UDP socket
	ep     *epoll   // an epoll instance
}

// UnsupportedSyscallError is returned by Syscall in strict mode.
type UnsupportedSyscallError struct {
	Num uint64
	PC  uint64
}

func (e *UnsupportedSyscallError) Error() string {
	return fmt.Sprintf("unsupported system call %d (%s) at guest pc %#x", e.Num, SyscallName(e.Num), e.PC)
}

// NewProcess loads prog into a fresh address space and builds its stack.
func NewProcess(prog *Program, cfg ProcessConfig) (*Process, error) {
	mem := cfg.Backing
	if mem == nil {
		var err error
		if mem, err = NewIdentityBacking(); err != nil {
			return nil, err
		}
	}
	as, err := NewAddressSpaceIn(mem)
	if err != nil {
		return nil, err
	}
	if err := as.LoadProgram(prog); err != nil {
		return nil, err
	}
	p := newProcess(prog, cfg, as)
	spec := StackSpec{Top: StackTop, Argv: cfg.Argv, Envp: cfg.Envp, ExecFn: cfg.Path, Aux: prog.Auxv()}
	p.fillRandom(spec.Random[:])
	sp, img, err := BuildStack(spec)
	if err != nil {
		return nil, err
	}
	if err := as.MapStack(sp, img); err != nil {
		return nil, err
	}
	p.SP = sp
	p.files = p.stdFiles()
	return p, nil
}

// SetNet gives the guest's sockets a network device (ProcessConfig.Net).
func (p *Process) SetNet(d NetDevice) { p.cfg.Net = d }

// newProcess returns a process in as with the random stream of cfg.Seed
// and no files.
func newProcess(prog *Program, cfg ProcessConfig, as *AddressSpace) *Process {
	pcg := rand.NewPCG(sim.StreamSeed(cfg.Seed, "guest.random"))
	return &Process{cfg: cfg, AS: as, Prog: prog, pcg: pcg, rng: rand.New(pcg),
		calls: map[string]uint64{}, unknown: map[string]uint64{}}
}

// stdFiles returns descriptors 0, 1 and 2 on the configured streams.
func (p *Process) stdFiles() []*guestFile {
	return []*guestFile{
		{r: orEmpty(p.cfg.Stdin), name: "stdin", stdNum: 0},
		{w: orDiscard(p.cfg.Stdout), name: "stdout", stdNum: 1},
		{w: orDiscard(p.cfg.Stderr), name: "stderr", stdNum: 2},
	}
}

func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return eofReader{}
	}
	return r
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func (p *Process) fillRandom(b []byte) {
	for i := range b {
		b[i] = byte(p.rng.Uint64())
	}
}

// Close closes the host files the guest left open.
func (p *Process) Close() {
	for _, f := range p.files {
		if f != nil && f.f != nil {
			f.f.Close()
		}
	}
}

// Calls returns how many times each system call was made, by name.
func (p *Process) Calls() map[string]uint64 { return p.calls }

// Syscalls returns the system calls the guest has entered, a blocked
// call's retries included: a watchdog's measure of progress.
func (p *Process) Syscalls() uint64 { return p.syscalls }

// Unsupported returns the unsupported system calls made, by name, each
// answered -ENOSYS.
func (p *Process) Unsupported() map[string]uint64 { return p.unknown }

// CallNames returns the names in Calls, sorted.
func (p *Process) CallNames() []string {
	names := make([]string, 0, len(p.calls))
	for n := range p.calls {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (p *Process) now() sim.Time {
	if p.cfg.Now == nil {
		return 0
	}
	return p.cfg.Now()
}

func neg(e Errno) uint64 { return uint64(-int64(e)) }

// Syscall performs system call num with arguments a (a0..a5) made by the
// instruction at pc, and returns the value for a0. The process may exit
// (Exited). An unsupported call returns -ENOSYS, or in strict mode an
// *UnsupportedSyscallError.
func (p *Process) Syscall(num uint64, a [6]uint64, pc uint64) (uint64, error) {
	return p.syscall(num, a, pc, true)
}

// syscall is Syscall; count is false for a blocked call tried again.
func (p *Process) syscall(num uint64, a [6]uint64, pc uint64, count bool) (uint64, error) {
	name := SyscallName(num)
	p.syscalls++ // every entry, a blocked call's retries too: the guest is not spinning in user code
	if count {
		p.calls[name]++
	}
	if ret, ok, err := p.netCall(num, a); ok {
		return ret, err
	}
	switch num {
	case 63, 64: // read, write
		if f, e := p.file(int64(a[0])); e == 0 && f.sock != nil {
			return p.socketIO(num == 64, int64(a[0]), a[1], a[2])
		}
		if num == 64 {
			return p.write(int64(a[0]), a[1], a[2]), nil
		}
		return p.read(int64(a[0]), a[1], a[2]), nil
	case 65, 66: // readv, writev
		if f, e := p.file(int64(a[0])); e == 0 && f.sock != nil {
			return p.socketVector(num == 66, int64(a[0]), a[1], a[2])
		}
		return p.vector(num == 66, int64(a[0]), a[1], a[2]), nil
	case 67, 68: // pread64, pwrite64
		return p.positioned(num == 68, int64(a[0]), a[1], a[2], int64(a[3])), nil
	case 56: // openat
		return p.openat(int64(a[0]), a[1], a[2], a[3]), nil
	case 57: // close
		return p.close(int64(a[0])), nil
	case 59: // pipe2
		return p.pipe2(a[0], a[1]), nil
	case 62: // lseek
		return p.lseek(int64(a[0]), int64(a[1]), int(a[2])), nil
	case 80: // fstat
		return p.fstat(int64(a[0]), a[1]), nil
	case 79: // newfstatat
		return p.newfstatat(int64(a[0]), a[1], a[2], a[3]), nil
	case 78: // readlinkat
		return p.readlinkat(int64(a[0]), a[1], a[2], a[3]), nil
	case 17: // getcwd
		return p.getcwd(a[0], a[1]), nil
	case 29: // ioctl
		return p.ioctl(int64(a[0]), a[1], a[2]), nil
	case 93, 94: // exit, exit_group
		p.Exited, p.ExitCode = true, int(int32(a[0]))&0xff
		return 0, nil
	case 214: // brk
		return p.AS.Brk(a[0]), nil
	case 222: // mmap
		return p.mmap(a[0], a[1], a[2], a[3], int64(a[4]), a[5]), nil
	case 215: // munmap
		if e := p.AS.Munmap(a[0], a[1]); e != 0 {
			return neg(e), nil
		}
		p.codeChanged(a[0], a[0]+a[1])
		return 0, nil
	case 226: // mprotect
		if e := p.AS.Mprotect(a[0], a[1], Perm(a[2])); e != 0 {
			return neg(e), nil
		}
		if Perm(a[2])&PermX != 0 {
			p.codeChanged(a[0], a[0]+a[1])
		}
		return 0, nil
	case 216: // mremap
		r, e := p.AS.Mremap(a[0], a[1], a[2], a[3], a[4])
		if e != 0 {
			return neg(e), nil
		}
		p.codeChanged(a[0], a[0]+a[1])
		return r, nil
	case 233: // madvise
		return p.madvise(a[0], a[1], int(a[2])), nil
	case 259: // riscv_flush_icache(start, end, flags): Linux flushes everything
		if a[2]&^1 != 0 { // SYS_RISCV_FLUSH_ICACHE_LOCAL is the only flag
			return neg(EINVAL), nil
		}
		p.codeChanged(0, GuestSpaceTop)
		return 0, nil
	case 113: // clock_gettime
		return p.clockGettime(int(a[0]), a[1]), nil
	case 114: // clock_getres
		if a[1] != 0 {
			return errnoOr(p.putU64s(a[1], 0, 1)), nil
		}
		return 0, nil
	case 169: // gettimeofday
		return p.gettimeofday(a[0]), nil
	case 278: // getrandom
		return p.getrandom(a[0], a[1]), nil
	case 96: // set_tid_address
		p.tidAddress = a[0]
		return GuestPID, nil
	case 99: // set_robust_list
		p.robust = [2]uint64{a[0], a[1]}
		return 0, nil
	case 261: // prlimit64
		return p.prlimit(int(a[1]), a[3]), nil
	case 163: // getrlimit
		return p.prlimit(int(a[0]), a[1]), nil
	case 134: // rt_sigaction
		return p.sigaction(int(a[0]), a[1], a[2], a[3]), nil
	case 135: // rt_sigprocmask
		return p.sigprocmask(int(a[0]), a[1], a[2], a[3]), nil
	case 160: // uname
		return p.uname(a[0]), nil
	case 179: // sysinfo
		return p.sysinfo(a[0]), nil
	case 172, 178: // getpid, gettid
		return GuestPID, nil
	case 173: // getppid
		return 1, nil
	case 174, 175, 176, 177: // getuid, geteuid, getgid, getegid
		return 0, nil
	case 124: // sched_yield
		return 0, nil
	case 98: // futex: one thread, so a wait never sleeps and a wake wakes none
		return p.futex(a[0], int(a[1]), uint32(a[2])), nil
	}
	p.unknown[name]++
	if p.cfg.Strict {
		return 0, &UnsupportedSyscallError{Num: num, PC: pc}
	}
	return neg(ENOSYS), nil
}

func errnoOr(e Errno) uint64 {
	if e != 0 {
		return neg(e)
	}
	return 0
}

func (p *Process) codeChanged(start, end uint64) {
	if p.cfg.OnCodeChange != nil && end > start {
		p.cfg.OnCodeChange(start, end)
	}
}

func (p *Process) file(fd int64) (*guestFile, Errno) {
	if fd < 0 || fd >= int64(len(p.files)) || p.files[fd] == nil {
		return nil, EBADF
	}
	return p.files[fd], 0
}

// hostErrno converts a host error to the guest's errno; Linux numbers are
// the same on every architecture for these.
func hostErrno(err error) Errno {
	var en syscall.Errno
	switch {
	case errors.As(err, &en) && en > 0 && en < 200:
		return Errno(en)
	case errors.Is(err, fs.ErrNotExist):
		return ENOENT
	case errors.Is(err, fs.ErrPermission):
		return EACCES
	case errors.Is(err, fs.ErrExist):
		return EEXIST
	}
	return EIO
}

// maxIO caps one read or write so a guest cannot make twinsim allocate
// without bound.
const maxIO = 1 << 24

func (p *Process) read(fd int64, buf, n uint64) uint64 {
	f, e := p.file(fd)
	if e != 0 {
		return neg(e)
	}
	r := f.r
	if f.f != nil {
		r = f.f
	}
	if r == nil {
		return neg(EBADF)
	}
	return p.fill(buf, n, r.Read)
}

func (p *Process) write(fd int64, buf, n uint64) uint64 {
	f, e := p.file(fd)
	if e != 0 {
		return neg(e)
	}
	w := f.w
	if f.f != nil {
		w = f.f
	}
	if w == nil {
		return neg(EBADF)
	}
	return p.drain(buf, n, w.Write)
}

// fill reads up to n bytes with rd into guest memory at buf, which must be
// writable, and returns the count or -errno.
func (p *Process) fill(buf, n uint64, rd func([]byte) (int, error)) uint64 {
	b := make([]byte, min(n, maxIO))
	if e := p.AS.access(buf, uint64(len(b)), memory.Write); e != 0 {
		return neg(e)
	}
	got, err := rd(b)
	if got > 0 {
		p.AS.mem.Write(buf, b[:got])
		p.codeChanged(buf, buf+uint64(got)) // the bytes may be code the guest already ran
		return uint64(got)
	}
	if err != nil && err != io.EOF {
		return neg(hostErrno(err))
	}
	return 0
}

// drain writes n bytes of guest memory at buf, which must be readable,
// with wr and returns the count or -errno.
func (p *Process) drain(buf, n uint64, wr func([]byte) (int, error)) uint64 {
	b := make([]byte, min(n, maxIO))
	if e := p.AS.Read(buf, b); e != 0 {
		return neg(e)
	}
	got, err := wr(b)
	if err != nil && got == 0 {
		return neg(hostErrno(err))
	}
	return uint64(got)
}

// vector is readv and writev: iovecs of (base, len) pairs.
func (p *Process) vector(write bool, fd int64, iov, cnt uint64) uint64 {
	if cnt > 1024 {
		return neg(EINVAL)
	}
	var total uint64
	for i := uint64(0); i < cnt; i++ {
		var v [16]byte
		if e := p.AS.Read(iov+16*i, v[:]); e != 0 {
			return neg(e)
		}
		base, n := binary.LittleEndian.Uint64(v[:]), binary.LittleEndian.Uint64(v[8:])
		if n == 0 {
			continue
		}
		var r uint64
		if write {
			r = p.write(fd, base, n)
		} else {
			r = p.read(fd, base, n)
		}
		if int64(r) < 0 {
			if total > 0 {
				return total
			}
			return r
		}
		total += r
		if r < n {
			break
		}
	}
	return total
}

func (p *Process) positioned(write bool, fd int64, buf, n uint64, off int64) uint64 {
	f, e := p.file(fd)
	if e != 0 {
		return neg(e)
	}
	if f.f == nil {
		return neg(ESPIPE)
	}
	if off < 0 {
		return neg(EINVAL)
	}
	if write {
		return p.drain(buf, n, func(b []byte) (int, error) { return f.f.WriteAt(b, off) })
	}
	return p.fill(buf, n, func(b []byte) (int, error) { return f.f.ReadAt(b, off) })
}

// openat flags (asm-generic/fcntl.h).
const (
	oAccMode   = 03
	oCreat     = 0100
	oExcl      = 0200
	oTrunc     = 01000
	oAppend    = 02000
	oDirectory = 0200000
	atFdcwd    = -100
)

func (p *Process) path(dirfd int64, addr uint64) (string, Errno) {
	path, e := p.AS.ReadString(addr, 4096)
	if e != 0 {
		if e == ERANGE {
			return "", EINVAL
		}
		return "", e
	}
	if path == "" {
		return "", ENOENT
	}
	if filepath.IsAbs(path) || dirfd == atFdcwd {
		return path, 0
	}
	f, e := p.file(dirfd)
	if e != 0 {
		return "", e
	}
	if f.f == nil {
		return "", ENOTDIR
	}
	return filepath.Join(f.f.Name(), path), 0
}

func (p *Process) openat(dirfd int64, pathAddr, flags, mode uint64) uint64 {
	path, e := p.path(dirfd, pathAddr)
	if e != 0 {
		return neg(e)
	}
	hf := int(flags & oAccMode)
	if flags&oCreat != 0 {
		hf |= os.O_CREATE
	}
	if flags&oExcl != 0 {
		hf |= os.O_EXCL
	}
	if flags&oTrunc != 0 {
		hf |= os.O_TRUNC
	}
	if flags&oAppend != 0 {
		hf |= os.O_APPEND
	}
	f, err := os.OpenFile(path, hf, fs.FileMode(mode&0o777))
	if err != nil {
		return neg(hostErrno(err))
	}
	if flags&oDirectory != 0 {
		if st, err := f.Stat(); err != nil || !st.IsDir() {
			f.Close()
			return neg(ENOTDIR)
		}
	}
	fd, e := p.addFile(&guestFile{f: f, name: path, stdNum: -1, flags: hf})
	if e != 0 {
		f.Close()
		return neg(e)
	}
	return uint64(fd)
}

// pipeBuf is a pipe's contents. With one guest thread, a read of an empty
// pipe cannot wait for a writer: it returns EOF when the write end is
// closed and EAGAIN otherwise (Linux would block for ever).
type pipeBuf struct {
	data   bytes.Buffer
	closed bool
}

type pipeReader struct{ b *pipeBuf }

func (r pipeReader) Read(p []byte) (int, error) {
	if r.b.data.Len() == 0 {
		if r.b.closed {
			return 0, io.EOF
		}
		return 0, syscall.EAGAIN
	}
	return r.b.data.Read(p)
}

type pipeWriter struct{ b *pipeBuf }

func (w pipeWriter) Write(p []byte) (int, error) {
	if w.b.data.Len()+len(p) > 1<<20 {
		return 0, syscall.EAGAIN // a full pipe would block the only thread
	}
	return w.b.data.Write(p)
}

func (p *Process) pipe2(fdsAddr, flags uint64) uint64 {
	if flags&^(0o4000|0o2000000) != 0 { // O_NONBLOCK, O_CLOEXEC
		return neg(EINVAL)
	}
	buf := &pipeBuf{}
	rfd, e := p.addFile(&guestFile{r: pipeReader{buf}, name: "pipe", stdNum: -1})
	if e != 0 {
		return neg(e)
	}
	wfd, e := p.addFile(&guestFile{w: pipeWriter{buf}, name: "pipe", stdNum: -1, pipe: buf})
	if e != 0 {
		p.files[rfd] = nil
		return neg(e)
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(rfd))
	binary.LittleEndian.PutUint32(b[4:], uint32(wfd))
	if e := p.AS.Write(fdsAddr, b[:]); e != 0 {
		p.files[rfd], p.files[wfd] = nil, nil
		return neg(e)
	}
	return 0
}

// addFile puts f in the lowest free descriptor.
func (p *Process) addFile(f *guestFile) (int, Errno) {
	for i, x := range p.files {
		if x == nil {
			p.files[i] = f
			return i, 0
		}
	}
	if len(p.files) >= 1024 {
		return 0, EMFILE
	}
	p.files = append(p.files, f)
	return len(p.files) - 1, 0
}

func (p *Process) close(fd int64) uint64 {
	f, e := p.file(fd)
	if e != 0 {
		return neg(e)
	}
	p.files[fd] = nil
	if f.pipe != nil {
		f.pipe.closed = true
	}
	for _, o := range p.files {
		if o != nil && o.ep != nil {
			delete(o.ep.watch, int(fd)) // a closed descriptor leaves every epoll set
		}
	}
	if f.f != nil {
		if err := f.f.Close(); err != nil {
			return neg(hostErrno(err))
		}
	}
	return 0
}

func (p *Process) lseek(fd int64, off int64, whence int) uint64 {
	f, e := p.file(fd)
	if e != 0 {
		return neg(e)
	}
	if f.f == nil {
		return neg(ESPIPE)
	}
	if whence < 0 || whence > 2 {
		return neg(EINVAL)
	}
	pos, err := f.f.Seek(off, whence)
	if err != nil {
		return neg(hostErrno(err))
	}
	return uint64(pos)
}

// putStat writes an RV64 (asm-generic) struct stat of 128 bytes.
func (p *Process) putStat(addr uint64, st *syscall.Stat_t) Errno {
	var b [128]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(st.Dev))
	le.PutUint64(b[8:], st.Ino)
	le.PutUint32(b[16:], st.Mode)
	le.PutUint32(b[20:], uint32(st.Nlink))
	le.PutUint32(b[24:], st.Uid)
	le.PutUint32(b[28:], st.Gid)
	le.PutUint64(b[32:], uint64(st.Rdev))
	le.PutUint64(b[48:], uint64(st.Size))
	le.PutUint32(b[56:], uint32(st.Blksize))
	le.PutUint64(b[64:], uint64(st.Blocks))
	le.PutUint64(b[72:], uint64(st.Atim.Sec))
	le.PutUint64(b[80:], uint64(st.Atim.Nsec))
	le.PutUint64(b[88:], uint64(st.Mtim.Sec))
	le.PutUint64(b[96:], uint64(st.Mtim.Nsec))
	le.PutUint64(b[104:], uint64(st.Ctim.Sec))
	le.PutUint64(b[112:], uint64(st.Ctim.Nsec))
	return p.AS.Write(addr, b[:])
}

// stdStat describes a standard stream: a character device when the host
// stream is a terminal, a pipe otherwise, with fixed numbers so that runs
// do not depend on the host.
func stdStat(w any) *syscall.Stat_t {
	st := &syscall.Stat_t{Mode: syscall.S_IFIFO | 0o600, Nlink: 1, Blksize: 4096}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&fs.ModeCharDevice != 0 {
			st.Mode = syscall.S_IFCHR | 0o620
			st.Rdev = 0x8800
			st.Blksize = 1024
		}
	}
	return st
}

func (p *Process) fstat(fd int64, addr uint64) uint64 {
	f, e := p.file(fd)
	if e != 0 {
		return neg(e)
	}
	if f.f == nil {
		var stream any = f.w
		if f.r != nil {
			stream = f.r
		}
		return errnoOr(p.putStat(addr, stdStat(stream)))
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.f.Fd()), &st); err != nil {
		return neg(hostErrno(err))
	}
	return errnoOr(p.putStat(addr, &st))
}

const atEmptyPath = 0x1000

func (p *Process) newfstatat(dirfd int64, pathAddr, statAddr, flags uint64) uint64 {
	if flags&atEmptyPath != 0 {
		if s, e := p.AS.ReadString(pathAddr, 1); e == 0 && s == "" {
			return p.fstat(dirfd, statAddr)
		}
	}
	path, e := p.path(dirfd, pathAddr)
	if e != 0 {
		return neg(e)
	}
	var st syscall.Stat_t
	var err error
	if flags&0x100 != 0 { // AT_SYMLINK_NOFOLLOW
		err = syscall.Lstat(path, &st)
	} else {
		err = syscall.Stat(path, &st)
	}
	if err != nil {
		return neg(hostErrno(err))
	}
	return errnoOr(p.putStat(statAddr, &st))
}

func (p *Process) readlinkat(dirfd int64, pathAddr, buf, n uint64) uint64 {
	path, e := p.path(dirfd, pathAddr)
	if e != 0 {
		return neg(e)
	}
	var target string
	if path == "/proc/self/exe" {
		abs, err := filepath.Abs(p.cfg.Path)
		if err != nil {
			return neg(ENOENT)
		}
		target = abs
	} else {
		t, err := os.Readlink(path)
		if err != nil {
			return neg(hostErrno(err))
		}
		target = t
	}
	b := []byte(target)
	if uint64(len(b)) > n {
		b = b[:n]
	}
	if e := p.AS.Write(buf, b); e != 0 {
		return neg(e)
	}
	return uint64(len(b))
}

func (p *Process) getcwd(buf, n uint64) uint64 {
	wd, err := os.Getwd()
	if err != nil {
		return neg(hostErrno(err))
	}
	b := append([]byte(wd), 0)
	if uint64(len(b)) > n {
		return neg(ERANGE)
	}
	if e := p.AS.Write(buf, b); e != 0 {
		return neg(e)
	}
	return uint64(len(b))
}

const tcgets = 0x5401

func (p *Process) ioctl(fd int64, req, arg uint64) uint64 {
	f, e := p.file(fd)
	if e != 0 {
		return neg(e)
	}
	if req != tcgets {
		return neg(EINVAL)
	}
	// Only a terminal answers TCGETS; twinsim reports no stream as one, so
	// that a program buffers its output the same way on every host.
	_ = f
	return neg(ENOTTY)
}

// mmap maps anonymous memory or a private copy of a file's bytes.
func (p *Process) mmap(addr, length, prot, flags uint64, fd int64, off uint64) uint64 {
	name := "anon"
	var f *guestFile
	if flags&MapAnonymous == 0 {
		var e Errno
		if f, e = p.file(fd); e != 0 {
			return neg(e)
		}
		if f.f == nil {
			return neg(EACCES)
		}
		if flags&MapShared != 0 && prot&uint64(PermW) != 0 {
			return neg(EACCES) // a shared writable file mapping would need write-back to the file
		}
		if off%GuestPageSize != 0 {
			return neg(EINVAL)
		}
		name = f.name
	}
	at, e := p.AS.Mmap(addr, length, Perm(prot), flags, name)
	if e != 0 {
		return neg(e)
	}
	if f != nil {
		// Copy the file's bytes in pieces; the guest's protection need not
		// allow writing.
		b := make([]byte, min(length, maxIO))
		for done := uint64(0); done < length; {
			n, err := f.f.ReadAt(b[:min(uint64(len(b)), length-done)], int64(off+done))
			p.AS.mem.Write(at+done, b[:n])
			done += uint64(n)
			if err == io.EOF || n == 0 {
				break
			}
			if err != nil {
				p.AS.Munmap(at, length)
				return neg(hostErrno(err))
			}
		}
	}
	p.codeChanged(at, at+length)
	return at
}

const madvDontneed = 4

func (p *Process) madvise(addr, length uint64, advice int) uint64 {
	if addr%GuestPageSize != 0 {
		return neg(EINVAL)
	}
	if advice == madvDontneed && length > 0 {
		// Private anonymous pages read as zeros afterwards.
		end := addr + pageUp(length)
		if length > GuestSpaceTop || end < addr || end > GuestSpaceTop {
			return neg(EINVAL)
		}
		if e := p.AS.access(addr, end-addr, memory.Read); e != 0 {
			return neg(ENOMEM)
		}
		p.AS.mem.Zero(addr, end-addr)
		p.AS.changed(addr, end) // released frames: cached translations must go
	}
	return 0
}

func (p *Process) putU64s(addr uint64, vs ...uint64) Errno {
	b := make([]byte, 8*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	return p.AS.Write(addr, b)
}

func (p *Process) clockGettime(clock int, tp uint64) uint64 {
	t := p.now()
	var sec, nsec uint64
	switch clock {
	case 0, 5, 8, 11: // REALTIME, REALTIME_COARSE, REALTIME_ALARM, TAI
		wall := Epoch.Add(time.Duration(t / sim.Nanosecond))
		sec, nsec = uint64(wall.Unix()), uint64(wall.Nanosecond())
	case 1, 2, 3, 4, 6, 7, 9: // MONOTONIC, PROCESS_ and THREAD_CPUTIME_ID, MONOTONIC_RAW, _COARSE, BOOTTIME, BOOTTIME_ALARM
		sec, nsec = uint64(t/sim.Second), uint64(t%sim.Second/sim.Nanosecond)
	default:
		return neg(EINVAL)
	}
	return errnoOr(p.putU64s(tp, sec, nsec))
}

func (p *Process) gettimeofday(tv uint64) uint64 {
	if tv == 0 {
		return 0
	}
	wall := Epoch.Add(time.Duration(p.now() / sim.Nanosecond))
	return errnoOr(p.putU64s(tv, uint64(wall.Unix()), uint64(wall.Nanosecond()/1000)))
}

func (p *Process) getrandom(buf, n uint64) uint64 {
	b := make([]byte, min(n, 1<<25))
	p.fillRandom(b)
	if e := p.AS.Write(buf, b); e != 0 {
		return neg(e)
	}
	return uint64(len(b))
}

// Resource limits reported by prlimit64 and getrlimit.
var rlimits = map[int][2]uint64{
	3: {StackSize, ^uint64(0)}, // RLIMIT_STACK
	7: {1024, 4096},            // RLIMIT_NOFILE
}

func (p *Process) prlimit(resource int, old uint64) uint64 {
	if resource < 0 || resource > 15 {
		return neg(EINVAL)
	}
	if old == 0 {
		return 0 // setting limits is accepted and ignored
	}
	lim, ok := rlimits[resource]
	if !ok {
		lim = [2]uint64{^uint64(0), ^uint64(0)}
	}
	return errnoOr(p.putU64s(old, lim[0], lim[1]))
}

// sigactionSize is the RV64 kernel's struct sigaction: handler, flags and
// the 64-bit mask (RISC-V has no sa_restorer).
const sigactionSize = 24

func (p *Process) sigaction(sig int, act, old, size uint64) uint64 {
	if sig < 1 || sig > 64 || sig == 9 || sig == 19 || size != 8 {
		return neg(EINVAL)
	}
	if old != 0 {
		if e := p.AS.Write(old, p.sigactions[sig][:]); e != 0 {
			return neg(e)
		}
	}
	if act != 0 {
		var b [sigactionSize]byte
		if e := p.AS.Read(act, b[:]); e != 0 {
			return neg(e)
		}
		p.sigactions[sig] = b
	}
	return 0
}

func (p *Process) sigprocmask(how int, set, old, size uint64) uint64 {
	if size != 8 || how < 0 || how > 2 {
		return neg(EINVAL)
	}
	if old != 0 {
		if e := p.putU64s(old, p.sigmask); e != 0 {
			return neg(e)
		}
	}
	if set != 0 {
		var b [8]byte
		if e := p.AS.Read(set, b[:]); e != 0 {
			return neg(e)
		}
		m := binary.LittleEndian.Uint64(b[:]) &^ (1<<(9-1) | 1<<(19-1)) // SIGKILL and SIGSTOP cannot be blocked
		switch how {
		case 0:
			p.sigmask |= m
		case 1:
			p.sigmask &^= m
		case 2:
			p.sigmask = m
		}
	}
	return 0
}

func (p *Process) uname(addr uint64) uint64 {
	var b [6 * 65]byte
	for i, s := range []string{"Linux", "twinsim", "6.1.0", "#1 SMP twinsim", "riscv64", "(none)"} {
		copy(b[65*i:], s)
	}
	return errnoOr(p.AS.Write(addr, b[:]))
}

func (p *Process) sysinfo(addr uint64) uint64 {
	var b [112]byte
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(p.now()/sim.Second)) // uptime
	le.PutUint64(b[32:], 16<<30)                    // totalram
	le.PutUint64(b[40:], 8<<30)                     // freeram
	le.PutUint16(b[80:], 1)                         // procs
	le.PutUint32(b[104:], 1)                        // mem_unit
	return errnoOr(p.AS.Write(addr, b[:]))
}

func (p *Process) futex(addr uint64, op int, val uint32) uint64 {
	switch op & 0x7f { // without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME
	case 0, 9: // FUTEX_WAIT, FUTEX_WAIT_BITSET
		var b [4]byte
		if e := p.AS.Read(addr, b[:]); e != 0 {
			return neg(e)
		}
		if binary.LittleEndian.Uint32(b[:]) != val {
			return neg(EAGAIN)
		}
		// Nothing could ever wake the only thread: Linux would block
		// forever; report the deadlock as an error instead.
		return neg(EINVAL)
	case 1, 10: // FUTEX_WAKE, FUTEX_WAKE_BITSET
		return 0
	}
	return neg(ENOSYS)
}
