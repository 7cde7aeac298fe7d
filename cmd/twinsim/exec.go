package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/cpu"
	"github.com/twinsim/twinsim/dbt"
	"github.com/twinsim/twinsim/experiment"
	"github.com/twinsim/twinsim/memory"
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
	HostPageSize     uint64            `json:"host_page_size"`
	TLBMisses        uint64            `json:"tlb_misses"`
	Syscalls         map[string]uint64 `json:"syscalls"`
	Unsupported      map[string]uint64 `json:"unsupported_syscalls"`
	WallSeconds      float64           `json:"wall_seconds"`
	GuestMIPS        float64           `json:"guest_mips"`
	Timing           *timingStats      `json:"timing,omitempty"`
}

// timingStats are the in-order timing model's results (--mode timing).
type timingStats struct {
	Insts       uint64  `json:"host_instructions_timed"`
	Cycles      uint64  `json:"cycles"`
	IPC         float64 `json:"host_ipc"`
	Dependence  uint64  `json:"cycles_waiting_for_operands"`
	Structural  uint64  `json:"cycles_waiting_for_units_or_slots"`
	Mispredict  uint64  `json:"cycles_lost_to_mispredicts"`
	Branches    uint64  `json:"conditional_branches"`
	Mispredicts uint64  `json:"mispredicts"`
	Loads       uint64  `json:"loads"`
	Stores      uint64  `json:"stores"`
	// MemoryCycles is the latency loads took beyond an L1 hit, summed.
	MemoryCycles   uint64             `json:"load_cycles_beyond_l1"`
	TLBWalks       uint64             `json:"dtlb_walks"`
	FirmwareCycles uint64             `json:"firmware_cycles"`
	CPIStack       map[string]float64 `json:"cpi_stack"`
	WalkCycles     uint64             `json:"dtlb_walk_cycles"`
	MissRates      map[string]float64 `json:"miss_rates"`
}

func newExecCmd(g *globals) *cobra.Command {
	var statsFile, mode, configFile string
	var strict bool
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

--mode timing adds the in-order core's timing model ([core] of the
configuration: issue width, functional-unit latencies, a branch predictor;
loads and stores through [cache] and [dram]) and reports cycles in
--stats, with data-TLB walks ([tlb] at host.page_size) and firmware
costs (translation, system calls, mixed-page faults; [core]) charged.

Not supported: threads, signals delivered to handlers.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if mode != "functional" && mode != "timing" {
				return usageError{fmt.Errorf("--mode %q is not available; use functional or timing", mode)}
			}
			// The configuration supplies the host (page size) and the seed;
			// --set and --seed override it as on every command.
			cfg, err := configs.Load(configFile, g.overrides(cmd))
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
			var pt *cpu.PortTiming
			mc := dbt.MachineConfig{HostPageSize: uint64(cfg.Host.PageSize), Freq: sim.Freq(cfg.Host.Freq)}
			if mode == "timing" {
				pred, err := cpu.NewPredictor(cfg.Core.Predictor)
				if err != nil {
					return fmt.Errorf("core.predictor: %w", err)
				}
				k := cfg.Core
				if mc.Timing, err = cpu.NewInOrder(cpu.InOrderConfig{Width: k.Width, MemPorts: k.MemPorts, ALU: k.ALU,
					Mul: k.Mul, Div: k.Div, FPAdd: k.FPAdd, FPMul: k.FPMul, FPDiv: k.FPDiv, Load: k.Load,
					MispredictPenalty: k.MispredictPenalty}, pred); err != nil {
					return fmt.Errorf("core: %w", err)
				}
				env = sim.NewEnv(uint64(cfg.Run.Seed))
				port, err := experiment.CorePort(env, cfg)
				if err != nil {
					return err
				}
				tlb, err := memory.NewTLB(env.Scope("host0").Child("core0").Child("dtlb"), cfg.TLB.Entries, cfg.TLB.Ways, uint64(cfg.Host.PageSize))
				if err != nil {
					return fmt.Errorf("tlb: %w", err)
				}
				pt = &cpu.PortTiming{Port: port, Freq: sim.Freq(cfg.Host.Freq), VM: 1, TLB: tlb, WalkCycles: cfg.TLB.WalkLatency}
				mc.Timing.SetMemory(pt)
				mc.TranslateCycles, mc.SyscallCycles, mc.FaultCycles = k.TranslateCycles, k.SyscallCycles, k.FaultCycles
			}
			m, err := dbt.NewMachine(proc, mc, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			begin := time.Now()
			res, runErr := m.Run()
			wall := time.Since(begin)
			if statsFile != "" {
				st := m.Stats()
				out := execStats{Program: path, ExitCode: res.ExitCode, Signal: res.Signal, GuestInsts: st.GuestInsts,
					HostInsts: st.HostInsts, BlocksTranslated: st.BlocksTranslated, ChainHits: st.ChainHits,
					Dispatches: st.Dispatches, CacheFlushes: st.CacheFlushes, Invalidations: st.Invalidations,
					Faults: st.Faults, MixedAccesses: st.MixedAccesses, HostPageSize: uint64(cfg.Host.PageSize), TLBMisses: st.TLBMisses, Syscalls: proc.Calls(), Unsupported: proc.Unsupported(),
					WallSeconds: wall.Seconds()}
				if wall > 0 {
					out.GuestMIPS = float64(st.GuestInsts) / wall.Seconds() / 1e6
				}
				if tm := mc.Timing; tm != nil {
					out.Timing = &timingStats{Insts: tm.Insts, Cycles: tm.Finish(), Dependence: tm.Dependence, Structural: tm.Structural,
						Mispredict: tm.Mispredict, Branches: tm.Branches, Mispredicts: tm.Mispredicts,
						Loads: tm.Loads, Stores: tm.Stores, MemoryCycles: tm.MemoryCycles, MissRates: map[string]float64{}}
					out.Timing.TLBWalks, out.Timing.WalkCycles = pt.Walks, pt.WalkTotal
					out.Timing.FirmwareCycles = tm.FirmwareCycles
					out.Timing.CPIStack = tm.CPIStack()
					for _, lv := range []string{"host0.core0.l1", "host0.core0.l2", "host0.l3"} {
						if v, ok := env.Stats.Lookup(lv, "miss_rate"); ok {
							out.Timing.MissRates[lv] = v
						}
					}
					out.Timing.IPC = float64(tm.Insts) / float64(out.Timing.Cycles)
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
	cmd.Flags().StringVar(&mode, "mode", "functional", "execution mode: functional, or timing (the in-order core of [core] with the configured caches and DRAM)")
	cmd.Flags().BoolVar(&strict, "strict-syscalls", false, "stop at an unsupported system call, naming it and the guest pc, instead of returning -ENOSYS")
	cmd.Flags().StringArrayVar(&env, "env", nil, "add KEY=VALUE to the guest's environment (repeatable)")
	return cmd
}

// guestExit is a guest's non-zero exit status: passed through silently.
type guestExit struct{ code int }

func (e guestExit) Error() string { return fmt.Sprintf("guest exited with status %d", e.code) }
