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
	Core       CoreConfig       `toml:"core" doc:"the cycle-level core model of the timing mode (twinsim exec --mode timing)"`
	Cache      CacheConfig      `toml:"cache" doc:"cache hierarchy; image-modification flags live in its write-back levels"`
	DRAM       DRAMConfig       `toml:"dram" doc:"main memory timing"`
	Backup     BackupConfig     `toml:"backup" doc:"VM backup by cache image-modification flags and a modification log (patent family 3)"`
	Hypervisor HypervisorConfig `toml:"hypervisor" doc:"hypervisor (privilege-mode) activity mixed into each core's stream"`
	VMs        []VMConfig       `toml:"vm" doc:"one table per VM; keys missing from a table take the defaults shown; any [[vm]] table replaces the default list (protected on core 0, unprotected on core 1)"`
	Output     OutputConfig     `toml:"output" doc:"what a run writes besides config.toml, stats and meta.json"`
}

// RunConfig names a run and fixes its seed and length.
type RunConfig struct {
	Name     string   `toml:"name" doc:"scenario name used in output directory names" rule:"1..40 characters from a-z, 0-9, _ and -"`
	Seed     uint64   `toml:"seed" doc:"run seed; every random stream derives from it" range:"0..9223372036854775807"`
	Duration Duration `toml:"duration" doc:"simulated time to run" range:"1us..3600s"`
}

// HostConfig describes the simulated host machine.
type HostConfig struct {
	Cores    int       `toml:"cores" doc:"number of CPU cores" range:"1..64"`
	Freq     Frequency `toml:"freq" doc:"core clock frequency" range:"100MHz..10GHz"`
	PageSize Size      `toml:"page_size" doc:"host MMU page size" enum:"4KiB,16KiB,64KiB"`
	Memory   Size      `toml:"memory" doc:"physical memory size" range:"16MiB..1TiB" rule:"a multiple of host.page_size"`
	Quantum  Duration  `toml:"quantum" doc:"cores run ahead of the event engine at most this long" range:"1ns..1ms"`
}

// TLBConfig describes each core's set-associative TLB.
type TLBConfig struct {
	Entries     int    `toml:"entries" doc:"number of TLB entries" range:"1..4096" rule:"a multiple of tlb.ways"`
	Ways        int    `toml:"ways" doc:"TLB associativity" range:"1..64"`
	WalkLatency uint64 `toml:"walk_latency" doc:"page-walk cost on a TLB miss, in core cycles" range:"0..10000"`
}

// CoreConfig is the in-order core's timing: issue width, functional-unit
// latencies in cycles, and branch prediction.
type CoreConfig struct {
	Width             int    `toml:"width" doc:"instructions issued per cycle" range:"1..4"`
	MemPorts          int    `toml:"mem_ports" doc:"loads and stores issued per cycle" range:"1..4" rule:"at most core.width"`
	ALU               uint64 `toml:"alu_latency" doc:"integer arithmetic, logic and move latency, in cycles" range:"1..100"`
	Mul               uint64 `toml:"mul_latency" doc:"integer multiply latency (pipelined), in cycles" range:"1..100"`
	Div               uint64 `toml:"div_latency" doc:"integer divide latency (not pipelined), in cycles" range:"1..200"`
	FPAdd             uint64 `toml:"fp_add_latency" doc:"FP add, compare, convert and move latency, in cycles" range:"1..100"`
	FPMul             uint64 `toml:"fp_mul_latency" doc:"FP multiply and fused multiply-add latency, in cycles" range:"1..100"`
	FPDiv             uint64 `toml:"fp_div_latency" doc:"FP divide and square root latency (not pipelined), in cycles" range:"1..200"`
	Load              uint64 `toml:"load_latency" doc:"load-to-use latency of an L1 hit, in cycles (a longer cache.l1.latency wins)" range:"1..100"`
	MispredictPenalty uint64 `toml:"mispredict_penalty" doc:"cycles lost to a mispredicted conditional branch" range:"0..1000"`
	Predictor         string `toml:"predictor" doc:"conditional-branch predictor" enum:"bimodal,gshare,tage,always-taken"`
	TranslateCycles   uint64 `toml:"translate_cycles" doc:"firmware cost to translate one guest instruction, in cycles" range:"0..100000"`
	SyscallCycles     uint64 `toml:"syscall_cycles" doc:"firmware cost to emulate one system call, in cycles" range:"0..10000000"`
	FaultCycles       uint64 `toml:"fault_cycles" doc:"firmware cost to take a memory fault on a mixed host page and complete the access, in cycles" range:"0..100000"`
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

// CacheConfig describes the cache hierarchy: private L1 and L2 per core and a
// shared L3.
type CacheConfig struct {
	LineSize Size       `toml:"line_size" doc:"cache line size of every level, in bytes" range:"16B..1KiB" rule:"a power of two"`
	L1       CacheLevel `toml:"l1" doc:"level 1 cache, private per core"`
	L2       CacheLevel `toml:"l2" doc:"level 2 cache, private per core"`
	L3       CacheLevel `toml:"l3" doc:"level 3 cache, shared by all cores"`
}

// CacheLevel describes one level of the hierarchy.
type CacheLevel struct {
	Enabled     bool        `toml:"enabled" doc:"whether this level exists"`
	Size        Size        `toml:"size" doc:"capacity" range:"1KiB..1GiB" rule:"ways × line_size × a power of two"`
	Ways        int         `toml:"ways" doc:"associativity: lines per set" range:"1..64"`
	Replacement Replacement `toml:"replacement" doc:"replacement policy" enum:"lru,plru,random"`
	WritePolicy WritePolicy `toml:"write_policy" doc:"write policy; the last enabled level must be write-back" enum:"write-back,write-through"`
	Latency     uint64      `toml:"latency" doc:"hit latency in core cycles" range:"1..1000"`
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
	StoreFraction float64 `toml:"store_fraction" doc:"fraction of each core's memory operations that are hypervisor (privilege-mode) stores to hypervisor memory" range:"0..1"`
	Footprint     Size    `toml:"footprint" doc:"hypervisor memory those stores touch" range:"4KiB..1GiB"`
}

// VMConfig describes one virtual machine. Keys missing from a [[vm]] table
// take DefaultVM's values.
type VMConfig struct {
	Name     string         `toml:"name" doc:"VM name, unique" rule:"1..40 characters from a-z, 0-9, _ and -"`
	BackedUp bool           `toml:"backed_up" doc:"whether this VM's image is backed up (checkpointed)"`
	Memory   Size           `toml:"memory" doc:"image size" range:"1MiB..64GiB" rule:"a multiple of host.page_size; all VMs together at most host.memory"`
	Cores    []int          `toml:"cores" doc:"indices of the cores that run this VM" rule:"non-empty; each 0..host.cores - 1; a core runs at most one VM"`
	Workload WorkloadConfig `toml:"workload" doc:"the VM's synthetic memory workload"`
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
	Series bool `toml:"series" doc:"write per-checkpoint time-series CSVs"`
}

// Default returns the default configuration: a 2-core 3GHz host with 64KiB
// pages, a 32KiB/512KiB/8MiB write-back hierarchy of 128-byte lines, and two
// VMs, one backed up every millisecond.
func Default() Config {
	level := func(size Size, ways int, latency uint64) CacheLevel {
		return CacheLevel{Enabled: true, Size: size, Ways: ways, Replacement: ReplaceLRU,
			WritePolicy: WriteBack, Latency: latency}
	}
	unprotected := DefaultVM()
	unprotected.Name = "unprotected"
	unprotected.BackedUp = false
	unprotected.Cores = []int{1}
	unprotected.Workload.Pattern = PatternUniform
	return Config{
		Run: RunConfig{Name: "backup-demo", Seed: 1, Duration: Duration(20 * sim.Millisecond)},
		Host: HostConfig{Cores: 2, Freq: Frequency(3 * sim.GHz), PageSize: 64 * KiB, Memory: 64 * GiB,
			Quantum: Duration(sim.Microsecond)},
		TLB: TLBConfig{Entries: 64, Ways: 4, WalkLatency: 30},
		Core: CoreConfig{Width: 2, MemPorts: 1, ALU: 1, Mul: 3, Div: 20, FPAdd: 4, FPMul: 5, FPDiv: 20, Load: 2,
			MispredictPenalty: 7, Predictor: "gshare", TranslateCycles: 300, SyscallCycles: 2000, FaultCycles: 400},
		Cache: CacheConfig{LineSize: 128, L1: level(32*KiB, 8, 2), L2: level(512*KiB, 8, 12),
			L3: level(8*MiB, 16, 40)},
		DRAM: DRAMConfig{Latency: Duration(60 * sim.Nanosecond), Channels: 2,
			Bandwidth: 12_800_000_000, Interleave: 4 * KiB},
		Backup: BackupConfig{Enabled: true, Interval: Duration(sim.Millisecond), LogSize: 64 * KiB,
			DedupWindow: 8, Batch: true, Overflow: OverflowInterruptCheckpoint, GuardEntries: 64,
			ScanCyclesPerLine: 1, DrainCyclesPerEntry: 4, Suspend: Duration(100 * sim.Microsecond)},
		Hypervisor: HypervisorConfig{StoreFraction: 0.01, Footprint: MiB},
		VMs:        []VMConfig{DefaultVM(), unprotected},
		Output:     OutputConfig{Series: true},
	}
}

// DefaultVM returns the per-VM defaults, which are also the first default VM:
// "protected", backed up, 256MiB, on core 0, with a Zipf workload over 16MiB.
func DefaultVM() VMConfig {
	return VMConfig{
		Name: "protected", BackedUp: true, Memory: 256 * MiB, Cores: []int{0},
		Workload: WorkloadConfig{Pattern: PatternZipf, Footprint: 16 * MiB, WriteFraction: 0.3,
			ZipfS: 1.2, Stride: 4 * KiB, AccessSize: 8, GapCycles: 2},
	}
}
