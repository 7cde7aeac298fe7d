// Package cache models a host's cache hierarchy and the cache side of IBM's
// virtual-machine backup family (GB2516083A, US 10,108,498, US 10,152,385;
// siblings US 9,032,157 and US 9,069,701 — PATENTS.md family 3).
//
//   - Cache: one set-associative level — size, ways, line size, replacement
//     (true LRU, tree pseudo-LRU, random from the level's RNG stream),
//     write-back or write-through, hit latency in core cycles. Every row
//     holds the address tag, valid and dirty bits, the image-modification
//     flag (IMF), the owning VM and, optionally, a thread id. Flags are only
//     ever set in write-back levels.
//   - Port: one core's path through a hierarchy of Caches to DRAM. It walks
//     the levels for each access, fills and evicts lines, writes dirty
//     victims to the level below, and charges the latency of the levels
//     visited plus DRAM. A line is visible only when its fill arrives
//     (secondary misses wait for it); private levels keep MSHRs and
//     write-back buffers; a level may have a stream prefetcher.
//   - Directory: MESI coherence of the cores' private levels (an Agent per
//     core) and of devices' accesses, with invalidations, downgrades and
//     cache-to-cache transfers, and image-modification flags that move
//     with the lines so that each modified line is flagged once.
//   - Weave: contention at shared banks and DRAM channels resolved in
//     simulated-time order: bound-phase accesses are replayed in
//     timestamp order every quantum and the delays fed back to the cores.
//     docs/timing.md describes the three.
//   - Controller: the image-modification logic and its log. It decides, for
//     each store, whether the row's flag is set (step 420: a line is
//     modified; 425: by a backed-up VM?; 430: set the flag, never for
//     stores made in hypervisor privilege mode or by VMs that are not backed
//     up), appends the address of a flagged line to the modification log
//     when the line is evicted (440) and, on request, scans every
//     write-back level and logs the addresses of all flagged lines
//     (the periodic part of 440), clearing each flag once logged. The log is
//     a circular buffer in simulated memory described by four registers —
//     initial address, size, next-available pointer and wrap pointer — with
//     optional de-duplication of recent addresses, optional batching of
//     several addresses into one log-line write, and a configured overflow
//     policy (stall, interrupt-checkpoint, drop).
//
// Timing model: caches are timing and state only. The data itself lives in
// memory.Physical, which the issuing core writes functionally, so a line's
// content is always the value in physical memory and a backup that copies
// the lines at logged addresses from physical memory is exact. Writes are
// write-allocate in write-back levels and no-write-allocate in write-through
// levels; dirty victims and log writes are posted (they occupy DRAM
// bandwidth but do not delay the access that caused them, unless a full
// write-back buffer holds up the fill).
//
// What it does not decide: when checkpoints happen and what is done with the
// logged addresses (package hypervisor).
package cache
