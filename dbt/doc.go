// Package dbt is twinsim's dynamic binary translator: it runs RV64GC Linux
// user programs built for 4 KiB pages (the subject) on twinsim's host ISA
// and host MMU (the target), as simulated firmware. It implements the
// translator of IBM's memory-management patent family (JP2012104104A,
// CA2756041; PATENTS.md family 1).
//
// What is here so far:
//
//   - LoadProgram: the ELF loader's parsing and validation — static RV64
//     executables and static PIEs; a clear error for anything else
//     (dynamically linked programs, other machines, 32-bit files, object
//     files, truncated or inconsistent files).
//
//   - BuildStack: the initial process stack as Linux builds it (argc, argv,
//     envp, the auxiliary vector with AT_PAGESZ = 4096, AT_RANDOM, AT_PHDR,
//     AT_ENTRY, ...).
//
//   - AddressSpace: the guest's virtual memory at 4 KiB pages — program
//     and stack mapping, brk, mmap, munmap, mprotect, mremap — kept in a
//     guest page table, with every change reported for the page-size
//     manager.
//
//   - Process: Linux system-call emulation for static glibc programs
//     (files and standard streams, memory, clocks on simulated time,
//     getrandom from the seed, identity, signals recorded); an unsupported
//     call returns -ENOSYS and is counted, or stops the run in strict mode.
//
//   - Decode: the RV64GC (IMAFDC, Zicsr, Zifencei) instruction decoder,
//     compressed forms included.
//
//   - translate and Machine: guest basic blocks translated to host code
//     (package cpu) on first execution, a code cache indexed by guest
//     address with direct links between blocks, self-modifying code caught
//     by write-protecting the pages translated code came from, precise
//     guest faults delivered as Linux signals (SIGSEGV, SIGILL, SIGBUS,
//     SIGTRAP) with the exit status a shell reports.
//
//   - The host MMU works at the host page size (64 KiB by default, 16 KiB
//     or 4 KiB by configuration): a host page whose 4 KiB guest pages all
//     share one protection is accessed directly; an access to a mixed one
//     faults into the firmware, which checks the guest's own protection
//     and completes it (MachineConfig).
//
//   - Timing mode (MachineConfig.Timing): a cycle-level core model of
//     package cpu times the translated code, which the code cache lays out
//     from CodeCacheBase; translation, system calls and faults are charged
//     as firmware cycles. RunUntil runs up to a cycle, so several cores can
//     take turns. SysROI lets a guest mark regions of interest.
//
//   - Page-size management (MachineConfig.Strategy, pagesize_test.go):
//     the redirection page mapper (redirect.go), the memory fault
//     behaviour detector (Block.Faults), regeneration with inline
//     page-table walks (cpu.Walk), and the never, always-walk, refuse and
//     permissive baselines, with selective regeneration as a refinement.
//
//   - Backing: where the guest's bytes live — an identity memory of its
//     own, or a VM's image in a host's physical memory, placed 64 KiB of
//     guest addresses to a frame, so that a checkpoint controller finds
//     every byte the guest wrote. Writes the firmware makes on the guest's
//     behalf are reported (Backing.OnWrite) and go through the caches in
//     timing mode (cpu.Timing.GuestAccess).
//
//   - Snapshot and Resume: the guest's architectural and process state at
//     a block boundary — registers, fcsr, pc, reservation, layout, frames,
//     files, sockets, signal state, random stream, a call it waits in — and
//     a machine that continues it on a fresh host from that state and a
//     copy of its memory.
//
//   - UDP sockets (net.go) over a NetDevice — in a VM, its virtual
//     function's driver — with ppoll and epoll; a call that must wait
//     blocks the machine (Machine.Blocked) until RunUntil is called again
//     after a wake-up or the call's timeout.
//
//   - Threads (thread.go): clone and clone3 with the flags pthread_create
//     uses, futex, robust lists, gettid, tkill/tgkill and per-thread signal
//     masks. Each thread has a host core of its own and runs on one of
//     MachineConfig.Cores (or takes turns); RunUntil runs them all to a
//     cycle; snapshots carry every thread. LR/SC fails when another hart
//     changed the reserved word.
//
// What is not here yet: signal delivery to handlers, fork, and TCP.
package dbt
