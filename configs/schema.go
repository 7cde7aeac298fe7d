package configs

import "github.com/twinsim/twinsim/sim"

// Struct tags of the schema, read by the decoder, Validate and Dump:
//
//	toml   the key name
//	doc    one line saying what the value means (every field has one)
//	range  inclusive bounds "lo..hi" in the field's own TOML syntax,
//	       checked by Validate
//	enum   the allowed values "a,b,c", checked by Validate
//	rule   a constraint in words that Validate checks in code (cross-field
//	       rules); Dump prints it after the range

// Config is a complete twinsim scenario: one host running VMs whose images
// are backed up through cache image-modification flags (patent family 3).
type Config struct {
	Run        RunConfig        `toml:"run" doc:"what to run: name, seed and simulated duration"`
	Host       HostConfig       `toml:"host" doc:"the simulated host: cores, clock, pages and physical memory"`
	TLB        TLBConfig        `toml:"tlb" doc:"per-core translation lookaside buffer"`
	Core       CoreConfig       `toml:"core" doc:"the cycle-level core of the timing mode (twinsim exec --mode timing and run.scenario exec)"`
	Translator TranslatorConfig `toml:"translator" doc:"the binary translator's page-size management (patent family 1)"`
	Cache      CacheConfig      `toml:"cache" doc:"cache hierarchy; image-modification flags live in its write-back levels"`
	DRAM       DRAMConfig       `toml:"dram" doc:"main memory timing"`
	Backup     BackupConfig     `toml:"backup" doc:"VM backup by cache image-modification flags and a modification log (patent family 3)"`
	Hypervisor HypervisorConfig `toml:"hypervisor" doc:"hypervisor (privilege-mode) activity mixed into each core's stream"`
	VMs        []VMConfig       `toml:"vm" doc:"one table per VM; keys missing from a table take the defaults shown; any [[vm]] table replaces the default list (protected on core 0, unprotected on core 1); the exec scenario runs none and does not check them"`
	Exec       ExecConfig       `toml:"exec" doc:"guest programs on the timing cores (run.scenario = \"exec\")"`
	NIC        NICConfig        `toml:"nic" doc:"the SR-IOV adapter of each host and its checkpoint packet buffer (patent family 2; run.scenario = \"ha-nic\")"`
	HA         HAConfig         `toml:"ha" doc:"replication of checkpoints to the secondary host (run.scenario = \"ha-nic\"); the epochs are backup.interval long and pause for backup.suspend"`
	Network    NetworkConfig    `toml:"network" doc:"the switch joining the hosts and the external hosts (run.scenario = \"ha-nic\")"`
	Clients    []ClientConfig   `toml:"client" doc:"one table per external client host sending requests to a service VM (run.scenario = \"ha-nic\"); keys missing from a table take the defaults shown"`
	Faults     []FaultConfig    `toml:"fault" doc:"one table per injected failure (run.scenario = \"ha-nic\"); keys missing from a table take the defaults shown; none by default"`
	Recovery   RecoveryConfig   `toml:"recovery" doc:"recovery of backed-up program VMs from application failures by rollback and re-execution in a changed environment (patent family 4; run.scenario = \"ha-nic\")"`
	Output     OutputConfig     `toml:"output" doc:"what a run writes besides config.toml, stats and meta.json"`
}

// RunConfig names a run and fixes its seed and length.
type RunConfig struct {
	Name     string   `toml:"name" doc:"scenario name used in output directory names" rule:"1..40 characters from a-z, 0-9, _ and -"`
	Scenario string   `toml:"scenario" doc:"what runs: backup (VMs with synthetic workloads backed up by image-modification flags), exec (guest programs on the timing cores, [exec]) or ha-nic (a primary host whose checkpointed VMs serve clients through an SR-IOV adapter that holds their output until each checkpoint commits on the secondary host: [nic], [ha], [network], [[client]])" enum:"backup,exec,ha-nic"`
	Seed     uint64   `toml:"seed" doc:"run seed; every random stream derives from it" range:"0..9223372036854775807"`
	Duration Duration `toml:"duration" doc:"simulated time to run (exec: at most; the run ends when every program has exited)" range:"1us..3600s"`
}

// HostConfig describes the simulated host machine.
type HostConfig struct {
	Cores    int       `toml:"cores" doc:"number of CPU cores" range:"1..64"`
	Freq     Frequency `toml:"freq" doc:"core clock frequency" range:"100MHz..10GHz"`
	PageSize Size      `toml:"page_size" doc:"host MMU page size" enum:"4KiB,16KiB,64KiB"`
	Memory   Size      `toml:"memory" doc:"physical memory size" range:"16MiB..1TiB" rule:"a multiple of host.page_size"`
	Quantum  Duration  `toml:"quantum" doc:"cores run ahead of the event engine at most this long; also how often the weave replays the shared levels' accesses (host.contention)" range:"1ns..1ms"`
	// Contention says how accesses to the shared L3 banks and DRAM
	// channels are ordered.
	// PagePlacement says where the host pages of a guest without a VM
	// image lie in physical memory.
	PagePlacement string `toml:"page_placement" doc:"where the host pages of a program without a VM image (the exec scenario, twinsim exec) lie in physical memory, which decides the cache sets and DRAM channels their lines use: contiguous (at their guest addresses, as in a freshly booted machine) or scattered (each at a frame drawn by a permutation seeded with run.seed, as a long-running kernel's allocator leaves them, so a footprint as large as a physically indexed cache already loses lines to conflicts)" enum:"contiguous,scattered"`
	Contention    string `toml:"contention" doc:"time-order: accesses to the shared L3 banks and DRAM are timed uncontended as the cores run, then replayed through the banks and channels in simulated-time order every host.quantum and the delays fed back to the cores (a weave phase, as in ZSim; the CPI stack's contention row); call-order: each access reserves its bank and channel the moment a core makes it, so an access can queue behind one later in simulated time (the baseline)" enum:"time-order,call-order"`
}

// TLBConfig describes each core's set-associative TLB.
type TLBConfig struct {
	Entries     int    `toml:"entries" doc:"number of TLB entries" range:"1..4096" rule:"a multiple of tlb.ways"`
	Ways        int    `toml:"ways" doc:"TLB associativity" range:"1..64"`
	WalkLatency uint64 `toml:"walk_latency" doc:"page-walk cost on a TLB miss, in core cycles (timing mode: the walker's own, before its page-table reads)" range:"0..10000"`
	WalkLevels  int    `toml:"walk_levels" doc:"timing mode: page-table levels a walk reads, one dependent load each through the data caches" range:"0..5"`
}

// CoreConfig is the timing mode's core: its model, issue width and
// pipeline depth, functional-unit latencies in cycles and counts, the
// out-of-order windows, branch prediction and firmware costs.
type CoreConfig struct {
	Model           string `toml:"model" doc:"core timing model: in-order (a scoreboard) or out-of-order (reorder buffer, load/store queues, rename registers)" enum:"in-order,out-of-order"`
	Width           int    `toml:"width" doc:"instructions fetched, issued and retired per cycle" range:"1..8"`
	PipelineDepth   uint64 `toml:"pipeline_depth" doc:"front-end stages between fetch and execute: the cycles a mispredicted branch or block exit costs" range:"0..1000"`
	ALU             uint64 `toml:"alu_latency" doc:"integer arithmetic, logic and move latency, in cycles" range:"1..100"`
	Mul             uint64 `toml:"mul_latency" doc:"integer multiply latency (pipelined), in cycles" range:"1..100"`
	Div             uint64 `toml:"div_latency" doc:"integer divide latency (not pipelined), in cycles" range:"1..200"`
	FPAdd           uint64 `toml:"fp_add_latency" doc:"FP add, compare, convert and move latency, in cycles" range:"1..100"`
	FPMul           uint64 `toml:"fp_mul_latency" doc:"FP multiply and fused multiply-add latency, in cycles" range:"1..100"`
	FPDiv           uint64 `toml:"fp_div_latency" doc:"FP divide and square root latency (not pipelined), in cycles" range:"1..200"`
	Load            uint64 `toml:"load_latency" doc:"load-to-use latency of an L1 hit, in cycles (a longer cache.l1.latency wins)" range:"1..100"`
	ALUUnits        int    `toml:"alu_units" doc:"integer ALUs: ALU instructions and branches started per cycle" range:"1..8"`
	MulUnits        int    `toml:"mul_units" doc:"integer multipliers (pipelined)" range:"1..8"`
	DivUnits        int    `toml:"div_units" doc:"integer dividers (each busy for a whole division)" range:"1..8"`
	FPUnits         int    `toml:"fp_units" doc:"FP add/multiply pipelines" range:"1..8"`
	FPDivUnits      int    `toml:"fp_div_units" doc:"FP dividers (each busy for a whole division or square root)" range:"1..8"`
	MemPorts        int    `toml:"mem_ports" doc:"loads and stores started per cycle" range:"1..8"`
	ROB             int    `toml:"rob_size" doc:"reorder-buffer entries (out-of-order)" range:"1..4096" rule:"at least core.width"`
	LoadQueue       int    `toml:"load_queue" doc:"load-queue entries (out-of-order)" range:"1..4096" rule:"at least core.width"`
	StoreQueue      int    `toml:"store_queue" doc:"store-queue entries (out-of-order)" range:"1..4096" rule:"at least core.width"`
	RenameRegs      int    `toml:"rename_regs" doc:"physical registers beyond the architectural ones, for results in flight (out-of-order)" range:"1..4096" rule:"at least core.width"`
	IssueQueue      int    `toml:"issue_queue" doc:"issue-queue (scheduler) entries: an instruction holds one from dispatch until it issues (out-of-order)" range:"1..4096" rule:"at least core.width"`
	IssueWidth      int    `toml:"issue_width" doc:"instructions issued to the functional units per cycle, all classes together (out-of-order)" range:"1..16"`
	MemDependence   string `toml:"mem_dependence" doc:"how loads pass older stores whose addresses are unknown (out-of-order): store-sets (a load issues at once unless it has conflicted with a store before; one that overtakes an older store to its address is replayed, the CPI stack's replay row) or perfect (every load knows the older stores' addresses: the idealisation)" enum:"store-sets,perfect"`
	Predictor       string `toml:"predictor" doc:"conditional-branch predictor" enum:"bimodal,gshare,tage,always-taken"`
	TranslateCycles uint64 `toml:"translate_cycles" doc:"firmware cost to translate one guest instruction, in cycles" range:"0..100000"`
	SyscallCycles   uint64 `toml:"syscall_cycles" doc:"firmware cost to emulate one system call, in cycles" range:"0..10000000"`
	FaultCycles     uint64 `toml:"fault_cycles" doc:"firmware cost to take a memory fault on a mixed host page and complete the access, in cycles" range:"0..100000"`
}

// TranslatorConfig is how the binary translator handles guest accesses to
// host pages whose 4 KiB guest pages differ in protection (mixed pages).
type TranslatorConfig struct {
	Strategy       string `toml:"strategy" doc:"adaptive (count each block's faults on mixed host pages; at regen_threshold, retranslate it with inline page-table walks), selective (the same, walking only the instructions that faulted), never (every such access faults into the firmware), always-walk (walk every access from the start), refuse (a layout that makes a mixed host page is an error), permissive (map a mixed host page with the union of its pages' protections: fast, but accesses the guest's own pages would refuse are allowed and counted as missed faults)" enum:"adaptive,selective,never,always-walk,refuse,permissive"`
	RegenThreshold int    `toml:"regen_threshold" doc:"faults on mixed host pages after which adaptive and selective regenerate a block (16, the cheapest threshold in figure F1)" range:"1..1000000000"`
}

// ExecConfig describes guest programs run on the timing cores (run.scenario
// "exec").
type ExecConfig struct {
	Command string `toml:"command" doc:"a static RV64GC Linux program and its arguments, separated by spaces: a path (relative to the working directory) or the name of a committed workload (workloads/bin/NAME, in the working directory or above)" rule:"not empty when run.scenario is exec"`
	Copies  int    `toml:"copies" doc:"cores that each run their own copy of the program, from core 0, sharing the L3 and DRAM" range:"1..64" rule:"at most host.cores"`
}

// Replacement is a cache replacement policy.
type Replacement string

// Cache replacement policies.
const (
	ReplaceLRU    Replacement = "lru"    // least recently used
	ReplacePLRU   Replacement = "plru"   // tree pseudo-LRU
	ReplaceRandom Replacement = "random" // random victim from the run's RNG stream
)

// WritePolicy says when a cache level writes stores to the level below.
type WritePolicy string

// Cache write policies.
const (
	WriteBack    WritePolicy = "write-back"    // write on eviction; holds dirty and image-modification flags
	WriteThrough WritePolicy = "write-through" // write every store below at once; holds no flags
)

// CacheConfig describes the cache hierarchy: private L1 (data), L1I and L2
// per core and a shared L3.
type CacheConfig struct {
	LineSize  Size            `toml:"line_size" doc:"cache line size of every level, in bytes" range:"16B..1KiB" rule:"a power of two"`
	L1        CacheLevel      `toml:"l1" doc:"level 1 data cache, private per core"`
	L1I       CacheLevel      `toml:"l1i" doc:"level 1 instruction cache, private per core (instruction fetch in the timing mode; never written)"`
	L2        CacheLevel      `toml:"l2" doc:"level 2 cache, private per core"`
	L3        CacheLevel      `toml:"l3" doc:"level 3 cache, shared by all cores"`
	Coherence CoherenceConfig `toml:"coherence" doc:"coherence of the private levels with each other and with DMA"`
}

// CacheLevel describes one level of the hierarchy.
type CacheLevel struct {
	Enabled          bool        `toml:"enabled" doc:"whether this level exists"`
	Size             Size        `toml:"size" doc:"capacity" range:"1KiB..1GiB" rule:"ways × line_size × a power of two"`
	Ways             int         `toml:"ways" doc:"associativity: lines per set" range:"1..64"`
	Replacement      Replacement `toml:"replacement" doc:"replacement policy" enum:"lru,plru,random"`
	WritePolicy      WritePolicy `toml:"write_policy" doc:"write policy; the last enabled level must be write-back" enum:"write-back,write-through"`
	Latency          uint64      `toml:"latency" doc:"hit latency in core cycles" range:"1..1000"`
	Inclusive        bool        `toml:"inclusive" doc:"holds every line of the levels above it: evicting a line invalidates it above (back-invalidation)" rule:"not on l1 or l1i; size at least the capacity it includes"`
	Banks            int         `toml:"banks" doc:"independent banks, interleaved by line; an access finding its bank busy waits, so cores sharing the level contend (0: no bank model)" range:"0..256"`
	BankCycles       uint64      `toml:"bank_cycles" doc:"cycles a bank is busy with one access" range:"0..100" rule:"at least 1 when banks is not 0"`
	MSHRs            int         `toml:"mshrs" doc:"miss status holding registers: misses the level can have outstanding; a miss finding them all busy waits (the CPI stack's mshr row), a second miss to a line already on its way waits for that fill instead (0: unlimited)" range:"0..256" rule:"0 on l3 (the shared level's queueing is its banks)"`
	WriteBuffer      int         `toml:"write_buffer" doc:"write-back buffer entries: dirty victims on their way to the level below; a fill whose victim finds it full waits (0: unlimited)" range:"0..256"`
	PrefetchDegree   int         `toml:"prefetch_degree" doc:"stream prefetcher: lines fetched into this level each time a demand miss (or the first use of a prefetched line) continues a run of one stride (up to 8 lines, either direction) within a 4 KiB page; 0 turns it off" range:"0..16"`
	PrefetchDistance int         `toml:"prefetch_distance" doc:"stream prefetcher: how many strides ahead of the access the prefetched lines start" range:"0..64" rule:"at least 1 when prefetch_degree is not 0"`
	WriteStreaming   int         `toml:"write_streaming" doc:"write-streaming (read-allocate) mode, as ARM's cores have: after this many consecutive store misses whose whole line the core wrote before its fill arrived (or, below the first level, whole lines streamed from above), store misses stop allocating at this level and their lines go to the level below without being read, until a line is left part-written or a load touches the line being written; 0 turns it off" range:"0..1024" rule:"0 on l1i and write-through levels, and unless run.scenario is exec (the image-modification flags live in cache rows, which streamed stores bypass)"`
	PrefetchStreams  int         `toml:"prefetch_streams" doc:"stream prefetcher: runs (pages) tracked at once, least recently used replaced" range:"0..64" rule:"at least 1 when prefetch_degree is not 0"`
}

// CoherenceConfig is the protocol that keeps the cores' private levels
// coherent with each other and with device DMA.
type CoherenceConfig struct {
	Protocol         string `toml:"protocol" doc:"mesi: a directory beside the L3 tracks which cores hold each line; reads of a line another core may write downgrade it and take it cache-to-cache, stores invalidate the other copies, DMA is coherent, and image-modification flags move with the lines; none: private caches are not kept coherent (each core's copy is its own)" enum:"mesi,none"`
	DirectoryEntries int    `toml:"directory_entries" doc:"directory entries (a sparse directory: evicting an entry invalidates the line in every core); 0 sizes it at twice the lines of all cores' private levels" range:"0..16777216" rule:"0, or directory_ways × a power of two"`
	DirectoryWays    int    `toml:"directory_ways" doc:"directory associativity" range:"1..64"`
	DirectoryLatency uint64 `toml:"directory_latency" doc:"cycles to consult the directory on a coherence action (a plain miss consults it beside the L3 lookup at no extra cost)" range:"0..1000"`
	HopLatency       uint64 `toml:"hop_latency" doc:"cycles for one traversal of the on-chip interconnect between the directory and a core: a cache-to-cache transfer or an invalidation costs directory_latency + 2 × hop_latency (+ the owner's L2 latency for a transfer)" range:"0..1000"`
}

// DRAMConfig describes main memory timing.
type DRAMConfig struct {
	Latency    Duration  `toml:"latency" doc:"access latency" range:"1ns..10us"`
	Channels   int       `toml:"channels" doc:"number of independent channels" range:"1..64"`
	Bandwidth  Bandwidth `toml:"bandwidth" doc:"bandwidth of each channel" range:"100MB/s..1TB/s"`
	Interleave Size      `toml:"interleave" doc:"channel interleaving granularity" rule:"a power of two, cache.line_size..1GiB"`
}

// OverflowPolicy says what the cache controller does when the modification
// log is full.
type OverflowPolicy string

// Modification-log overflow policies.
const (
	// OverflowStall stalls the core that must log until the hypervisor drains
	// the log.
	OverflowStall OverflowPolicy = "stall"
	// OverflowInterruptCheckpoint raises an interrupt when GuardEntries free
	// entries remain, so the hypervisor checkpoints early.
	OverflowInterruptCheckpoint OverflowPolicy = "interrupt-checkpoint"
	// OverflowDrop drops the address and counts it; the backup image is then
	// known to be stale (data loss is reported).
	OverflowDrop OverflowPolicy = "drop"
)

// BackupConfig describes VM backup by cache image-modification flags: the
// log, its overflow policy and the checkpoint costs.
type BackupConfig struct {
	Enabled             bool           `toml:"enabled" doc:"back up the VMs marked backed_up; when off, no flag is set and no checkpoint runs"`
	Interval            Duration       `toml:"interval" doc:"checkpoint interval" range:"1us..10s"`
	LogSize             Size           `toml:"log_size" doc:"modification log (circular buffer) size" range:"1KiB..1GiB" rule:"a multiple of cache.line_size"`
	DedupWindow         int            `toml:"dedup_window" doc:"recent logged addresses compared before appending; 0 disables de-duplication" range:"0..4096"`
	Batch               bool           `toml:"batch" doc:"write addresses a whole log line at a time instead of one 8-byte entry at a time"`
	Overflow            OverflowPolicy `toml:"overflow" doc:"what happens when the log is full" enum:"stall,interrupt-checkpoint,drop"`
	GuardEntries        int            `toml:"guard_entries" doc:"free entries at which interrupt-checkpoint raises its interrupt" rule:"0..log_size/8 - 1"`
	ScanCyclesPerLine   uint64         `toml:"scan_cycles_per_line" doc:"checkpoint scan cost per cache line examined, in cycles" range:"0..1000"`
	DrainCyclesPerEntry uint64         `toml:"drain_cycles_per_entry" doc:"hypervisor cost to consume one log entry, in cycles" range:"0..100000"`
	Suspend             Duration       `toml:"suspend" doc:"cost to pause a VM's vCPUs at a checkpoint" range:"0s..1s"`
	ThreadIDs           bool           `toml:"thread_ids" doc:"also record a thread id per cache row and per log entry"`
}

// HypervisorConfig describes the hypervisor's own memory traffic, whose
// stores never set image-modification flags.
type HypervisorConfig struct {
	StoreFraction float64  `toml:"store_fraction" doc:"fraction of each core's memory operations that are hypervisor (privilege-mode) stores to hypervisor memory" range:"0..1"`
	Footprint     Size     `toml:"footprint" doc:"hypervisor memory those stores touch" range:"4KiB..1GiB"`
	Timeslice     Duration `toml:"timeslice" doc:"how long a program VM runs on a core it shares with other program VMs before the scheduler switches to the next ready one (3ms: Linux CFS's minimum granularity on an 8-CPU host, 0.75 ms × 4, under which KVM's vCPU threads run)" range:"1us..10s"`
	SwitchCycles  uint64   `toml:"switch_cycles" doc:"core cycles to switch a shared core from one VM to another: VM exit, the scheduler, VM entry (assumed); the switch also empties the core's TLBs, which carry no VM tags" range:"0..100000000"`
}

// VMConfig describes one virtual machine. Keys missing from a [[vm]] table
// take DefaultVM's values.
type VMConfig struct {
	Name        string         `toml:"name" doc:"VM name, unique" rule:"1..40 characters from a-z, 0-9, _ and -"`
	BackedUp    bool           `toml:"backed_up" doc:"whether this VM's image is backed up (checkpointed)"`
	Memory      Size           `toml:"memory" doc:"image size" range:"1MiB..64GiB" rule:"a multiple of host.page_size; all VMs together at most host.memory"`
	Cores       []int          `toml:"cores" doc:"indices of the cores that run this VM" rule:"non-empty; each 0..host.cores - 1; a core runs at most one VM, except that program VMs may share cores (time-sliced, hypervisor.timeslice); exactly one for program, service and bulk VMs"`
	Workload    WorkloadConfig `toml:"workload" doc:"the VM's synthetic memory workload (a service VM's requests draw their memory operations from it)"`
	Role        string         `toml:"role" doc:"what the VM runs: memory (its workload's access stream without pause), program (a guest program, run by the binary translator on the cycle-level core model), service (answers requests from [[client]] hosts, ha-nic) or bulk (sends packets to an external sink as fast as bulk.rate allows, ha-nic)" enum:"memory,program,service,bulk" rule:"memory or program outside ha-nic"`
	Program     string         `toml:"program" doc:"a program VM's guest: a static RV64GC Linux program and its arguments, separated by spaces, as exec.command (a path, or the name of a committed workload); its image holds the guest's memory, its standard output and error go to vm-NAME.stdout and vm-NAME.stderr in the run directory" rule:"not empty for a program VM, empty otherwise"`
	VF          bool           `toml:"vf" doc:"the VM has a virtual function of the host's adapter, with its own MAC and descriptor rings in its memory (ha-nic)" rule:"true for service and bulk VMs, and for backed-up VMs in ha-nic"`
	MemoryLimit Size           `toml:"memory_limit" doc:"a program VM's guest may occupy at most this much of its image, in 64 KiB frames (0B: all of it); a mapping beyond it fails with ENOMEM, and recovery's more-memory change raises it" range:"0B..64GiB" rule:"at most vm.memory"`
	Service     ServiceConfig  `toml:"service" doc:"the request/response service of a service VM"`
	Bulk        BulkConfig     `toml:"bulk" doc:"the traffic of a bulk VM"`
}

// ServiceConfig describes a service VM's work per request.
type ServiceConfig struct {
	Dist          string   `toml:"dist" doc:"distribution of the compute time per request" enum:"constant,exponential,lognormal"`
	Time          Duration `toml:"time" doc:"mean compute time per request" range:"0s..1s"`
	Ops           int      `toml:"ops" doc:"memory operations per request, drawn from the VM's workload stream (its stores dirty the image a checkpoint replicates)" range:"0..1000000"`
	ResponseBytes Size     `toml:"response_bytes" doc:"response payload" range:"1B..9000B" rule:"at most nic.mtu"`
}

// BulkConfig describes a bulk VM's traffic.
type BulkConfig struct {
	Rate        Bandwidth `toml:"rate" doc:"payload rate to send at (0B/s: as fast as the transmit ring drains)" range:"0B/s..1TB/s"`
	PacketBytes Size      `toml:"packet_bytes" doc:"payload per packet" range:"1B..9000B" rule:"at most nic.mtu"`
}

// NICConfig describes the SR-IOV adapter of each host.
type NICConfig struct {
	Buffering       string    `toml:"buffering" doc:"where a checkpointing VM's output waits for its checkpoint to commit: nic (the adapter's checkpoint packet buffer, patent family 2), software (the hypervisor copies and holds each packet, as Remus does), none (not held: clients may see output of state that a failover would lose)" enum:"nic,software,none"`
	Scheduler       string    `toml:"scheduler" doc:"transmit scheduler: strict-priority (released checkpoint packets before other VFs' packets, steps 506-514), fifo (in the order they became ready: the no-priority baseline) or drr (deficit round robin by quantum_high : quantum_low bytes)" enum:"strict-priority,fifo,drr"`
	QuantumHigh     Size      `toml:"quantum_high" doc:"drr: bytes a round for released checkpoint packets" range:"64B..1MiB"`
	QuantumLow      Size      `toml:"quantum_low" doc:"drr: bytes a round for other VFs' packets" range:"64B..1MiB"`
	MTU             Size      `toml:"mtu" doc:"largest frame payload" range:"46B..9000B"`
	Buffer          Size      `toml:"buffer" doc:"checkpoint packet buffer capacity in frame bytes" range:"64B..16GiB" rule:"at least one frame of the MTU (nic.mtu + 18 bytes)"`
	BufferPackets   int       `toml:"buffer_packets" doc:"checkpoint packet buffer capacity in packets (descriptors)" range:"1..100000000"`
	Overflow        string    `toml:"overflow" doc:"when the checkpoint buffer is full: backpressure (the VF's transmit ring stops draining; the VM sees a full ring), spill (to host memory over DMA), drop (counted as data loss)" enum:"backpressure,spill,drop"`
	SpillBandwidth  Bandwidth `toml:"spill_bandwidth" doc:"spill: DMA bandwidth to host memory and back" range:"100MB/s..1TB/s"`
	SpillLatency    Duration  `toml:"spill_latency" doc:"spill: DMA latency each way" range:"0s..1ms"`
	Bandwidth       Bandwidth `toml:"bandwidth" doc:"the adapter's port: wire bandwidth" range:"1MB/s..1TB/s"`
	Latency         Duration  `toml:"latency" doc:"the port's wire: propagation delay to the switch" range:"0s..10ms"`
	RingEntries     int       `toml:"ring_entries" doc:"descriptors in each VF's transmit and receive ring (each with a buffer of the MTU in the VM's memory)" range:"8..4096" rule:"a power of two"`
	DMALatency      Duration  `toml:"dma_latency" doc:"I/O bus latency added to every DMA transfer, before the memory system's own" range:"0s..100us"`
	CoalescePackets int       `toml:"coalesce_packets" doc:"interrupt coalescing: completions that raise a VF's interrupt at once" range:"1..4096"`
	CoalesceTime    Duration  `toml:"coalesce_time" doc:"interrupt coalescing: longest a completion waits for its interrupt (0s: none)" range:"0s..10ms"`
	IRQCycles       uint64    `toml:"irq_cycles" doc:"guest driver cost to take an interrupt, in core cycles" range:"0..1000000"`
	PacketCycles    uint64    `toml:"packet_cycles" doc:"guest driver (and stack) cost per packet sent or received, in core cycles" range:"0..1000000"`
	DoorbellCycles  uint64    `toml:"doorbell_cycles" doc:"cost of a doorbell write to the adapter, in core cycles" range:"0..1000000"`
}

// HAConfig describes how checkpoints reach the secondary host.
type HAConfig struct {
	Method            string    `toml:"method" doc:"what a checkpoint replicates: line-log (the lines in the image-modification log), page-4k or page-64k (dirty pages), full (the whole image)" enum:"line-log,page-4k,page-64k,full"`
	Transport         string    `toml:"transport" doc:"how checkpoints reach the secondary host: dedicated (a link of their own, link_bandwidth and link_latency each way) or network (through the hosts' adapters and the switch, sharing the primary's port with the VMs' traffic at the low priority)" enum:"dedicated,network"`
	CopyBandwidth     Bandwidth `toml:"copy_bandwidth" doc:"how fast the paused primary copies the modified state into its send buffer (adds to the pause)" range:"100MB/s..1TB/s"`
	LinkBandwidth     Bandwidth `toml:"link_bandwidth" doc:"dedicated transport: the replication link's bandwidth, each way" range:"1MB/s..1TB/s"`
	LinkLatency       Duration  `toml:"link_latency" doc:"dedicated transport: the replication link's latency, each way" range:"0s..100ms"`
	ApplyBandwidth    Bandwidth `toml:"apply_bandwidth" doc:"how fast the secondary writes received state into the backup image before it acknowledges" range:"100MB/s..1TB/s"`
	AckBytes          Size      `toml:"ack_bytes" doc:"the acknowledgement message" range:"1B..64KiB"`
	MaxInFlight       int       `toml:"max_in_flight" doc:"checkpoints that may await their acknowledgement at once; a checkpoint falling due while this many do is deferred (its epoch runs on) until the oldest is acknowledged" range:"1..64"`
	Verify            bool      `toml:"verify" doc:"check after every acknowledged checkpoint that the backup image equals the primary's as of that checkpoint (a SHA-256 digest of each image's written memory: costs host time)"`
	SoftExitCycles    uint64    `toml:"soft_exit_cycles" doc:"software buffering: VM exit and return per packet sent, in core cycles" range:"0..10000000"`
	SoftPacketCycles  uint64    `toml:"soft_packet_cycles" doc:"software buffering: the hypervisor's handling per packet captured (besides copying it), in core cycles" range:"0..10000000"`
	SoftReleaseCycles uint64    `toml:"soft_release_cycles" doc:"software buffering: the hypervisor's work per packet released after a commit, in core cycles" range:"0..10000000"`
	Failover          bool      `toml:"failover" doc:"the two hosts watch each other with heartbeats over the replication path; when the primary fails, its backed-up VMs (program VMs) are activated on the secondary from the last checkpoint the secondary holds, and the switch sends their frames there; when the secondary fails, the primary runs them on unprotected"`
	Heartbeat         Duration  `toml:"heartbeat" doc:"failover: time between heartbeats, each way (assumed)" range:"10us..10s"`
	Misses            int       `toml:"misses" doc:"failover: heartbeat intervals of silence after which a host suspects its peer has failed" range:"1..1000"`
	Fencing           string    `toml:"fencing" doc:"failover: witness (a host that suspects its peer claims the VMs at the switch's management plane; the first claim wins, the loser — or a host whose claim is not answered within claim_timeout — stops its copy, and the switch forwards the VMs' frames only from the winner's port) or none (each host acts on its suspicion alone: a lost replication link leaves two copies sending)" enum:"witness,none"`
	ClaimTimeout      Duration  `toml:"claim_timeout" doc:"failover: how long a host waits for the witness to answer its claim before it stops its copy" range:"1us..10s"`
	Activation        Duration  `toml:"activation" doc:"failover: time from holding the VMs to their running on the secondary: restoring their vCPUs and attaching their virtual functions (assumed)" range:"0s..10s"`
	AfterFailover     string    `toml:"after_failover" doc:"failover: what the VMs activated on the secondary do: run unprotected, or re-protect onto a spare host (host2) — their whole images copied to it first over a dedicated link (link_bandwidth, link_latency), their output held from the activation until the first checkpoint after the copy commits — so that a second failure fails them over again" enum:"unprotected,spare"`
}

// RecoveryConfig is application-failure recovery (patent family 4): how a
// failure is recognised, and what is done about it.
type RecoveryConfig struct {
	Enabled       bool     `toml:"enabled" doc:"watch the backed-up program VMs for application failures — death by SIGSEGV, SIGBUS, SIGABRT, SIGILL or SIGFPE, an exit status of exit_statuses, no system call for watchdog while runnable, a mapping refused for want of memory — and recover them"`
	Mode          string   `toml:"mode" doc:"rollback (restore the VM from the newest kept checkpoint before the input it was serving arrived, apply the policy's next environment change and re-execute the inputs since) or restart (start the program afresh in its image: its state is lost)" enum:"rollback,restart"`
	Policy        []string `toml:"policy" doc:"the environment changes of successive attempts, each attempt keeping the changes before it and adding the next (a failure within window of an attempt starts the next; after the last the recovery gives up): none (plain rollback), drop-request (re-execute without the input being served at the failure), reorder-inputs (reverse each run of inputs that arrived within reorder_window of each other), more-memory (multiply the VM's memory limit by memory_factor), pad-allocator (set the guest allocator's padding word, the symbol twinsim_alloc_pad, to pad_bytes), flush (flush the caches; the code is translated afresh as after every rollback); restart uses one attempt per entry" rule:"1..16 entries"`
	Keep          int      `toml:"keep" doc:"checkpoints the secondary keeps, images and states, to roll back to" range:"1..64"`
	Watchdog      Duration `toml:"watchdog" doc:"a VM that runs this long without a system call has hung" range:"1us..10s"`
	ExitStatuses  []int    `toml:"exit_statuses" doc:"exit statuses that count as a failure (none by default: a program that exits has ended)" rule:"each 0..255"`
	Window        Duration `toml:"window" doc:"an attempt whose VM runs this long without failing has recovered it" range:"1us..3600s"`
	Restore       Duration `toml:"restore" doc:"fixed time to restore a VM from a checkpoint (or restart it), besides fetching its image from the secondary at ha.link_bandwidth (assumed)" range:"0s..10s"`
	ReorderWindow Duration `toml:"reorder_window" doc:"reorder-inputs: inputs delivered within this of the one before are concurrent" range:"0s..1s"`
	MemoryFactor  float64  `toml:"memory_factor" doc:"more-memory: the factor the VM's memory limit grows by (up to its image)" range:"1..1024"`
	PadBytes      Size     `toml:"pad_bytes" doc:"pad-allocator: the padding after each allocation" range:"8B..64KiB"`
}

// Recovery environment changes, in the order of the default policy.
var RecoveryChanges = []string{"none", "drop-request", "reorder-inputs", "more-memory", "pad-allocator", "flush"}

// FaultConfig is one injected failure. Its time is fixed (at) or drawn
// uniformly from [after, after + within) on the fault's own random stream,
// so that a sweep over seeds draws many instants.
type FaultConfig struct {
	Kind     string   `toml:"kind" doc:"host-crash (the host stops: its cores, caches, adapter and the output the adapter holds are lost), link-loss (the replication path between the hosts drops), partition (the host's adapter loses the switch), nic-reset (the host's adapter resets: what it holds and has in flight is lost, and for duration it neither sends nor receives; then its VMs' drivers post their rings anew) or app-crash (program VM vm's guest is killed by signal: a transient application fault, which re-execution does not meet again)" enum:"host-crash,link-loss,partition,nic-reset,app-crash"`
	VM       string   `toml:"vm" doc:"app-crash: the program VM whose guest is killed" rule:"names a program VM, for app-crash only"`
	Signal   int      `toml:"signal" doc:"app-crash: the signal that kills it (11: SIGSEGV)" range:"1..31"`
	Host     string   `toml:"host" doc:"host-crash, partition and nic-reset: the host that fails, primary (host0), secondary (host1) or spare (host2, with ha.after_failover = \"spare\")" enum:"primary,secondary,spare"`
	At       Duration `toml:"at" doc:"when the fault happens; 0: drawn from after and within" range:"0s..3600s" rule:"set at or within, not both"`
	After    Duration `toml:"after" doc:"with within: the earliest time the fault may happen" range:"0s..3600s"`
	Within   Duration `toml:"within" doc:"the fault happens at a time drawn uniformly from [after, after + within) on its own random stream (faults.N of the run's seed)" range:"0s..3600s"`
	Duration Duration `toml:"duration" doc:"link-loss and partition: how long the link stays down (0: for good); nic-reset: how long the reset takes (more than 0)" range:"0s..3600s"`
}

// DefaultFault returns the per-fault defaults: a crash of the primary.
func DefaultFault() FaultConfig { return FaultConfig{Kind: "host-crash", Host: "primary", Signal: 11} }

// NetworkConfig describes the switch and the external hosts' links.
type NetworkConfig struct {
	SwitchLatency   Duration  `toml:"switch_latency" doc:"forwarding latency of the switch" range:"0s..1ms"`
	ClientBandwidth Bandwidth `toml:"client_bandwidth" doc:"each external host's link to the switch, each way" range:"1MB/s..1TB/s"`
	ClientLatency   Duration  `toml:"client_latency" doc:"each external host's link latency" range:"0s..100ms"`
	Warmup          Duration  `toml:"warmup" doc:"the clients' statistics (latency, responses, throughput) count only responses arriving from this time on; throughput divides them by the time from warmup to the end" range:"0s..3600s" rule:"less than run.duration"`
}

// ClientConfig describes an external client host.
type ClientConfig struct {
	Name         string   `toml:"name" doc:"client name, unique" rule:"1..40 characters from a-z, 0-9, _ and -"`
	VM           string   `toml:"vm" doc:"the VM it sends requests to" rule:"names a vm with role service (protocol synthetic) or a program VM with a virtual function (protocol kv)"`
	Mode         string   `toml:"mode" doc:"open (requests arrive as a Poisson process of rate a second, whatever the responses do) or closed (outstanding requests in flight at all times)" enum:"open,closed"`
	Rate         float64  `toml:"rate" doc:"open: requests a second" range:"0.001..100000000"`
	Outstanding  int      `toml:"outstanding" doc:"closed: requests in flight" range:"1..1000000"`
	RequestBytes Size     `toml:"request_bytes" doc:"request payload (protocol synthetic)" range:"1B..9000B" rule:"at most nic.mtu"`
	Protocol     string   `toml:"protocol" doc:"what the requests are: synthetic (a payload size, for a service VM's model) or kv (the key-value protocol of workloads' kvserver over UDP/IPv4, for a program VM running it; the client checks every answer against its own record of the store)" enum:"synthetic,kv"`
	Port         int      `toml:"port" doc:"protocol kv: the server's UDP port" range:"1..65535"`
	KV           KVMix    `toml:"kv" doc:"protocol kv: the request mix over the client's own keys"`
	Timeout      Duration `toml:"timeout" doc:"how long the client waits for a response before it sends the request again, doubling the wait each time (1s: TCP's initial retransmission timeout, RFC 6298); 0: never" range:"0s..60s"`
	Retries      int      `toml:"retries" doc:"resends before a request is counted lost (a closed-loop client then sends a new one)" range:"0..30"`
}

// KVMix is a key-value client's request mix.
type KVMix struct {
	Keys        int     `toml:"keys" doc:"keys the client uses (its own: named after it)" range:"1..100000"`
	GetFraction float64 `toml:"get_fraction" doc:"share of GET requests" range:"0..1" rule:"get_fraction + put_fraction at most 1; the rest are DEL"`
	PutFraction float64 `toml:"put_fraction" doc:"share of PUT requests" range:"0..1"`
	ValueBytes  Size    `toml:"value_bytes" doc:"largest PUT value (each is 1 byte to this, uniformly)" range:"1B..1024B"`
	Poison      float64 `toml:"poison" doc:"share of requests that are poison: the request that triggers poison_kind's bug in a kvserver run with -b (sent once, never resent, its answer not checked)" range:"0..1"`
	PoisonKind  string  `toml:"poison_kind" doc:"the poison requests: overflow (a PUT with a 48-byte key), null (a GET of a 13-byte key never stored) or leak (a PUT of a 777-byte value)" enum:"overflow,null,leak"`
}

// Pattern is a synthetic workload's address pattern.
type Pattern string

// Workload address patterns.
const (
	PatternUniform    Pattern = "uniform"    // uniformly random over the footprint
	PatternZipf       Pattern = "zipf"       // Zipf-distributed over the footprint's lines (hot lines)
	PatternSequential Pattern = "sequential" // consecutive addresses, wrapping at the footprint
	PatternStrided    Pattern = "strided"    // addresses Stride apart, wrapping at the footprint
)

// WorkloadConfig describes a synthetic memory workload.
type WorkloadConfig struct {
	Pattern       Pattern `toml:"pattern" doc:"address pattern" enum:"uniform,zipf,sequential,strided"`
	Footprint     Size    `toml:"footprint" doc:"bytes of the image the workload touches" rule:"4KiB..vm.memory"`
	WriteFraction float64 `toml:"write_fraction" doc:"fraction of memory operations that are stores" range:"0..1"`
	ZipfS         float64 `toml:"zipf_s" doc:"Zipf exponent (zipf pattern)" rule:"greater than 1, at most 10"`
	Stride        Size    `toml:"stride" doc:"distance between consecutive accesses (strided pattern)" rule:"8B..workload.footprint"`
	AccessSize    Size    `toml:"access_size" doc:"bytes per access" rule:"a power of two, 1B..cache.line_size"`
	GapCycles     uint64  `toml:"gap_cycles" doc:"compute cycles between memory operations" range:"0..10000"`
}

// OutputConfig says what a run writes.
type OutputConfig struct {
	Series bool     `toml:"series" doc:"write time-series CSVs: per checkpoint, and in ha-nic the buffered output over time"`
	Sample Duration `toml:"sample" doc:"ha-nic: how often the buffered output is sampled into its time series (each row holds the peak since the previous one)" range:"1us..1s"`
}

// Default returns the default configuration: a 2-core 3GHz host with 64KiB
// pages, a 32KiB/512KiB/8MiB write-back hierarchy of 128-byte lines, and two
// VMs, one backed up every millisecond.
func Default() Config {
	level := func(size Size, ways int, latency uint64) CacheLevel {
		return CacheLevel{Enabled: true, Size: size, Ways: ways, Replacement: ReplaceLRU,
			WritePolicy: WriteBack, Latency: latency, BankCycles: 2, PrefetchDistance: 4, PrefetchStreams: 16}
	}
	l3 := level(8*MiB, 16, 40)
	l3.Banks = 8
	l1, l2 := level(32*KiB, 8, 2), level(512*KiB, 8, 12)
	l1.MSHRs, l2.MSHRs = 10, 16
	l1.WriteBuffer, l2.WriteBuffer = 8, 16
	unprotected := DefaultVM()
	unprotected.Name = "unprotected"
	unprotected.BackedUp = false
	unprotected.Cores = []int{1}
	unprotected.Workload.Pattern = PatternUniform
	return Config{
		Run: RunConfig{Name: "backup-demo", Scenario: "backup", Seed: 1, Duration: Duration(20 * sim.Millisecond)},
		Host: HostConfig{Cores: 2, Freq: Frequency(3 * sim.GHz), PageSize: 64 * KiB, Memory: 64 * GiB,
			Quantum: Duration(sim.Microsecond), Contention: "time-order", PagePlacement: "contiguous"},
		TLB: TLBConfig{Entries: 64, Ways: 4, WalkLatency: 30, WalkLevels: 3},
		Core: CoreConfig{Model: "in-order", Width: 2, PipelineDepth: 7, ALU: 1, Mul: 3, Div: 20, FPAdd: 4, FPMul: 5,
			FPDiv: 20, Load: 2, ALUUnits: 2, MulUnits: 1, DivUnits: 1, FPUnits: 2, FPDivUnits: 1, MemPorts: 1,
			ROB: 128, LoadQueue: 48, StoreQueue: 32, RenameRegs: 128, IssueQueue: 36, IssueWidth: 6, MemDependence: "store-sets",
			Predictor: "gshare", TranslateCycles: 300, SyscallCycles: 2000, FaultCycles: 400},
		Cache: CacheConfig{LineSize: 128, L1: l1, L1I: level(32*KiB, 8, 1), L2: l2, L3: l3,
			Coherence: CoherenceConfig{Protocol: "mesi", DirectoryWays: 16, DirectoryLatency: 10, HopLatency: 10}},
		DRAM: DRAMConfig{Latency: Duration(60 * sim.Nanosecond), Channels: 2,
			Bandwidth: 12_800_000_000, Interleave: 4 * KiB},
		Backup: BackupConfig{Enabled: true, Interval: Duration(sim.Millisecond), LogSize: 64 * KiB,
			DedupWindow: 8, Batch: true, Overflow: OverflowInterruptCheckpoint, GuardEntries: 64,
			ScanCyclesPerLine: 1, DrainCyclesPerEntry: 4, Suspend: Duration(100 * sim.Microsecond)},
		Hypervisor: HypervisorConfig{StoreFraction: 0.01, Footprint: MiB, Timeslice: Duration(3 * sim.Millisecond), SwitchCycles: 5000},
		VMs:        []VMConfig{DefaultVM(), unprotected},
		Exec:       ExecConfig{Copies: 1},
		Translator: TranslatorConfig{Strategy: "adaptive", RegenThreshold: 16},
		Output:     OutputConfig{Series: true, Sample: Duration(100 * sim.Microsecond)},
		NIC: NICConfig{Buffering: "nic", Scheduler: "strict-priority", QuantumHigh: 3 * KiB, QuantumLow: 3 * KiB,
			MTU: 1500, Buffer: 4 * MiB, BufferPackets: 65536, Overflow: "backpressure",
			SpillBandwidth: 8_000_000_000, SpillLatency: Duration(500 * sim.Nanosecond),
			Bandwidth: 1_250_000_000, Latency: Duration(sim.Microsecond), RingEntries: 512,
			DMALatency: Duration(250 * sim.Nanosecond), CoalescePackets: 16, CoalesceTime: Duration(20 * sim.Microsecond),
			IRQCycles: 2000, PacketCycles: 1500, DoorbellCycles: 300},
		HA: HAConfig{Method: "line-log", Transport: "dedicated", CopyBandwidth: 10_000_000_000, LinkBandwidth: 1_250_000_000,
			LinkLatency: Duration(10 * sim.Microsecond), ApplyBandwidth: 10_000_000_000, AckBytes: 64, MaxInFlight: 1,
			SoftExitCycles: 3000, SoftPacketCycles: 2000, SoftReleaseCycles: 2000,
			Heartbeat: Duration(100 * sim.Millisecond), Misses: 3, Fencing: "witness", ClaimTimeout: Duration(10 * sim.Millisecond),
			Activation: Duration(5 * sim.Millisecond), AfterFailover: "unprotected"},
		Recovery: RecoveryConfig{Mode: "rollback", Policy: []string{"drop-request", "pad-allocator", "more-memory", "reorder-inputs", "flush"},
			Keep: 4, ExitStatuses: []int{}, Watchdog: Duration(50 * sim.Millisecond), Window: Duration(50 * sim.Millisecond), Restore: Duration(5 * sim.Millisecond),
			ReorderWindow: Duration(sim.Millisecond), MemoryFactor: 2, PadBytes: 64},
		Network: NetworkConfig{SwitchLatency: Duration(sim.Microsecond), ClientBandwidth: 1_250_000_000,
			ClientLatency: Duration(5 * sim.Microsecond)},
	}
}

// DefaultClient returns the per-client defaults: an open-loop client
// sending 1000 requests a second of 128 bytes to the VM "web".
func DefaultClient() ClientConfig {
	return ClientConfig{Name: "client", VM: "web", Mode: "open", Rate: 1000, Outstanding: 1, RequestBytes: 128,
		Protocol: "synthetic", Port: 7000, KV: KVMix{Keys: 256, GetFraction: 0.5, PutFraction: 0.4, ValueBytes: 512, PoisonKind: "overflow"},
		Timeout: Duration(sim.Second), Retries: 5}
}

// DefaultVM returns the per-VM defaults, which are also the first default VM:
// "protected", backed up, 256MiB, on core 0, with a Zipf workload over 16MiB.
func DefaultVM() VMConfig {
	return VMConfig{
		Name: "protected", BackedUp: true, Memory: 256 * MiB, Cores: []int{0},
		Workload: WorkloadConfig{Pattern: PatternZipf, Footprint: 16 * MiB, WriteFraction: 0.3,
			ZipfS: 1.2, Stride: 4 * KiB, AccessSize: 8, GapCycles: 2},
		Role: "memory", VF: true,
		Service: ServiceConfig{Dist: "exponential", Time: Duration(20 * sim.Microsecond), Ops: 200, ResponseBytes: 1024},
		Bulk:    BulkConfig{PacketBytes: 1500},
	}
}
