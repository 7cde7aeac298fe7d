package dbt

import (
	"encoding/binary"
	"fmt"

	"github.com/twinsim/twinsim/cpu"
	"github.com/twinsim/twinsim/sim"
)

// Thread is one guest thread: its registers (a host core of its own), where
// it is in the program, the system call it waits in, and the per-thread
// state Linux keeps — its id, signal mask, clear_child_tid address and
// robust-futex list. Threads share the process: its address space, files,
// signal dispositions and translated code.
type Thread struct {
	TID     int
	core    *cpu.Core
	timing  cpu.Timing // the timing core it runs on (nil: functional mode)
	pc      uint64
	prev    *Block
	prevIdx int
	pending *PendingCall
	exited  bool

	sigmask  uint64
	clearTID uint64 // CLONE_CHILD_CLEARTID / set_tid_address: zeroed and woken at exit
	robust   [2]uint64
	deadline sim.Time // the blocked call's timeout (sim.MaxTime: none; 0: not blocked)

	// A futex wait: the word's address and the wait's bitset; woken is
	// set by a wake, with the waker's time (wakeAt).
	futexAddr   uint64
	futexBits   uint32
	futexWaits  bool
	futexWoken  bool
	futexSeq    uint64 // order of waiting, for FIFO wakes
	wakeAt      sim.Time
	startAt     sim.Time // a new thread starts no earlier than its creation
	sliceEnd    uint64   // threads sharing a timing core: its turn ends at this cycle
	interrupted bool
}

// Linux clone flags the translator understands.
const (
	cloneVM            = 0x100
	cloneFS            = 0x200
	cloneFiles         = 0x400
	cloneSighand       = 0x800
	cloneThread        = 0x10000
	cloneSysvsem       = 0x40000
	cloneSetTLS        = 0x80000
	cloneParentSetTID  = 0x100000
	cloneChildClearTID = 0x200000
	cloneChildSetTID   = 0x1000000
	cloneDetached      = 0x400000
	// the flags a thread may be created with (glibc's pthread_create uses
	// VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID)
	cloneThreadFlags = cloneVM | cloneFS | cloneFiles | cloneSighand | cloneThread | cloneSysvsem | cloneSetTLS |
		cloneParentSetTID | cloneChildClearTID | cloneChildSetTID | cloneDetached
)

// Threads returns the process's threads in creation order, the exited
// ones too.
func (m *Machine) Threads() []*Thread { return m.threads }

// Exited reports whether the thread has exited.
func (t *Thread) Exited() bool { return t.exited }

// Core returns the host core holding the thread's registers.
func (t *Thread) Core() *cpu.Core { return t.core }

// GuestInstsOn returns the guest instructions the threads placed on timing
// core tm have completed.
func (m *Machine) GuestInstsOn(tm cpu.Timing) uint64 {
	var n uint64
	for _, t := range m.threads {
		if t.timing == tm {
			n += t.core.GuestRetired
		}
	}
	return n
}

// threaded reports whether the process has ever had more than one thread.
func (m *Machine) threaded() bool { return len(m.threads) > 1 }

// use makes t the thread the machine runs: its registers' core, its place
// in the program and the per-thread state the process keeps are swapped
// in.
func (m *Machine) use(t *Thread) {
	if m.cur == t {
		return
	}
	m.save()
	m.cur = t
	m.core, m.cfg.Timing = t.core, t.timing
	if m.cfg.OnThread != nil && t.timing != nil {
		m.cfg.OnThread(t.timing, t.TID)
	}
	m.pc, m.prev, m.prevIdx, m.pending = t.pc, t.prev, t.prevIdx, t.pending
	m.proc.sigmask, m.proc.tidAddress, m.proc.robust, m.proc.deadline = t.sigmask, t.clearTID, t.robust, t.deadline
}

// newCore returns a host core for a thread of m, driving timing tm.
func (m *Machine) newCore(tm cpu.Timing) *cpu.Core {
	c := cpu.NewCore(m.mem)
	c.SetWalkMemory(m.view4k) // inline walks complete accesses the MMU refuses at the guest's granularity
	c.TimerDiv = uint64(m.cfg.Freq / (10 * sim.MHz))
	if tm != nil {
		c.SetTimer(tm)
	}
	return c
}

// flushTLBs drops every thread core's cached translations.
func (m *Machine) flushTLBs() {
	for _, t := range m.threads {
		t.core.FlushTLB()
	}
}

// clone creates a thread (CLONE_VM|CLONE_THREAD and the flags beside them
// that pthread_create uses): a copy of the caller's registers on a core of
// its own, with stack sp, thread pointer tls (CLONE_SETTLS), 0 in a0,
// continuing after the ecall. It returns the new thread's id to the
// caller. A clone that would create a process (fork, vfork) is refused.
func (m *Machine) clone(c *PendingCall, flags, sp, ptid, tls, ctid uint64) uint64 {
	const need = cloneVM | cloneSighand | cloneThread
	if flags&need != need || flags&^uint64(cloneThreadFlags) != 0 {
		return neg(ENOSYS) // a new process, or a flag not modelled
	}
	m.begin()
	tid := GuestPID + len(m.threads)
	idx := len(m.threads)
	var tm cpu.Timing
	if len(m.cores) > 0 {
		tm = m.cores[idx%len(m.cores)]
	}
	child := &Thread{TID: tid, core: m.newCore(tm), timing: tm, pc: c.Next, prevIdx: -1, sigmask: m.proc.sigmask}
	pc := m.core
	child.core.X, child.core.F, child.core.FCSR = pc.X, pc.F, pc.FCSR
	child.core.X[10] = 0
	if sp != 0 {
		child.core.X[2] = sp
	}
	if flags&cloneSetTLS != 0 {
		child.core.X[4] = tls
	}
	if tm == nil {
		child.core.ClockBase = m.cycles() // functional: its clock goes on from the parent's
	}
	child.startAt = m.cfg.Freq.CyclesToTime(m.cycles())
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(tid))
	if flags&cloneParentSetTID != 0 {
		if e := m.proc.AS.Write(ptid, b[:]); e != 0 {
			return neg(e)
		}
	}
	if flags&cloneChildSetTID != 0 {
		if e := m.proc.AS.Write(ctid, b[:]); e != 0 {
			return neg(e)
		}
	}
	if flags&cloneChildClearTID != 0 {
		child.clearTID = ctid
	}
	m.threads = append(m.threads, child)
	m.yield = len(m.threads) == 2 // the first: RunUntil hands over to runThreads
	return uint64(tid)
}

// clone3 reads struct clone_args (flags, pidfd, child_tid, parent_tid,
// exit_signal, stack, stack_size, tls, ...) and clones.
func (m *Machine) clone3(c *PendingCall, args, size uint64) uint64 {
	if size < 64 {
		return neg(EINVAL)
	}
	var b [64]byte
	if e := m.proc.AS.Read(args, b[:]); e != 0 {
		return neg(e)
	}
	f := func(i int) uint64 { return binary.LittleEndian.Uint64(b[8*i:]) }
	flags, ctid, ptid, stack, stackSize, tls := f(0), f(2), f(3), f(5), f(6), f(7)
	if f(1) != 0 || f(4) != 0 && flags&cloneThread != 0 {
		return neg(EINVAL) // a pidfd, or an exit signal for a thread
	}
	sp := uint64(0)
	if stack != 0 {
		sp = stack + stackSize
	}
	return m.clone(c, flags, sp, ptid, tls, ctid)
}

// exitThread ends the calling thread with status code (exit, not
// exit_group): its clear_child_tid word is zeroed and one waiter woken
// (pthread_join), its robust futexes are marked as their owner having
// died; the last thread's exit ends the process.
func (m *Machine) exitThread(code int) {
	t := m.cur
	live := 0
	for _, o := range m.threads {
		if !o.exited {
			live++
		}
	}
	if live <= 1 {
		m.proc.Exited, m.proc.ExitCode = true, code&0xff
		return
	}
	m.robustExit(t)
	if a := m.proc.tidAddress; a != 0 {
		var z [4]byte
		if m.proc.AS.Write(a, z[:]) == 0 {
			m.futexWake(a, 1, ^uint32(0))
		}
	}
	t.exited = true
	m.pending = nil
}

// Robust futex list (Linux's struct robust_list_head: the list's head, the
// offset of the futex word from each entry, and the entry being locked).
const (
	futexOwnerDied = 0x40000000
	futexWaiters   = 0x80000000
	futexTIDMask   = 0x3fffffff
	robustLimit    = 2048
)

// robustExit marks the futexes t still holds on its robust list as their
// owner having died, waking a waiter of each, as Linux does at thread exit.
func (m *Machine) robustExit(t *Thread) {
	head := m.proc.robust[0]
	if head == 0 {
		return
	}
	read := func(a uint64) (uint64, bool) {
		var b [8]byte
		if m.proc.AS.Read(a, b[:]) != 0 {
			return 0, false
		}
		return binary.LittleEndian.Uint64(b[:]), true
	}
	next, ok1 := read(head)
	off, ok2 := read(head + 8)
	pending, ok3 := read(head + 16)
	if !ok1 || !ok2 || !ok3 {
		return
	}
	mark := func(entry uint64) {
		a := entry + off
		var b [4]byte
		if m.proc.AS.Read(a, b[:]) != 0 {
			return
		}
		v := binary.LittleEndian.Uint32(b[:])
		if int(v&futexTIDMask) != t.TID {
			return
		}
		binary.LittleEndian.PutUint32(b[:], v&futexWaiters|futexOwnerDied)
		if m.proc.AS.Write(a, b[:]) == 0 && v&futexWaiters != 0 {
			m.futexWake(a, 1, ^uint32(0))
		}
	}
	for i := 0; next != head && next != 0 && i < robustLimit; i++ {
		n, ok := read(next &^ 1)
		if next&^1 != pending {
			mark(next &^ 1)
		}
		if !ok {
			break
		}
		next = n
	}
	if pending != 0 {
		mark(pending &^ 1)
	}
}

// Futex operations (the low 7 bits of the op; FUTEX_PRIVATE_FLAG and
// FUTEX_CLOCK_REALTIME are above them).
const (
	futexWait          = 0
	futexWakeOp        = 1
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOpOp      = 5
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexClockRealtime = 256
)

// futex is the futex system call of the running thread: WAIT and
// WAIT_BITSET (relative or absolute timeout on the simulated clocks), WAKE,
// WAKE_BITSET, REQUEUE, CMP_REQUEUE and WAKE_OP. A wait blocks the thread
// until a wake, its timeout, or — single-threaded, with nothing to wake it
// — reports the deadlock.
func (m *Machine) futex(a [6]uint64, first bool) (uint64, error) {
	t := m.cur
	addr, op, val := a[0], int(a[1]), uint32(a[2])
	cmd := op & 0x7f
	if !first && t.futexWaits {
		// A wait tried again: woken, timed out, or still waiting.
		switch {
		case t.futexWoken:
			t.futexWaits, t.futexWoken = false, false
			m.proc.deadline = 0
			if t.wakeAt > 0 {
				m.advanceClock(t.wakeAt)
			}
			return 0, nil
		case m.proc.deadline != sim.MaxTime && m.proc.now() >= m.proc.deadline:
			t.futexWaits = false
			m.proc.deadline = 0
			return neg(ETIMEDOUT), nil
		}
		return 0, errBlocked
	}
	if addr&3 != 0 {
		return neg(EINVAL), nil
	}
	switch cmd {
	case futexWait, futexWaitBitset:
		bits := uint32(a[5])
		if cmd == futexWait {
			bits = ^uint32(0)
		}
		if bits == 0 {
			return neg(EINVAL), nil
		}
		cur, e := m.readU32(addr)
		if e != 0 {
			return neg(e), nil
		}
		if cur != val {
			return neg(EAGAIN), nil
		}
		deadline := sim.MaxTime
		if a[3] != 0 {
			var ts [16]byte
			if e := m.proc.AS.Read(a[3], ts[:]); e != 0 {
				return neg(e), nil
			}
			sec, nsec := int64(binary.LittleEndian.Uint64(ts[:])), int64(binary.LittleEndian.Uint64(ts[8:]))
			if sec < 0 || nsec < 0 || nsec >= 1e9 {
				return neg(EINVAL), nil
			}
			d := sim.Time(sec)*sim.Second + sim.Time(nsec)*sim.Nanosecond
			switch {
			case cmd == futexWait:
				deadline = m.proc.now() + d // relative
			case op&futexClockRealtime != 0:
				// Absolute on CLOCK_REALTIME, which starts at Epoch.
				e := sim.Time(Epoch.Unix())*sim.Second + sim.Time(Epoch.Nanosecond())*sim.Nanosecond
				deadline = d - min(d, e)
			default:
				deadline = d // absolute on CLOCK_MONOTONIC, which starts at 0
			}
			if deadline <= m.proc.now() {
				return neg(ETIMEDOUT), nil
			}
		}
		m.futexSeq++
		t.futexAddr, t.futexBits, t.futexWaits, t.futexWoken, t.futexSeq = addr, bits, true, false, m.futexSeq
		t.wakeAt = 0
		m.proc.deadline = deadline
		if !m.threaded() && deadline == sim.MaxTime {
			t.futexWaits = false
			m.proc.deadline = 0
			return 0, &BlockedForeverError{Call: "futex", PC: m.pending.PC}
		}
		return 0, errBlocked
	case futexWakeOp:
		return uint64(m.futexWake(addr, int(int32(val)), ^uint32(0))), nil
	case futexWakeBitset:
		if uint32(a[5]) == 0 {
			return neg(EINVAL), nil
		}
		return uint64(m.futexWake(addr, int(int32(val)), uint32(a[5]))), nil
	case futexRequeue, futexCmpRequeue:
		if cmd == futexCmpRequeue {
			cur, e := m.readU32(addr)
			if e != 0 {
				return neg(e), nil
			}
			if cur != uint32(a[5]) {
				return neg(EAGAIN), nil
			}
		}
		if a[4]&3 != 0 {
			return neg(EINVAL), nil
		}
		n := m.futexWake(addr, int(int32(val)), ^uint32(0))
		n += m.futexRequeue(addr, a[4], int(int32(a[3])))
		return uint64(n), nil
	case futexWakeOpOp:
		return m.futexWakeOp(addr, int(int32(val)), a[4], int(int32(a[3])), uint32(a[5]))
	}
	return neg(ENOSYS), nil
}

func (m *Machine) readU32(addr uint64) (uint32, Errno) {
	var b [4]byte
	if e := m.proc.AS.Read(addr, b[:]); e != 0 {
		return 0, e
	}
	return binary.LittleEndian.Uint32(b[:]), 0
}

// waiters returns the threads waiting on addr whose bitset meets bits, in
// the order they started waiting.
func (m *Machine) waiters(addr uint64, bits uint32) []*Thread {
	var out []*Thread
	for _, t := range m.threads {
		if t.futexWaits && !t.futexWoken && t.futexAddr == addr && t.futexBits&bits != 0 {
			out = append(out, t)
		}
	}
	for i := 1; i < len(out); i++ { // by futexSeq: few waiters
		for j := i; j > 0 && out[j].futexSeq < out[j-1].futexSeq; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// futexWake wakes up to n waiters on addr whose bitset meets bits, at the
// running thread's time, and returns how many it woke.
func (m *Machine) futexWake(addr uint64, n int, bits uint32) int {
	woke := 0
	now := m.cfg.Freq.CyclesToTime(m.cycles())
	for _, w := range m.waiters(addr, bits) {
		if woke >= n {
			break
		}
		w.futexWoken, w.wakeAt = true, now
		woke++
	}
	return woke
}

// futexRequeue moves up to n waiters on addr to wait on to.
func (m *Machine) futexRequeue(addr, to uint64, n int) int {
	moved := 0
	for _, w := range m.waiters(addr, ^uint32(0)) {
		if moved >= n {
			break
		}
		w.futexAddr = to
		moved++
	}
	return moved
}

// futexWakeOp performs FUTEX_WAKE_OP: it changes the word at addr2 by the
// encoded operation, wakes up to n waiters on addr, and, if the old value
// at addr2 passes the encoded comparison, up to n2 waiters on addr2.
func (m *Machine) futexWakeOp(addr uint64, n int, addr2 uint64, n2 int, enc uint32) (uint64, error) {
	opArg, cmpArg := enc>>12&0xfff, enc&0xfff
	op, cmp := enc>>28&0xf, enc>>24&0xf
	if op&8 != 0 { // FUTEX_OP_OPARG_SHIFT
		opArg = 1 << (opArg & 31)
		op &^= 8
	}
	old, e := m.readU32(addr2)
	if e != 0 {
		return neg(e), nil
	}
	var nv uint32
	switch op {
	case 0:
		nv = opArg
	case 1:
		nv = old + opArg
	case 2:
		nv = old | opArg
	case 3:
		nv = old &^ opArg
	case 4:
		nv = old ^ opArg
	default:
		return neg(ENOSYS), nil
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], nv)
	if e := m.proc.AS.Write(addr2, b[:]); e != 0 {
		return neg(e), nil
	}
	woke := m.futexWake(addr, n, ^uint32(0))
	oa := int32(old)
	ca := int32(cmpArg)
	if cmpArg&0x800 != 0 {
		ca = int32(cmpArg) - 0x1000 // sign-extended 12 bits
	}
	var ok bool
	switch cmp {
	case 0:
		ok = oa == ca
	case 1:
		ok = oa != ca
	case 2:
		ok = oa < ca
	case 3:
		ok = oa <= ca
	case 4:
		ok = oa > ca
	case 5:
		ok = oa >= ca
	default:
		return neg(ENOSYS), nil
	}
	if ok {
		woke += m.futexWake(addr2, n2, ^uint32(0))
	}
	return uint64(woke), nil
}

// threadCall handles the system calls whose meaning depends on the calling
// thread; ok is false for the others.
func (m *Machine) threadCall(c *PendingCall, first bool) (ret uint64, ok bool, err error) {
	a := c.Args
	switch c.Num {
	case 220: // clone(flags, newsp, parent_tid, tls, child_tid)
		return m.clone(c, a[0], a[1], a[2], a[3], a[4]), true, nil
	case 435: // clone3(args, size)
		return m.clone3(c, a[0], a[1]), true, nil
	case 93: // exit: this thread
		m.exitThread(int(int32(a[0])))
		return 0, true, nil
	case 98: // futex
		ret, err := m.futex(a, first)
		return ret, true, err
	case 178: // gettid
		return uint64(m.cur.TID), true, nil
	case 96: // set_tid_address
		m.proc.tidAddress = a[0]
		return uint64(m.cur.TID), true, nil
	case 100: // get_robust_list(tid, head_ptr, len_ptr)
		if a[0] != 0 && m.thread(int(a[0])) == nil {
			return neg(ESRCH), true, nil
		}
		head := m.proc.robust
		if a[0] != 0 && int(a[0]) != m.cur.TID {
			head = m.thread(int(a[0])).robust
		}
		return errnoOr(m.proc.putU64s(a[1], head[0])) | errnoOr(m.proc.putU64s(a[2], head[1])), true, nil
	case 130, 131: // tkill(tid, sig), tgkill(tgid, tid, sig)
		tid, sig := a[0], a[1]
		if c.Num == 131 {
			if a[0] != GuestPID {
				return neg(ESRCH), true, nil
			}
			tid, sig = a[1], a[2]
		}
		t := m.thread(int(tid))
		if t == nil || t.exited {
			return neg(ESRCH), true, nil
		}
		if sig > 64 {
			return neg(EINVAL), true, nil
		}
		if sig == 0 {
			return 0, true, nil // the thread exists
		}
		return m.signal(c, int(sig))
	case 123: // sched_getaffinity(pid, size, mask): the cores the process may use
		n := max(len(m.cores), 1)
		if a[1] < 8 {
			return neg(EINVAL), true, nil
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(1)<<n-1)
		if e := m.proc.AS.Write(a[2], b[:]); e != 0 {
			return neg(e), true, nil
		}
		return 8, true, nil
	case 122: // sched_setaffinity: accepted; placement is the machine's
		return 0, true, nil
	case 168: // getcpu(cpu, node, cache)
		cpuIdx := uint64(0)
		if len(m.cores) > 0 {
			cpuIdx = uint64(m.threadIndex(m.cur) % len(m.cores))
		}
		if a[0] != 0 {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(cpuIdx))
			if e := m.proc.AS.Write(a[0], b[:]); e != 0 {
				return neg(e), true, nil
			}
		}
		if a[1] != 0 {
			var b [4]byte
			if e := m.proc.AS.Write(a[1], b[:]); e != 0 {
				return neg(e), true, nil
			}
		}
		return 0, true, nil
	}
	return 0, false, nil
}

func (m *Machine) thread(tid int) *Thread {
	for _, t := range m.threads {
		if t.TID == tid {
			return t
		}
	}
	return nil
}

func (m *Machine) threadIndex(t *Thread) int {
	for i, o := range m.threads {
		if o == t {
			return i
		}
	}
	return -1
}

// runThreads runs every live thread until its timing core has reached
// cycle (0: until the process exits or every thread waits), a turn at a
// time: each core in a fixed rotation runs its threads in turn, each for
// up to a time slice when several share the core. In functional mode each
// thread is its own core, a slice being Timeslice host instructions.
func (m *Machine) runThreads(cycle uint64) (Result, bool, error) {
	m.rot++
	for {
		progress := false
		n := len(m.threads)
		for k := range n {
			t := m.threads[(k+m.rot)%n]
			if t.exited || m.exited {
				continue
			}
			ran, res, exited, err := m.turn(t, cycle)
			if err != nil || exited {
				m.exited, m.result = exited, res
				return res, exited, err
			}
			progress = progress || ran
		}
		if !progress {
			break
		}
	}
	// Every thread has reached cycle or waits.
	if cycle == 0 || m.allBlocked() {
		if m.allBlocked() && m.proc.cfg.Net == nil && !m.cfg.Scheduled {
			// Nothing outside the process can wake it: the earliest
			// timeout comes, or it waits for ever.
			t, d := m.earliest()
			if d == sim.MaxTime {
				live := 0
				for _, o := range m.threads {
					if !o.exited {
						live++
					}
				}
				return Result{}, false, &BlockedForeverError{Call: SyscallName(t.pending.Num), PC: t.pending.PC, Threads: live}
			}
			m.use(t)
			if m.proc.now() >= d {
				panic(fmt.Sprintf("dbt: thread %d's wait timed out at %v but its call still blocks", t.TID, d))
			}
			if cycle != 0 && m.cfg.Freq.Cycles(d) > cycle {
				// Not within this run: the clock goes as far as cycle.
				m.advanceClock(m.cfg.Freq.CyclesToTime(cycle))
				return Result{}, false, nil
			}
			m.advanceClock(d)
			return m.runThreads(cycle)
		}
	}
	return Result{}, false, nil
}

// turn gives t the core until cycle (or its slice ends) and reports whether
// it ran: a call it waits in is tried first (at the thread's own time, even
// past cycle), then it runs if it has time left.
func (m *Machine) turn(t *Thread, cycle uint64) (ran bool, res Result, exited bool, err error) {
	m.use(t)
	if t.startAt > 0 {
		m.advanceClock(t.startAt)
		t.startAt = 0
	}
	if m.pending != nil {
		done, res, exited, err := m.complete(false)
		if err != nil || exited {
			return true, res, exited, err
		}
		if !done && m.cfg.Timing != nil && cycle != 0 && !m.sharesCore(t) {
			// Alone on its core: the core idles towards the wait's
			// timeout, which may come before cycle.
			if d := m.proc.deadline; d != sim.MaxTime && m.cfg.Freq.Cycles(d) <= cycle {
				m.advanceClock(d)
				if done, res, exited, err = m.complete(false); err != nil || exited {
					return true, res, exited, err
				}
			}
		}
		if !done {
			return false, Result{}, false, nil // still waiting
		}
	}
	if t.exited {
		return true, Result{}, false, nil
	}
	now := m.now()
	limit := cycle
	if m.cfg.Timing == nil || m.sharesCore(t) {
		if t.sliceEnd <= now {
			t.sliceEnd = now + m.cfg.Timeslice
		}
		if limit == 0 || t.sliceEnd < limit {
			limit = t.sliceEnd
		}
	}
	if limit != 0 && now >= limit {
		return false, Result{}, false, nil
	}
	if m.cfg.Timing == nil {
		m.core.StopAt = limit
	} else {
		m.core.StopCycle = limit
	}
	res, exited, err = m.run(limit)
	return true, res, exited, err
}

// sharesCore reports whether another live thread runs on t's timing core.
func (m *Machine) sharesCore(t *Thread) bool {
	for _, o := range m.threads {
		if o != t && !o.exited && o.timing == t.timing {
			return true
		}
	}
	return false
}

// allBlocked reports whether every live thread waits in a system call.
func (m *Machine) allBlocked() bool {
	m.save()
	for _, t := range m.threads {
		if !t.exited && (t.pending == nil || t.futexWoken) {
			return false
		}
	}
	return true
}

// earliest returns the waiting thread whose timeout comes first, and when
// (sim.MaxTime: none has one).
func (m *Machine) earliest() (*Thread, sim.Time) {
	m.save()
	var best *Thread
	d := sim.MaxTime
	for _, t := range m.threads {
		if t.exited || t.pending == nil {
			continue
		}
		if best == nil || t.deadline < d {
			best, d = t, t.deadline
		}
	}
	return best, d
}

// save writes the running thread's state back to its Thread.
func (m *Machine) save() {
	if c := m.cur; c != nil {
		c.pc, c.prev, c.prevIdx, c.pending = m.pc, m.prev, m.prevIdx, m.pending
		c.sigmask, c.clearTID, c.robust, c.deadline = m.proc.sigmask, m.proc.tidAddress, m.proc.robust, m.proc.deadline
	}
}

// threadBlocked reports whether the process cannot run: every live thread
// waits, and until when at the latest.
func (m *Machine) threadBlocked() (bool, sim.Time) {
	m.save()
	d := sim.MaxTime
	for _, t := range m.threads {
		if t.exited {
			continue
		}
		if t.pending == nil {
			return false, 0
		}
		if t.futexWoken {
			return false, 0
		}
		d = min(d, t.deadline)
	}
	return true, d
}

// Signals ignored by default.
func ignoredByDefault(sig int) bool { return sig == 17 || sig == 18 || sig == 23 || sig == 28 }

// signal sends sig to a thread of the process (tkill, tgkill): ignored, or
// by its default action ending the process (status 128 + sig). Delivery to
// a handler the guest installed is not modelled: the call answers ENOSYS
// (an unsupported call; an error in strict mode).
func (m *Machine) signal(c *PendingCall, sig int) (uint64, bool, error) {
	handler := binary.LittleEndian.Uint64(m.proc.sigactions[sig][:8])
	switch {
	case handler == 1 || handler == 0 && ignoredByDefault(sig): // SIG_IGN, or ignored by default
		return 0, true, nil
	case handler == 0 && sig != 19 && sig != 20 && sig != 21 && sig != 22: // not a stop signal
		m.proc.Exited, m.proc.ExitCode, m.proc.signal = true, 128+sig, sig
		if m.diag != nil {
			fmt.Fprintf(m.diag, "twinsim: guest killed by %s: sent by %s at pc %#x\n", signalNames[sig], SyscallName(c.Num), c.PC)
		}
		return 0, true, nil
	}
	m.proc.unknown[SyscallName(c.Num)]++
	if m.proc.cfg.Strict {
		return 0, true, &UnsupportedSyscallError{Num: c.Num, PC: c.PC}
	}
	return neg(ENOSYS), true, nil
}

// errThreadsSnapshot is the answer to a snapshot of a process with threads.
var errThreadsSnapshot = fmt.Errorf("snapshot of a process with several threads is not supported")
