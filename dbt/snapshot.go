package dbt

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"

	"github.com/twinsim/twinsim/cpu"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// Snapshot is a guest's state at a checkpoint, apart from its memory: the
// core's architectural state and the emulated process's state. With the
// bytes of the guest's memory (a VM image, or an identity backing) it is
// everything a fresh host needs to continue the run where it stood
// (Resume). Translated code is not state: the resumed machine translates
// afresh.
type Snapshot struct {
	// Architectural state: integer and floating-point registers, fcsr,
	// the guest pc the run continues at, and the LR/SC reservation
	// (address + 1; 0 for none).
	X                [32]uint64
	F                [32]uint64
	FCSR             uint32
	PC               uint64
	Reservation      uint64
	ReservationValue uint64
	// GuestInsts is the guest instructions completed before the snapshot;
	// Cycles the guest's clock then, in cycles of its core.
	GuestInsts, Cycles uint64

	// The memory layout: areas, mapped pages with their page-table
	// permissions, the program break and the mmap search start.
	Areas                 []Area
	Pages                 []PageState
	BrkBase, Brk, MmapTop uint64
	// Where an image backing placed guest memory: chunk → frame, the frames
	// given back, the next never used.
	Chunks    []ChunkState
	FreeFrame []uint64
	NextFrame uint64
	// Stale lists the image's pages that hold a former mapping's bytes
	// (cleared when mapped again), in order.
	Stale []uint64

	// Files by descriptor (a zero FileState is a free descriptor).
	Files []FileState
	// The random stream of getrandom (rand.PCG's binary form).
	RNG []byte
	// A system call the guest waits in (nil: none) and its timeout.
	Pending  *PendingCall
	Deadline sim.Time
	// Signal state and the thread's registered addresses.
	Sigactions [65][sigactionSize]byte
	Sigmask    uint64
	TidAddress uint64
	Robust     [2]uint64
	// The fields above are the main thread's; MainExited says it has
	// exited (pthread_exit) while others run. Threads are the others, in
	// creation order.
	MainExited bool
	Threads    []ThreadState
}

// ThreadState is a thread other than the main one: its id, registers,
// place in the program, the call it waits in (a futex wait's word, bitset
// and whether a wake has come) and its per-thread kernel state.
type ThreadState struct {
	TID                           int
	X, F                          [32]uint64
	FCSR                          uint32
	PC                            uint64
	Reservation, ReservationValue uint64
	Cycles                        uint64 // its clock, in cycles of its core
	Exited                        bool
	Pending                       *PendingCall
	Deadline                      sim.Time
	Sigmask, ClearTID             uint64
	Robust                        [2]uint64
	FutexAddr                     uint64
	FutexBits                     uint32
	FutexWaits, FutexWoken        bool
	FutexSeq                      uint64
	WakeAt                        sim.Time
}

// PageState is a mapped guest page and its page-table permissions.
type PageState struct {
	VA   uint64
	Perm memory.Perm
}

// ChunkState is a chunk of guest addresses and the image frame holding it.
type ChunkState struct{ Chunk, Frame uint64 }

// FileKind says what a descriptor refers to.
type FileKind uint8

// File kinds.
const (
	FileNone     FileKind = iota // a free descriptor
	FileStd                      // a standard stream: Std is 0, 1 or 2
	FileHost                     // a host file: Name, Flags, Offset
	FilePipeRead                 // a pipe's read end: Pipe
	FilePipeWrite
	FileSocket // a UDP socket: Socket
	FileEpoll  // an epoll instance: Watch
)

// FileState is a descriptor. Pipe ends refer to pipes by index in
// Snapshot.Pipes order; their contents travel with the snapshot.
type FileState struct {
	Kind   FileKind
	Std    int
	Name   string
	Flags  int
	Offset int64
	Pipe   int
	// Data and Closed are the pipe's contents and whether its write end
	// is closed, on the first descriptor that refers to it.
	Data   []byte
	Closed bool
	// Socket is a socket's state: its port, peer, whether it is
	// non-blocking, and the datagrams it has received and not delivered.
	Socket SocketState
	// Watch is an epoll instance's watched descriptors.
	Watch []EpollState
}

// SocketState is a UDP socket's state.
type SocketState struct {
	Nonblock       bool
	Port, PeerPort uint16
	Peer           uint32
	Queue          []Datagram
}

// EpollState is a descriptor an epoll instance watches.
type EpollState struct {
	FD     int
	Events uint32
	Data   uint64
}

// Bytes returns the size of the snapshot as the checkpoint sends it:
// registers, layout, placement and files, 8 bytes a word.
func (s *Snapshot) Bytes() uint64 {
	n := uint64(32+32+4)*8 + 4*8
	for _, a := range s.Areas {
		n += 3*8 + uint64(len(a.Name))
	}
	n += uint64(len(s.Pages))*9 + 3*8
	n += uint64(len(s.Chunks))*16 + uint64(len(s.FreeFrame)+len(s.Stale))*8 + 8
	for _, f := range s.Files {
		n += 4*8 + uint64(len(f.Name)+len(f.Data)) + uint64(len(f.Watch))*16
		for _, d := range f.Socket.Queue {
			n += 12 + uint64(len(d.Data))
		}
	}
	if s.Pending != nil {
		n += 10 * 8
	}
	n += uint64(len(s.RNG)) + uint64(len(s.Sigactions))*sigactionSize + 4*8
	for _, t := range s.Threads {
		n += uint64(32+32+20) * 8
		if t.Pending != nil {
			n += 10 * 8
		}
	}
	return n
}

// begin sets up the first instruction's state, once.
func (m *Machine) begin() {
	if !m.started {
		m.started = true
		m.core.X[2] = m.proc.SP
		m.pc, m.prevIdx = m.proc.Prog.Entry, -1
	}
}

// Snapshot returns the guest's state now. It must be taken between
// RunUntil calls (a block boundary) of a guest that has not exited; host
// files are flushed to the host so that their offsets are exact.
func (m *Machine) Snapshot() (*Snapshot, error) {
	if m.exited {
		return nil, fmt.Errorf("snapshot of a guest that has exited")
	}
	m.begin()
	m.use(m.threads[0]) // the snapshot's own fields are the main thread's
	c := m.core
	s := &Snapshot{F: c.F, FCSR: c.FCSR, PC: m.pc, GuestInsts: m.Stats().GuestInsts,
		Cycles: m.cycles(), MainExited: m.cur.exited}
	for _, t := range m.threads[1:] {
		m.use(t)
		ts := ThreadState{TID: t.TID, F: t.core.F, FCSR: t.core.FCSR, PC: m.pc, Cycles: m.cycles(), Exited: t.exited,
			Deadline: m.proc.deadline, Sigmask: m.proc.sigmask, ClearTID: m.proc.tidAddress, Robust: m.proc.robust,
			FutexAddr: t.futexAddr, FutexBits: t.futexBits, FutexWaits: t.futexWaits, FutexWoken: t.futexWoken,
			FutexSeq: t.futexSeq, WakeAt: t.wakeAt}
		copy(ts.X[:], t.core.X[:32])
		ts.Reservation, ts.ReservationValue = t.core.Reservation()
		if m.pending != nil {
			pc := *m.pending
			ts.Pending = &pc
		}
		s.Threads = append(s.Threads, ts)
	}
	m.use(m.threads[0])
	s.Reservation, s.ReservationValue = c.Reservation()
	copy(s.X[:], c.X[:32]) // the translator's temporaries above are dead between blocks
	as := m.proc.AS
	s.Areas = as.Areas()
	as.pt.Range(func(va uint64, pte memory.PTE) bool {
		s.Pages = append(s.Pages, PageState{va, pte.Perm})
		return true
	})
	s.BrkBase, s.Brk, s.MmapTop = as.brkBase, as.brk, as.mmapTop
	if b := as.mem; b.image {
		for c := range b.chunks {
			s.Chunks = append(s.Chunks, ChunkState{c, b.chunks[c]})
		}
		slices.SortFunc(s.Chunks, func(a, b ChunkState) int { return cmp.Compare(a.Chunk, b.Chunk) })
		s.FreeFrame = append([]uint64(nil), b.free...)
		s.NextFrame = b.next
		for pa := range b.stale {
			s.Stale = append(s.Stale, pa)
		}
		slices.Sort(s.Stale)
	}
	p := m.proc
	pipes := map[*pipeBuf]int{}
	for _, f := range p.files {
		fs, err := fileState(f, pipes)
		if err != nil {
			return nil, err
		}
		s.Files = append(s.Files, fs)
	}
	rng, err := p.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	s.RNG = rng
	s.Sigactions, s.Sigmask, s.TidAddress, s.Robust = p.sigactions, p.sigmask, p.tidAddress, p.robust
	if m.pending != nil {
		c := *m.pending
		s.Pending, s.Deadline = &c, p.deadline
	}
	return s, nil
}

// fileState describes descriptor f; pipes numbers the pipes seen so far.
func fileState(f *guestFile, pipes map[*pipeBuf]int) (FileState, error) {
	pipe := func(b *pipeBuf, kind FileKind) FileState {
		fs := FileState{Kind: kind}
		i, seen := pipes[b]
		if !seen {
			i = len(pipes)
			pipes[b] = i
			fs.Data, fs.Closed = append([]byte(nil), b.data.Bytes()...), b.closed
		}
		fs.Pipe = i
		return fs
	}
	switch {
	case f == nil:
		return FileState{}, nil
	case f.stdNum >= 0:
		return FileState{Kind: FileStd, Std: f.stdNum}, nil
	case f.pipe != nil:
		return pipe(f.pipe, FilePipeWrite), nil
	case f.sock != nil:
		k := f.sock
		st := SocketState{Nonblock: k.nonblock, Port: k.port, PeerPort: k.peerPort, Peer: k.peer}
		for _, d := range k.queue {
			d.Data = append([]byte(nil), d.Data...)
			st.Queue = append(st.Queue, d)
		}
		return FileState{Kind: FileSocket, Name: f.name, Socket: st}, nil
	case f.ep != nil:
		fs := FileState{Kind: FileEpoll, Name: f.name}
		for fd, w := range f.ep.watch {
			fs.Watch = append(fs.Watch, EpollState{FD: fd, Events: w.events, Data: w.data})
		}
		sort.Slice(fs.Watch, func(i, j int) bool { return fs.Watch[i].FD < fs.Watch[j].FD })
		return fs, nil
	case f.f != nil:
		off, err := f.f.Seek(0, io.SeekCurrent)
		if err != nil {
			off = 0 // a directory: no offset
		}
		return FileState{Kind: FileHost, Name: f.name, Flags: f.flags, Offset: off}, nil
	}
	if r, ok := f.r.(pipeReader); ok {
		return pipe(r.b, FilePipeRead), nil
	}
	return FileState{}, fmt.Errorf("snapshot: descriptor %q cannot be captured", f.name)
}

// Resume builds a machine that continues the guest of snapshot s on a
// fresh host: prog is the program it runs, cfg its process configuration
// (the standard streams, the seed's stream is replaced by the snapshot's)
// whose Backing holds the guest's memory as of the snapshot — for an image
// backing, over the same image range — and mc how the host runs it.
func Resume(prog *Program, s *Snapshot, cfg ProcessConfig, mc MachineConfig, diag io.Writer) (*Machine, error) {
	mem := cfg.Backing
	if mem == nil {
		return nil, fmt.Errorf("resume: no backing holds the guest's memory")
	}
	if mem.image {
		mem.chunks = map[uint64]uint64{}
		for _, c := range s.Chunks {
			mem.chunks[c.Chunk] = c.Frame
		}
		mem.free = append([]uint64(nil), s.FreeFrame...)
		mem.next = s.NextFrame
		mem.stale = map[uint64]struct{}{}
		for _, pa := range s.Stale {
			mem.stale[pa] = struct{}{}
		}
	}
	as, err := NewAddressSpaceIn(mem)
	if err != nil {
		return nil, err
	}
	for _, pg := range s.Pages {
		if err := as.pt.Map(pg.VA, pg.VA, pg.Perm); err != nil {
			return nil, fmt.Errorf("resume: page %#x: %w", pg.VA, err)
		}
	}
	as.areas = append([]Area(nil), s.Areas...)
	as.brkBase, as.brk, as.mmapTop = s.BrkBase, s.Brk, s.MmapTop
	p := newProcess(prog, cfg, as)
	if err := p.pcg.UnmarshalBinary(s.RNG); err != nil {
		return nil, fmt.Errorf("resume: random stream: %w", err)
	}
	p.sigactions, p.sigmask, p.tidAddress, p.robust = s.Sigactions, s.Sigmask, s.TidAddress, s.Robust
	std := p.stdFiles()
	var pipes []*pipeBuf
	for _, fs := range s.Files {
		var f *guestFile
		switch fs.Kind {
		case FileStd:
			f = std[fs.Std]
		case FileHost:
			hf, err := os.OpenFile(fs.Name, fs.Flags&^(os.O_CREATE|os.O_EXCL|os.O_TRUNC), 0)
			if err != nil {
				return nil, fmt.Errorf("resume: reopening %s: %w", fs.Name, err)
			}
			if _, err := hf.Seek(fs.Offset, io.SeekStart); err != nil && fs.Offset != 0 {
				hf.Close()
				return nil, fmt.Errorf("resume: %s: %w", fs.Name, err)
			}
			f = &guestFile{f: hf, name: fs.Name, stdNum: -1, flags: fs.Flags}
		case FileSocket:
			st := fs.Socket
			k := &socket{nonblock: st.Nonblock, port: st.Port, peerPort: st.PeerPort, peer: st.Peer}
			for _, d := range st.Queue {
				d.Data = append([]byte(nil), d.Data...)
				k.queue = append(k.queue, d)
				k.queued += len(d.Data)
			}
			f = &guestFile{name: fs.Name, stdNum: -1, sock: k}
		case FileEpoll:
			ep := &epoll{watch: map[int]epollWatch{}}
			for _, w := range fs.Watch {
				ep.watch[w.FD] = epollWatch{events: w.Events, data: w.Data}
			}
			f = &guestFile{name: fs.Name, stdNum: -1, ep: ep}
		case FilePipeRead, FilePipeWrite:
			if fs.Pipe == len(pipes) {
				b := &pipeBuf{closed: fs.Closed}
				b.data.Write(fs.Data)
				pipes = append(pipes, b)
			}
			b := pipes[fs.Pipe]
			if fs.Kind == FilePipeRead {
				f = &guestFile{r: pipeReader{b}, name: "pipe", stdNum: -1}
			} else {
				f = &guestFile{w: pipeWriter{b}, name: "pipe", stdNum: -1, pipe: b}
			}
		}
		p.files = append(p.files, f)
	}
	m, err := NewMachine(p, mc, diag)
	if err != nil {
		return nil, err
	}
	m.started = true
	m.pc, m.prevIdx = s.PC, -1
	c := m.core
	copy(c.X[:32], s.X[:])
	c.F, c.FCSR = s.F, s.FCSR
	c.SetReservation(s.Reservation, s.ReservationValue)
	m.stats.GuestInsts = s.GuestInsts
	c.ClockBase = s.Cycles - min(s.Cycles, m.cycles()) // the clock goes on from the snapshot's
	m.cur.exited = s.MainExited
	for i, ts := range s.Threads {
		var tm cpu.Timing
		if len(m.cores) > 0 {
			tm = m.cores[(i+1)%len(m.cores)]
		}
		t := &Thread{TID: ts.TID, core: m.newCore(tm), timing: tm, pc: ts.PC, prevIdx: -1, exited: ts.Exited,
			sigmask: ts.Sigmask, clearTID: ts.ClearTID, robust: ts.Robust, deadline: ts.Deadline,
			futexAddr: ts.FutexAddr, futexBits: ts.FutexBits, futexWaits: ts.FutexWaits, futexWoken: ts.FutexWoken,
			futexSeq: ts.FutexSeq, wakeAt: ts.WakeAt}
		copy(t.core.X[:32], ts.X[:])
		t.core.F, t.core.FCSR = ts.F, ts.FCSR
		t.core.SetReservation(ts.Reservation, ts.ReservationValue)
		if ts.Pending != nil {
			pc := *ts.Pending
			t.pending = &pc
		}
		if tm == nil || tm != m.cfg.Timing {
			t.core.ClockBase = ts.Cycles // a core of its own: its clock goes on from the snapshot's
		} else {
			t.startAt = m.cfg.Freq.CyclesToTime(ts.Cycles)
		}
		m.threads = append(m.threads, t)
		m.futexSeq = max(m.futexSeq, ts.FutexSeq)
	}
	if s.Pending != nil {
		pc := *s.Pending
		m.pending, p.deadline = &pc, s.Deadline
	}
	return m, nil
}
