// Package memory models the memory side of a twinsim host below the caches:
//
//   - Physical: the functional contents of a machine's physical memory,
//     sparse, allocated in 64 KiB frames on first non-zero write, so a 64 GiB
//     machine that touches 100 MiB costs about 100 MiB of host memory.
//   - PageTable: a radix page table for any power-of-two page size from
//     4 KiB to 1 GiB (4 KiB guest pages, 16/64 KiB host pages), with R/W/X/U
//     permissions and deterministic ascending iteration.
//   - TLB and MMU: a set-associative, true-LRU translation cache and the MMU
//     that consults it, walks the page table on a miss (charging a fixed
//     number of cycles) and returns faults as values. Fault delivery is how
//     the dynamic binary translator's memory fault behaviour detector (patent
//     family 1, numeral 516) sees direct accesses to mixed host pages.
//   - DRAM: a timing model of memory channels with fixed latency, bandwidth
//     (serialisation delay) and address interleaving; each channel keeps a
//     reservation timestamp, in the bound-then-weave style of DESIGN.md.
//   - DirtyTracker: page-granularity dirty tracking (Intel PML style), the
//     baseline against which the cache's image-modification line log
//     (patent family 3) is compared.
//
// What it does not model: caches and coherence (package cache), DRAM banks,
// rows, refresh and command scheduling (a channel is a single server with a
// latency and a bandwidth), page-table memory traffic (a walk is a fixed
// cycle cost, the table itself lives outside simulated memory), accessed and
// dirty bits in page-table entries, ASIDs or TLB shootdown messages, and the
// privilege check for PermUser (that belongs to the core's privilege mode;
// Translate checks read, write and execute permission only).
//
// Addresses are plain uint64: physical addresses index Physical, virtual
// addresses index a PageTable. Accesses outside a Physical's size are twinsim
// bugs and panic; callers that take addresses from a guest check Contains
// first and turn a bad address into a guest fault.
package memory
