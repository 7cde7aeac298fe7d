package main

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/dbt"
	"github.com/twinsim/twinsim/experiment"
	"github.com/twinsim/twinsim/sim"
)

// execStats is the --stats file.
type execStats struct {
	Program          string            `json:"program"`
	ExitCode         int               `json:"exit_code"`
	Signal           int               `json:"signal,omitempty"`
	GuestInsts       uint64            `json:"guest_instructions"`
	HostInsts        uint64            `json:"host_instructions"`
	BlocksTranslated uint64            `json:"blocks_translated"`
	ChainHits        uint64            `json:"chain_hits"`
	Dispatches       uint64            `json:"dispatches"`
	CacheFlushes     uint64            `json:"code_cache_flushes"`
	Invalidations    uint64            `json:"blocks_invalidated"`
	Faults           uint64            `json:"faults"`
	MixedAccesses    uint64            `json:"mixed_page_accesses"`
	Strategy         string            `json:"page_size_strategy"`
	Regenerations    uint64            `json:"regenerations"`
	WalkedBlocks     uint64            `json:"walked_blocks"`
	Walks            uint64            `json:"inline_walks"`
	WalkedAccesses   uint64            `json:"walked_mixed_accesses"`
	MissedFaults     uint64            `json:"missed_guest_faults"`
	RedirectedPages  uint64            `json:"redirected_pages"`
	RedirectFrames   uint64            `json:"redirect_frames"`
	FaultsPerBlock   map[string]uint64 `json:"blocks_by_mixed_faults"`
	// HostPages counts the host pages holding guest pages, mixed and
	// uniform, after each change of the guest's layout.
	HostPages    []hostPages       `json:"host_pages_over_time"`
	HostPageSize uint64            `json:"host_page_size"`
	TLBMisses    uint64            `json:"tlb_misses"`
	Syscalls     map[string]uint64 `json:"syscalls"`
	Unsupported  map[string]uint64 `json:"unsupported_syscalls"`
	WallSeconds  float64           `json:"wall_seconds"`
	GuestMIPS    float64           `json:"guest_mips"`
	Timing       *timingStats      `json:"timing,omitempty"`
	// Cores holds each core's timing with --cores above 1 (Timing is
	// core 0's, where the main thread runs).
	Cores   []*timingStats `json:"cores,omitempty"`
	Threads uint64         `json:"threads"`
	// ROI sums the regions of interest the guest marked (dbt.SysROI);
	// cycles are host instructions in functional mode.
	ROI *roiStats `json:"roi,omitempty"`
}

type roiStats struct {
	Regions    uint64 `json:"regions"`
	Cycles     uint64 `json:"cycles"`
	GuestInsts uint64 `json:"guest_instructions"`
	HostInsts  uint64 `json:"host_instructions"`
}

// timingStats are the timing model's results (--mode timing).
type timingStats struct {
	Model          string             `json:"model"`
	Insts          uint64             `json:"host_instructions_timed"`
	Cycles         uint64             `json:"cycles"`
	IPC            float64            `json:"host_ipc"`
	Branches       uint64             `json:"conditional_branches"`
	Mispredicts    uint64             `json:"mispredicts"`
	Accuracy       float64            `json:"predictor_accuracy"`
	IndirectJumps  uint64             `json:"indirect_jumps"`
	JumpMispredict uint64             `json:"jump_mispredicts"`
	Loads          uint64             `json:"loads"`
	Stores         uint64             `json:"stores"`
	MemoryCycles   uint64             `json:"load_cycles_beyond_l1"` // the latency loads took beyond an L1 hit, summed
	TLBWalks       uint64             `json:"dtlb_walks"`
	WalkCycles     uint64             `json:"dtlb_walk_cycles"`
	ITLBWalks      uint64             `json:"itlb_walks"`
	Fetches        uint64             `json:"fetch_line_accesses"`
	FetchCycles    uint64             `json:"fetch_stall_cycles"`
	FirmwareCycles uint64             `json:"firmware_cycles"`
	CPIStack       map[string]float64 `json:"cpi_stack"`
	// CyclesLost is the CPI stack in cycles.
	CyclesLost map[string]uint64  `json:"cycles_lost"`
	MissRates  map[string]float64 `json:"miss_rates"`
}

func newExecCmd(g *globals) *cobra.Command {
	var statsFile, mode, configFile string
	var strict bool
	var cores int
	var env []string
	cmd := &cobra.Command{
		Use:   "exec [flags] ELF [ARGS...]",
		Short: "Run a static RV64GC Linux program through the binary translator, like qemu-riscv64",
		Long: `Run a static RV64GC Linux executable through twinsim's binary translator on
a functional host core. The guest's standard input, output and error are
the command's; its exit status is the command's (a guest killed by a
signal exits with 128 + the signal number, as a shell reports it, and a
one-line diagnostic naming the guest pc goes to standard error).

The guest sees an empty environment (add variables with --env), 4 KiB
pages, user and group id 0, and clocks that read simulated time from
2026-01-01 UTC (in functional mode a host instruction takes one cycle of
host.freq). The host MMU uses host.page_size from the configuration
(64 KiB by default; --set host.page_size=4KiB to change it): a host page
whose 4 KiB guest pages differ in protection (static programs put text
and data in one 64 KiB page) faults into the firmware, which completes the
access at the guest's granularity. Flags go before ELF; everything after
it is the guest's.

--mode timing adds the cycle-level core of [core] (core.model in-order
or out-of-order: issue width, pipeline depth, functional units, windows,
a branch predictor with a BTB and return-address stack), loads and stores
through the L1, L2, L3 and DRAM of [cache] and [dram], instruction fetch
through the L1I, TLB walks ([tlb] at host.page_size) and firmware costs
(translation, system calls, mixed-page faults; [core]), and writes cycles,
IPC and the CPI stack to --stats.

Threads (clone, futex, the calls pthreads make) run on --cores timing
cores, or in functional mode each with a clock of its own, taking turns of
100,000 instructions.

Not supported: signals delivered to handlers.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if mode != "functional" && mode != "timing" {
				return usageError{fmt.Errorf("--mode %q is not available; use functional or timing", mode)}
			}
			if cores < 1 || cores > 64 {
				return usageError{fmt.Errorf("--cores %d is not allowed; must be 1..64", cores)}
			}
			if cores > 1 && mode != "timing" {
				return usageError{fmt.Errorf("--cores %d needs --mode timing (in functional mode threads have no cores)", cores)}
			}
			// The configuration supplies the host (page size) and the seed;
			// --set and --seed override it as on every command.
			// The program runs as the exec scenario would run it: no VMs.
			cfg, err := configs.Load(configFile, append(g.overrides(cmd), "run.scenario=exec",
				"exec.command="+strconv.Quote(args[0])))
			if err != nil {
				return err
			}
			path := args[0]
			info, err := os.Stat(path)
			if err != nil {
				return err
			}
			if info.IsDir() {
				return fmt.Errorf("%s is a directory, not a program", path)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			prog, err := dbt.LoadProgram(data)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			proc, err := dbt.NewProcess(prog, dbt.ProcessConfig{Path: path, Argv: args, Envp: env, Seed: uint64(cfg.Run.Seed),
				Stdin: cmd.InOrStdin(), Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), Strict: strict})
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			defer proc.Close()
			var env *sim.Env // timing mode: the memory hierarchy's statistics
			var tc *experiment.TimedCore
			var tcs []*experiment.TimedCore
			mc, err := experiment.FunctionalMachineConfig(cfg)
			if err != nil {
				return err
			}
			if mode == "timing" {
				env = sim.NewEnv(uint64(cfg.Run.Seed))
				if tcs, err = experiment.NewTimedCores(env, cfg, cores); err != nil {
					return err
				}
				tc = tcs[0]
				if mc, err = tc.MachineConfig(cfg); err != nil {
					return err
				}
				for _, c := range tcs {
					mc.Cores = append(mc.Cores, c.Timing)
				}
			}
			m, err := dbt.NewMachine(proc, mc, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			for _, c := range tcs {
				c.Data.Map = m // the caches see redirected pages at their frames
			}
			begin := time.Now()
			res, runErr := runExec(m, env, tc, cfg)
			wall := time.Since(begin)
			if statsFile != "" {
				st := m.Stats()
				out := execStats{Program: path, ExitCode: res.ExitCode, Signal: res.Signal, GuestInsts: st.GuestInsts,
					HostInsts: st.HostInsts, BlocksTranslated: st.BlocksTranslated, ChainHits: st.ChainHits,
					Dispatches: st.Dispatches, CacheFlushes: st.CacheFlushes, Invalidations: st.Invalidations,
					Faults: st.Faults, MixedAccesses: st.MixedAccesses, Strategy: cfg.Translator.Strategy,
					Regenerations: st.Regenerations, WalkedBlocks: st.WalkedBlocks, Walks: st.Walks,
					WalkedAccesses: st.WalkedAccesses, MissedFaults: st.MissedFaults, RedirectedPages: st.RedirectedPages, RedirectFrames: st.RedirectFrames,
					Threads: st.Threads, FaultsPerBlock: faultBuckets(m.FaultsPerBlock()), HostPageSize: uint64(cfg.Host.PageSize), TLBMisses: st.TLBMisses, Syscalls: proc.Calls(), Unsupported: proc.Unsupported(),
					WallSeconds: wall.Seconds()}
				if wall > 0 {
					out.GuestMIPS = float64(st.GuestInsts) / wall.Seconds() / 1e6
				}
				if tc != nil {
					out.Timing = newTimingStats(cfg, env, tc)
					if len(tcs) > 1 {
						for _, c := range tcs {
							out.Cores = append(out.Cores, newTimingStats(cfg, env, c))
						}
					}
				}
				for _, l := range m.Layout() {
					out.HostPages = append(out.HostPages, hostPages{uint64(l.Time), l.GuestInsts, l.Mixed, l.Uniform})
				}
				if st.ROIs > 0 {
					out.ROI = &roiStats{Regions: st.ROIs, Cycles: st.ROICycles, GuestInsts: st.ROIGuestInsts, HostInsts: st.ROIHostInsts}
				}
				data, err := json.MarshalIndent(out, "", "  ")
				if err != nil {
					return err
				}
				if dir := filepath.Dir(statsFile); dir != "" {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						return err
					}
				}
				if err := experiment.WriteFileAtomic(statsFile, append(data, '\n')); err != nil {
					return err
				}
			}
			if runErr != nil {
				return runErr
			}
			if res.ExitCode != 0 {
				return guestExit{res.ExitCode}
			}
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().StringVar(&configFile, "config", "", "configuration (file or embedded name): host, [core], [cache], [dram], [tlb] and run.seed apply; default: the embedded default")
	cmd.Flags().StringVar(&statsFile, "stats", "", "write run statistics (instructions, blocks, chaining, system calls, faults) as JSON to this file")
	cmd.Flags().StringVar(&mode, "mode", "functional", "execution mode: functional, or timing (the core of [core] with the configured caches, TLBs and DRAM)")
	cmd.Flags().BoolVar(&strict, "strict-syscalls", false, "stop at an unsupported system call, naming it and the guest pc, instead of returning -ENOSYS")
	cmd.Flags().StringArrayVar(&env, "env", nil, "add KEY=VALUE to the guest's environment (repeatable)")
	cmd.Flags().IntVar(&cores, "cores", 1, "timing mode: cores the guest's threads run on (the n-th thread on core n mod cores; threads sharing a core take turns), coherent through the directory and sharing the L3 and DRAM")
	return cmd
}

type hostPages struct {
	TimePS     uint64 `json:"time_ps"`
	GuestInsts uint64 `json:"guest_instructions"`
	Mixed      uint64 `json:"mixed"`
	Uniform    uint64 `json:"uniform"`
}

// faultBuckets groups blocks by their faults on mixed host pages in
// powers of two: "0", "1", "2-3", "4-7", ...
func faultBuckets(byCount map[uint64]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for n, blocks := range byCount {
		key := "0"
		if n > 0 {
			lo := uint64(1) << (bits.Len64(n) - 1)
			key = strconv.FormatUint(lo, 10)
			if lo > 1 {
				key += "-" + strconv.FormatUint(2*lo-1, 10)
			}
		}
		out[key] += blocks
	}
	return out
}

// newTimingStats reads the timing model's results.
func newTimingStats(cfg configs.Config, env *sim.Env, tc *experiment.TimedCore) *timingStats {
	tm := tc.Timing
	st := tm.Stats()
	ts := &timingStats{Model: cfg.Core.Model, Insts: st.Insts, Cycles: tm.Finish(), Branches: st.Branches,
		Mispredicts: st.Mispredicts, IndirectJumps: st.IndirectJumps, JumpMispredict: st.JumpMispredict,
		Loads: st.Loads, Stores: st.Stores, MemoryCycles: st.MemoryCycles, TLBWalks: tc.Data.Walks,
		WalkCycles: tc.Data.WalkTotal, ITLBWalks: tc.Fetch.Walks, Fetches: st.Fetches, FetchCycles: st.FetchCycles,
		FirmwareCycles: st.FirmwareCycles, CPIStack: st.CPIStack(), CyclesLost: map[string]uint64{},
		MissRates: map[string]float64{}}
	if st.Branches > 0 {
		ts.Accuracy = 1 - float64(st.Mispredicts)/float64(st.Branches)
	}
	for row, v := range ts.CPIStack {
		ts.CyclesLost[row] = uint64(v*float64(st.Insts) + 0.5)
	}
	for _, lv := range append(append([]string(nil), tc.Levels...), tc.FetchLevel) {
		if v, ok := env.Stats.Lookup(lv, "miss_rate"); ok && lv != "" {
			ts.MissRates[lv] = v
		}
	}
	if ts.Cycles > 0 {
		ts.IPC = float64(st.Insts) / float64(ts.Cycles)
	}
	return ts
}

// guestExit is a guest's non-zero exit status: passed through silently.
type guestExit struct{ code int }

func (e guestExit) Error() string { return fmt.Sprintf("guest exited with status %d", e.code) }

// runExec runs m to its end. In timing mode the core runs a quantum
// (host.quantum) at a time and the event engine catches up after each, so
// that the weave replays the shared levels' accesses in time order and
// feeds their delays back while the program runs.
func runExec(m *dbt.Machine, env *sim.Env, tc *experiment.TimedCore, cfg configs.Config) (dbt.Result, error) {
	if env == nil {
		return m.Run()
	}
	defer env.End()
	freq := sim.Freq(cfg.Host.Freq)
	quantum := max(1, freq.Cycles(sim.Time(cfg.Host.Quantum)))
	var limit uint64
	for {
		limit = max(limit+quantum, tc.Timing.Now())
		res, exited, err := m.RunUntil(limit)
		if err != nil || exited {
			return res, err
		}
		env.Engine.RunUntil(freq.CyclesToTime(limit))
	}
}
