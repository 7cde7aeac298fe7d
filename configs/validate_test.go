package configs

import (
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDefaultIsValid(t *testing.T) {
	require.NoError(t, Default().Validate())
}

func TestValidateRanges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		err    string
	}{
		{"run.seed", func(c *Config) { c.Run.Seed = 1 << 63 }, "run.seed: 9223372036854775808 is not allowed; must be 0..9223372036854775807"},
		{"run.duration low", func(c *Config) { c.Run.Duration = 999_999 }, "run.duration: 999999ps is not allowed; must be 1us..3600s"},
		{"run.duration high", func(c *Config) { c.Run.Duration = 3601 * 1e12 }, "run.duration: 3601s is not allowed; must be 1us..3600s"},
		{"host.cores", func(c *Config) { c.Host.Cores = 65 }, "host.cores: 65 is not allowed; must be 1..64"},
		{"host.freq", func(c *Config) { c.Host.Freq = 99_000_000 }, "host.freq: 99MHz is not allowed; must be 100MHz..10GHz"},
		{"host.page_size", func(c *Config) { c.Host.PageSize = 8 * KiB }, "host.page_size: 8KiB is not allowed; must be one of 4KiB, 16KiB, 64KiB"},
		{"host.memory", func(c *Config) { c.Host.Memory = 2 * TiB }, "host.memory: 2TiB is not allowed; must be 16MiB..1TiB"},
		{"host.quantum", func(c *Config) { c.Host.Quantum = 0 }, "host.quantum: 0s is not allowed; must be 1ns..1ms"},
		{"tlb.entries", func(c *Config) { c.TLB.Entries = 8192 }, "tlb.entries: 8192 is not allowed; must be 1..4096"},
		{"tlb.ways", func(c *Config) { c.TLB.Ways = 0 }, "tlb.ways: 0 is not allowed; must be 1..64"},
		{"tlb.walk_latency", func(c *Config) { c.TLB.WalkLatency = 10001 }, "tlb.walk_latency: 10001 is not allowed; must be 0..10000"},
		{"cache.line_size", func(c *Config) { c.Cache.LineSize = 8 }, "cache.line_size: 8B is not allowed; must be 16B..1KiB"},
		{"cache.l1.size", func(c *Config) { c.Cache.L1.Size = 512 }, "cache.l1.size: 512B is not allowed; must be 1KiB..1GiB"},
		{"cache.l2.ways", func(c *Config) { c.Cache.L2.Ways = 0 }, "cache.l2.ways: 0 is not allowed; must be 1..64"},
		{"cache.l3.replacement", func(c *Config) { c.Cache.L3.Replacement = "fifo" }, `cache.l3.replacement: "fifo" is not allowed; must be one of lru, plru, random`},
		{"cache.l1.write_policy", func(c *Config) { c.Cache.L1.WritePolicy = "write-around" }, `cache.l1.write_policy: "write-around" is not allowed; must be one of write-back, write-through`},
		{"cache.l2.latency", func(c *Config) { c.Cache.L2.Latency = 0 }, "cache.l2.latency: 0 is not allowed; must be 1..1000"},
		{"dram.latency", func(c *Config) { c.DRAM.Latency = 11_000_000 }, "dram.latency: 11us is not allowed; must be 1ns..10us"},
		{"dram.channels", func(c *Config) { c.DRAM.Channels = 0 }, "dram.channels: 0 is not allowed; must be 1..64"},
		{"dram.bandwidth", func(c *Config) { c.DRAM.Bandwidth = 2e12 }, "dram.bandwidth: 2TB/s is not allowed; must be 100MB/s..1TB/s"},
		{"backup.interval", func(c *Config) { c.Backup.Interval = 11e12 }, "backup.interval: 11s is not allowed; must be 1us..10s"},
		{"backup.log_size", func(c *Config) { c.Backup.LogSize = 2 * GiB }, "backup.log_size: 2GiB is not allowed; must be 1KiB..1GiB"},
		{"backup.dedup_window", func(c *Config) { c.Backup.DedupWindow = -1 }, "backup.dedup_window: -1 is not allowed; must be 0..4096"},
		{"backup.overflow", func(c *Config) { c.Backup.Overflow = "spill" }, `backup.overflow: "spill" is not allowed; must be one of stall, interrupt-checkpoint, drop`},
		{"backup.scan_cycles_per_line", func(c *Config) { c.Backup.ScanCyclesPerLine = 1001 }, "backup.scan_cycles_per_line: 1001 is not allowed; must be 0..1000"},
		{"backup.drain_cycles_per_entry", func(c *Config) { c.Backup.DrainCyclesPerEntry = 100001 }, "backup.drain_cycles_per_entry: 100001 is not allowed; must be 0..100000"},
		{"backup.suspend", func(c *Config) { c.Backup.Suspend = 2e12 }, "backup.suspend: 2s is not allowed; must be 0s..1s"},
		{"hypervisor.store_fraction", func(c *Config) { c.Hypervisor.StoreFraction = 1.5 }, "hypervisor.store_fraction: 1.5 is not allowed; must be 0..1"},
		{"hypervisor.store_fraction nan", func(c *Config) { c.Hypervisor.StoreFraction = math.NaN() }, "hypervisor.store_fraction: nan is not allowed; must be 0..1"},
		{"hypervisor.footprint", func(c *Config) { c.Hypervisor.Footprint = 2 * KiB }, "hypervisor.footprint: 2KiB is not allowed; must be 4KiB..1GiB"},
		{"vm.memory", func(c *Config) { c.VMs[1].Memory = 128 * GiB }, "vm[1].memory: 128GiB is not allowed; must be 1MiB..64GiB"},
		{"vm.workload.pattern", func(c *Config) { c.VMs[1].Workload.Pattern = "zipff" }, `vm[1].workload.pattern: "zipff" is not allowed; must be one of uniform, zipf, sequential, strided`},
		{"vm.workload.write_fraction", func(c *Config) { c.VMs[0].Workload.WriteFraction = -0.1 }, "vm[0].workload.write_fraction: -0.1 is not allowed; must be 0..1"},
		{"vm.workload.gap_cycles", func(c *Config) { c.VMs[0].Workload.GapCycles = 10001 }, "vm[0].workload.gap_cycles: 10001 is not allowed; must be 0..10000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			require.EqualError(t, c.Validate(), tc.err)
		})
	}
}

func TestValidateRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		err    string
	}{
		{"run.name characters", func(c *Config) { c.Run.Name = "Backup Demo" }, `run.name: "Backup Demo" is not allowed; must be 1..40 characters from a-z, 0-9, _ and -`},
		{"run.name empty", func(c *Config) { c.Run.Name = "" }, `run.name: "" is not allowed; must be 1..40 characters from a-z, 0-9, _ and -`},
		{"run.name 41 chars", func(c *Config) { c.Run.Name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }, `run.name: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" is not allowed; must be 1..40 characters from a-z, 0-9, _ and -`},
		{"host.memory multiple of page", func(c *Config) { c.Host.Memory = 64*MiB + 4*KiB }, "host.memory: 65540KiB is not allowed; must be a multiple of host.page_size (64KiB)"},
		{"tlb.entries multiple of ways", func(c *Config) { c.TLB.Entries = 66 }, "tlb.entries: 66 is not allowed; must be a multiple of tlb.ways (4)"},
		{"line size power of two", func(c *Config) { c.Cache.LineSize = 96 }, "cache.line_size: 96B is not allowed; must be a power of two"},
		{"cache geometry", func(c *Config) { c.Cache.L2.Size = 384 * KiB }, "cache.l2.size: 384KiB is not allowed; must be ways × line_size × a power of two (8 × 128B × 2^k)"},
		{"cache geometry, odd ways", func(c *Config) { c.Cache.L1.Ways = 6 }, "cache.l1.size: 32KiB is not allowed; must be ways × line_size × a power of two (6 × 128B × 2^k)"},
		{"cache too small for one set", func(c *Config) { c.Cache.L1.Size = 1 * KiB; c.Cache.L1.Ways = 16 }, "cache.l1.size: 1KiB is not allowed; must be ways × line_size × a power of two (16 × 128B × 2^k)"},
		{"write-through last level", func(c *Config) { c.Cache.L3.WritePolicy = WriteThrough },
			`cache.l3.write_policy: "write-through" is not allowed; the last enabled level must be write-back (image-modification flags live in write-back levels)`},
		{"write-through last enabled level", func(c *Config) { c.Cache.L3.Enabled = false; c.Cache.L2.WritePolicy = WriteThrough },
			`cache.l2.write_policy: "write-through" is not allowed; the last enabled level must be write-back (image-modification flags live in write-back levels)`},
		{"no level enabled", func(c *Config) { c.Cache.L1.Enabled, c.Cache.L2.Enabled, c.Cache.L3.Enabled = false, false, false },
			"cache: no level is enabled; at least one enabled level must be write-back"},
		{"interleave below line", func(c *Config) { c.DRAM.Interleave = 64 }, "dram.interleave: 64B is not allowed; must be a power of two, cache.line_size (128B)..1GiB"},
		{"interleave not power of two", func(c *Config) { c.DRAM.Interleave = 3 * KiB }, "dram.interleave: 3KiB is not allowed; must be a power of two, cache.line_size (128B)..1GiB"},
		{"interleave too big", func(c *Config) { c.DRAM.Interleave = 2 * GiB }, "dram.interleave: 2GiB is not allowed; must be a power of two, cache.line_size (128B)..1GiB"},
		{"log size multiple of line", func(c *Config) { c.Backup.LogSize = 64*KiB + 64 }, "backup.log_size: 65600B is not allowed; must be a multiple of cache.line_size (128B)"},
		{"guard entries", func(c *Config) { c.Backup.LogSize = 4 * KiB; c.Backup.GuardEntries = 512 }, "backup.guard_entries: 512 is not allowed; must be 0..511 (log_size/8 - 1)"},
		{"guard entries negative", func(c *Config) { c.Backup.GuardEntries = -1 }, "backup.guard_entries: -1 is not allowed; must be 0..8191 (log_size/8 - 1)"},
		{"no VMs", func(c *Config) { c.VMs = nil }, "vm: no [[vm]] table; at least one VM is required"},
		{"vm name", func(c *Config) { c.VMs[1].Name = "VM1" }, `vm[1].name: "VM1" is not allowed; must be 1..40 characters from a-z, 0-9, _ and -`},
		{"vm names unique", func(c *Config) { c.VMs[1].Name = "protected" }, `vm[1].name: "protected" is not allowed; vm[0] already has that name (names must be unique)`},
		{"vm memory multiple of page", func(c *Config) { c.Host.PageSize = 16 * KiB; c.VMs[0].Memory = 1*MiB + 4*KiB }, "vm[0].memory: 1028KiB is not allowed; must be a multiple of host.page_size (16KiB)"},
		{"vm total memory", func(c *Config) { c.Host.Memory = 256 * MiB }, "vm: total memory 512MiB of 2 VMs is not allowed; must be at most host.memory (256MiB)"},
		{"vm cores empty", func(c *Config) { c.VMs[0].Cores = []int{} }, "vm[0].cores: [] is not allowed; must list at least one core"},
		{"vm core out of range", func(c *Config) { c.VMs[1].Cores = []int{2} }, "vm[1].cores[0]: 2 is not allowed; must be 0..1 (host.cores - 1)"},
		{"vm core negative", func(c *Config) { c.VMs[1].Cores = []int{-1} }, "vm[1].cores[0]: -1 is not allowed; must be 0..1 (host.cores - 1)"},
		{"vm core shared", func(c *Config) { c.VMs[1].Cores = []int{0} }, "vm[1].cores[0]: 0 is not allowed; core 0 already runs vm[0] (each core runs at most one VM, unless all on it are program VMs)"},
		{"program vm without a program", func(c *Config) { c.VMs[0].Role = "program" },
			`vm[0].program: "" is not allowed; a program VM needs a program to run (a path or a committed workload's name, then its arguments)`},
		{"program on a memory vm", func(c *Config) { c.VMs[0].Program = "sieve" },
			`vm[0].program: "sieve" is not allowed; only a VM with role "program" runs a program (this one's role is "memory")`},
		{"program vm on two cores", func(c *Config) {
			c.VMs[0].Role, c.VMs[0].Program, c.VMs[0].Cores = "program", "sieve", []int{0, 1}
			c.VMs = c.VMs[:1]
		},
			"vm[0].cores: 2 cores are not allowed; a program VM runs on exactly one core"},
		{"program vm image not in 64 KiB", func(c *Config) {
			c.VMs[0].Role, c.VMs[0].Program, c.VMs[0].Memory, c.Host.PageSize = "program", "sieve", 256*MiB+4*KiB, 4*KiB
		}, "vm[0].memory: 262148KiB is not allowed; a program VM's image is placed in 64 KiB frames, so must be a multiple of 64KiB"},
		{"program vm in exec", func(c *Config) {
			c.VMs[0].Role, c.VMs[0].Program, c.Run.Scenario, c.Exec.Command = "program", "sieve", "exec", "sieve"
		}, `vm[0].role: "program" is not allowed; run.scenario is exec, which runs exec.command on bare cores: use backup or ha-nic for program VMs`},
		{"program vm sharing a memory vm's core", func(c *Config) { c.VMs[1].Role, c.VMs[1].Program, c.VMs[1].Cores = "program", "sieve", []int{0} },
			"vm[1].cores[0]: 0 is not allowed; core 0 already runs vm[0] (each core runs at most one VM, unless all on it are program VMs)"},
		{"kv value beyond the mtu", func(c *Config) {
			c.Run.Scenario, c.NIC.MTU = "ha-nic", 576
			c.VMs[0].Role, c.VMs[0].Program = "program", "kvserver 7000"
			cl := DefaultClient()
			cl.VM, cl.Protocol, cl.KV.ValueBytes = "protected", "kv", KiB
			c.Clients = []ClientConfig{cl}
		}, "client[0].kv.value_bytes: 1KiB is not allowed; a PUT's frame (IPv4 and UDP headers, the request's 8 bytes, the key of 10 bytes and the value) must fit nic.mtu (576B)"},
		{"vm core twice", func(c *Config) { c.VMs[1].Cores = []int{1, 1} }, "vm[1].cores[1]: 1 is not allowed; core 1 is already listed in vm[1].cores"},
		{"footprint above memory", func(c *Config) { c.VMs[0].Workload.Footprint = 512 * MiB }, "vm[0].workload.footprint: 512MiB is not allowed; must be 4KiB..vm.memory (256MiB)"},
		{"footprint below 4KiB", func(c *Config) { c.VMs[0].Workload.Footprint = 2 * KiB; c.VMs[0].Workload.Stride = 8 },
			"vm[0].workload.footprint: 2KiB is not allowed; must be 4KiB..vm.memory (256MiB)"},
		{"zipf_s at 1", func(c *Config) { c.VMs[0].Workload.ZipfS = 1 }, "vm[0].workload.zipf_s: 1.0 is not allowed; must be greater than 1 and at most 10"},
		{"zipf_s above 10", func(c *Config) { c.VMs[0].Workload.ZipfS = 10.5 }, "vm[0].workload.zipf_s: 10.5 is not allowed; must be greater than 1 and at most 10"},
		{"stride above footprint", func(c *Config) { c.VMs[0].Workload.Stride = 32 * MiB }, "vm[0].workload.stride: 32MiB is not allowed; must be 8B..workload.footprint (16MiB)"},
		{"stride below 8B", func(c *Config) { c.VMs[0].Workload.Stride = 4 }, "vm[0].workload.stride: 4B is not allowed; must be 8B..workload.footprint (16MiB)"},
		{"access size not power of two", func(c *Config) { c.VMs[0].Workload.AccessSize = 12 }, "vm[0].workload.access_size: 12B is not allowed; must be a power of two, 1B..cache.line_size (128B)"},
		{"access size above line", func(c *Config) { c.VMs[0].Workload.AccessSize = 256 }, "vm[0].workload.access_size: 256B is not allowed; must be a power of two, 1B..cache.line_size (128B)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			require.EqualError(t, c.Validate(), tc.err)
		})
	}
}

func TestValidateAcceptsBoundaries(t *testing.T) {
	c := Default()
	c.Run.Seed = 1<<63 - 1
	c.Run.Duration = 3600e12
	c.Host.Cores = 64
	c.Host.Memory = TiB
	c.Cache.LineSize = 16
	c.Cache.L1 = CacheLevel{Enabled: true, Size: KiB, Ways: 64, Replacement: ReplaceRandom, WritePolicy: WriteThrough, Latency: 1000}
	c.Backup.GuardEntries = int(c.Backup.LogSize/8) - 1
	c.Backup.Suspend = 0
	c.Hypervisor.StoreFraction = 1
	c.VMs[0].Workload.ZipfS = 10
	c.VMs[0].Workload.AccessSize = 16
	c.VMs[0].Workload.Stride = c.VMs[0].Workload.Footprint
	c.VMs[1].Workload.Footprint = c.VMs[1].Memory
	c.VMs[1].Cores = []int{63, 1}
	c.DRAM.Interleave = 16
	require.NoError(t, c.Validate())
}

// TestValidateReportsEveryErrorInOrder: tag checks in schema order, then
// rules; rules on invalid keys (core indices against host.cores, multiples
// of host.page_size) are skipped.
func TestValidateReportsEveryErrorInOrder(t *testing.T) {
	c := Default()
	c.VMs[1].Workload.Pattern = "zipff"
	c.Host.Cores = 0
	c.Run.Name = "A"
	c.Host.PageSize = 8 * KiB
	err := c.Validate()
	require.EqualError(t, err, "host.cores: 0 is not allowed; must be 1..64\n"+
		"host.page_size: 8KiB is not allowed; must be one of 4KiB, 16KiB, 64KiB\n"+
		`vm[1].workload.pattern: "zipff" is not allowed; must be one of uniform, zipf, sequential, strided`+"\n"+
		`run.name: "A" is not allowed; must be 1..40 characters from a-z, 0-9, _ and -`)
	var fe *FieldError
	require.True(t, errors.As(err, &fe))
	require.Equal(t, "host.cores", fe.Path)
}

func TestCoreRules(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want string
	}{
		{[]string{"core.width=0"}, "core.width: 0 is not allowed; must be 1..8"},
		{[]string{"core.predictor=perceptron"}, "core.predictor"},
		{[]string{"core.model=vliw"}, `core.model: "vliw" is not allowed; must be one of in-order, out-of-order`},
		{[]string{"core.model=out-of-order", "core.width=4", "core.rob_size=2"}, "core.rob_size: 2 is not allowed; must be at least core.width (4)"},
		{[]string{"core.width=8", "core.rename_regs=4"}, "core.rename_regs: 4 is not allowed; must be at least core.width (8)"},
		{[]string{"core.alu_units=0"}, "core.alu_units: 0 is not allowed; must be 1..8"},
		{[]string{"run.scenario=exec"}, "exec.command: \"\" is not allowed; run.scenario is exec"},
		{[]string{"exec.copies=3"}, "exec.copies: 3 is not allowed; must be at most host.cores (2)"},
		{[]string{"cache.l2.inclusive=true", "cache.l2.size=32KiB"},
			"cache.l2.size: 32KiB is not allowed; an inclusive level must be at least the capacity above it, cache.l1.size + cache.l1i.size = 64KiB"},
		{[]string{"cache.l3.inclusive=true", "cache.l3.size=1MiB"},
			"cache.l3.size: 1MiB is not allowed; an inclusive level must be at least the capacity above it, host.cores × (cache.l1.size + cache.l1i.size + cache.l2.size) = 1152KiB"},
		{[]string{"cache.l1.inclusive=true"}, "cache.l1.inclusive: true is not allowed; no level is above l1"},
		{[]string{"cache.l1.write_streaming=3"},
			"cache.l1.write_streaming: 3 is not allowed with run.scenario backup; must be 0 unless run.scenario is exec: streamed stores bypass the cache rows that carry the image-modification flags"},
		{[]string{"run.scenario=exec", "exec.command=sieve", "cache.l1i.write_streaming=3"},
			"cache.l1i.write_streaming: 3 is not allowed; must be 0: the instruction cache is never written"},
		{[]string{"run.scenario=exec", "exec.command=sieve", "cache.l1.write_policy=write-through", "cache.l1.write_streaming=3"},
			"cache.l1.write_streaming: 3 is not allowed; must be 0 on a write-through level, which allocates nothing on a store"},
		{[]string{"cache.l1.write_streaming=2000"}, "cache.l1.write_streaming: 2000 is not allowed; must be 0..1024"},
	} {
		_, err := Load("default", tc.sets)
		require.ErrorContains(t, err, tc.want, "%v", tc.sets)
	}
	// Inclusion that fits, and an L1 bigger than a non-inclusive L2.
	_, err := Load("default", []string{"cache.l2.inclusive=true", "cache.l3.inclusive=true"})
	require.NoError(t, err)
	_, err = Load("default", []string{"cache.l1.size=1MiB", "cache.l2.size=256KiB"})
	require.NoError(t, err)
	// The exec scenario runs no VMs, so the default ones' cores do not
	// need to exist.
	_, err = Load("default", []string{"host.cores=1"})
	require.ErrorContains(t, err, "vm[1].cores[0]: 1 is not allowed")
	_, err = Load("default", []string{"host.cores=1", "run.scenario=exec", `exec.command="sieve"`})
	require.NoError(t, err)
}

// TestHANICRules: the combinations the ha-nic scenario cannot run are
// errors naming the key: a checkpoint buffer smaller than one frame, a
// checkpointing VM without a virtual function, an interval of 0, and
// clients or VMs that do not fit the network.
func TestHANICRules(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		err  string
	}{
		{[]string{"nic.buffer=1KiB"}, "nic.buffer: 1KiB is not allowed; the checkpoint buffer must hold at least one frame of the MTU (nic.mtu + 18 bytes = 1518B)"},
		{[]string{"vm[0].vf=false"}, "vm[0].vf: false is not allowed; vm web0 is backed up (checkpointed), so its output must be held until each checkpoint commits, which needs a virtual function"},
		{[]string{"vm[2].vf=false"}, "vm[2].vf: false is not allowed; a service VM sends and receives through its own virtual function"},
		{[]string{"backup.interval=0s"}, "backup.interval: 0s is not allowed; must be 1us..10s"},
		{[]string{"client[0].vm=bulk"}, `client[0].vm: "bulk" is not allowed; must name a [[vm]] with role "service" (and a virtual function)`},
		{[]string{"client[1].name=c-web0"}, `client[1].name: "c-web0" is not allowed; client[0] already has that name (names must be unique)`},
		{[]string{"client[0].request_bytes=1600B"}, "client[0].request_bytes: 1600B is not allowed; must be at most nic.mtu (1500B)"},
		{[]string{"nic.ring_entries=100"}, "nic.ring_entries: 100 is not allowed; must be a power of two"},
		{[]string{"vm[0].memory=16MiB"}, "vm[0].memory: 16MiB is not allowed; the workload footprint (16MiB) and the VF's rings at the top of the image (1680KiB) need 18064KiB"},
		{[]string{"cache.l3.enabled=false"}, "cache.l3.enabled: false is not allowed; run.scenario is ha-nic, whose adapter's DMA goes through the shared L3"},
		{[]string{"nic.coalesce_packets=0"}, "nic.coalesce_packets: 0 is not allowed; must be 1..4096"},
		{[]string{"nic.buffering=software", "hypervisor.footprint=4KiB", "nic.mtu=9000B"},
			`hypervisor.footprint: 4KiB is not allowed; with nic.buffering = "software" the hypervisor copies each packet into this memory, which must hold one of the MTU with its header (nic.mtu + 40 bytes = 9040B)`},
		{[]string{"client[0].mode=closed", "client[0].outstanding=300", "client[1].mode=closed", "client[1].vm=web0", "client[1].outstanding=300"},
			"client[1].outstanding: 300 is not allowed; the closed-loop clients of vm web0 would keep 600 requests in flight, more than its receive ring holds (nic.ring_entries = 512)"},
		{[]string{"network.warmup=1s"}, "network.warmup: 1s is not allowed; must be shorter than run.duration (1s)"},
		{[]string{"ha.max_in_flight=0"}, "ha.max_in_flight: 0 is not allowed; must be 1..64"},
	} {
		_, err := Load("ha-nic", tc.sets)
		require.Error(t, err, tc.sets)
		require.Contains(t, err.Error(), tc.err, tc.sets)
	}
	// Outside ha-nic, VMs run their memory workload only.
	_, err := Load("default", []string{"vm[0].role=bulk"})
	require.ErrorContains(t, err, `vm[0].role: "bulk" is not allowed; run.scenario is backup`)
	// Without checkpoints no VM must have a VF for its output's sake, but a
	// service VM still needs one to be reached.
	_, err = Load("ha-nic", []string{"backup.enabled=false", "vm[0].vf=false"})
	require.ErrorContains(t, err, "vm[0].vf: false is not allowed; a service VM")
}

// TestFaultRules: faults need a time and a place, failover needs program
// VMs to activate.
func TestFaultRules(t *testing.T) {
	require.NoError(t, func() error { _, err := Load("failover", nil); return err }())
	for _, tc := range []struct {
		sets []string
		err  string
	}{
		{[]string{"fault[0].at=0s"}, "fault[0].at: 0s is not allowed without within; give the fault a time (at), or a window to draw it from (after and within)"},
		{[]string{"fault[0].within=5ms"}, "fault[0].within: 5ms is not allowed with at = 100ms; a fault has a fixed time (at) or a drawn one (after and within), not both"},
		{[]string{"fault[0].at=2s"}, "fault[0].at: 2s is not allowed; must be before the end of the run (run.duration = 600ms)"},
		{[]string{"fault[0].at=0s", "fault[0].after=500ms", "fault[0].within=200ms"}, "fault[0].within: 200ms is not allowed; after + within (700ms) must end by the end of the run (run.duration = 600ms)"},
		{[]string{`fault[0].kind="link-loss"`, `fault[0].host="secondary"`}, `fault[0].host: "secondary" is not allowed; a link-loss cuts the replication path between the hosts, which belongs to neither`},
		{[]string{`fault[0].kind="link-loss"`, `ha.transport="network"`}, `fault[0].kind: "link-loss" is not allowed with ha.transport = "network"; a link loss cuts the dedicated replication link (over the network, make it a partition)`},
		{[]string{`fault[0].kind="reboot"`}, `fault[0].kind: "reboot" is not allowed; must be one of host-crash, link-loss, partition, nic-reset, app-crash`},
		{[]string{"vm[0].backed_up=false"}, "ha.failover: true is not allowed; failover activates backed-up VMs on the secondary, and there are none (backup.enabled, vm.backed_up)"},
		{[]string{`vm[0].role="service"`, `client[0].protocol="synthetic"`, `client[1].protocol="synthetic"`},
			`vm[0].backed_up: true is not allowed with ha.failover; vm kv has role "service", and only program VMs (a guest program whose checkpoints carry its whole state) can be activated on the secondary`},
		{[]string{`fault[0].kind="nic-reset"`}, "fault[0].duration: 0s is not allowed for a nic-reset; give the time the reset takes"},
		{[]string{`fault[0].kind="nic-reset"`, "fault[0].duration=1ms", `ha.transport="network"`}, `fault[0].kind: "nic-reset" is not allowed with ha.transport = "network"`},
		{[]string{`fault[0].host="spare"`}, `fault[0].host: "spare" is not allowed; there is a spare host (host2) only with ha.failover and ha.after_failover = "spare"`},
		{[]string{"ha.heartbeat=1us"}, "ha.heartbeat: 1us is not allowed; must be 10us..10s"},
		{[]string{`fault[0].kind="app-crash"`, `fault[0].vm="nosuch"`}, `fault[0].vm: "nosuch" is not allowed; an app-crash names the program VM ([[vm]] with role "program") whose guest it kills`},
		{[]string{`fault[0].vm="kv"`}, `fault[0].vm: "kv" is not allowed; only an app-crash names a VM`},
		{[]string{"ha.claim_timeout=4us"}, "ha.claim_timeout: 4us is not allowed; a claim's answer takes 2 × (nic.latency + network.switch_latency) = 4us to come back, so the timeout must be longer"},
		{[]string{`ha.fencing="stonith"`}, `ha.fencing: "stonith" is not allowed; must be one of witness, none`},
		{[]string{`run.scenario="backup"`, "ha.failover=false"}, `fault[0].kind: "host-crash" is not allowed; faults are injected in run.scenario = "ha-nic" (this one is "backup")`},
	} {
		_, err := Load("failover", tc.sets)
		require.Error(t, err, tc.sets)
		require.Contains(t, err.Error(), tc.err, tc.sets)
	}
}

// TestRecoveryRules: recovery needs the ha-nic scenario, checkpoints and a
// backed-up program VM, not failover; its policy names changes it knows.
func TestRecoveryRules(t *testing.T) {
	require.NoError(t, func() error { _, err := Load("app-failure", nil); return err }())
	for _, tc := range []struct {
		sets []string
		err  string
	}{
		{[]string{`recovery.policy=["drop-request", "pray"]`}, `recovery.policy[1]: "pray" is not allowed; must be one of none, drop-request, reorder-inputs, more-memory, pad-allocator, flush`},
		{[]string{`recovery.policy=[]`}, "recovery.policy: 0 entries are not allowed; must be 1..16"},
		{[]string{`recovery.exit_statuses=[256]`}, "recovery.exit_statuses[0]: 256 is not allowed; must be 0..255"},
		{[]string{"ha.failover=true"}, "recovery.enabled: true is not allowed with ha.failover; recovery from application failures and host failover are not modelled together"},
		{[]string{"backup.enabled=false"}, "recovery.enabled: true is not allowed with backup.enabled = false; recovery rolls back to checkpoints"},
		{[]string{"vm[0].backed_up=false"}, "recovery.enabled: true is not allowed; no VM is a backed-up program VM with a virtual function, which is what recovery watches"},
		{[]string{"vm[0].memory_limit=128MiB"}, "vm[0].memory_limit: 128MiB is not allowed; must be at most vm.memory (64MiB)"},
		{[]string{"vm[0].memory_limit=32KiB"}, "vm[0].memory_limit: 32KiB is not allowed; the image is handed out in 64 KiB frames, so the limit must be a multiple of 64KiB (0B: no limit)"},
		{[]string{`recovery.mode="reboot"`}, `recovery.mode: "reboot" is not allowed; must be one of rollback, restart`},
		{[]string{"recovery.memory_factor=0.5"}, "recovery.memory_factor: 0.5 is not allowed; must be 1..1024"},
		{[]string{`client[1].kv.poison=1.5`}, "client[1].kv.poison: 1.5 is not allowed; must be 0..1"},
	} {
		_, err := Load("app-failure", tc.sets)
		require.Error(t, err, tc.sets)
		require.Contains(t, err.Error(), tc.err, tc.sets)
	}
	_, err := Load("default", []string{"recovery.enabled=true"})
	require.ErrorContains(t, err, `recovery.enabled: true is not allowed; recovery runs in run.scenario = "ha-nic" (this one is "backup")`)
}
