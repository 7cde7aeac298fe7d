package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/experiment"
)

// usageError marks errors in how the command was called (exit status 2).
type usageError struct{ error }

// globals are the flags every command accepts.
type globals struct {
	sets       []string
	seed       int64
	cpuProfile string
	profile    *os.File // open while the command runs
}

// overrides returns the --set list with --seed folded in.
func (g *globals) overrides(cmd *cobra.Command) []string {
	sets := append([]string(nil), g.sets...)
	if cmd.Flags().Changed("seed") {
		sets = append(sets, "run.seed="+strconv.FormatInt(g.seed, 10))
	}
	return sets
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "twinsim",
		Short: "twinsim — a cycle-level, discrete-event simulator of VM backup, checkpointing and binary-translation hardware",
		Long: `twinsim simulates hosts with cores, write-back caches whose lines carry
image-modification flags, paged memory and DRAM, and the hypervisor firmware
that checkpoints virtual machines; it runs RISC-V Linux programs through its
binary translator. Scenarios come from strict TOML configurations; every run
writes its effective configuration and statistics.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringArrayVar(&g.sets, "set", nil, "override a configuration value, as key.path=value (repeatable)")
	root.PersistentFlags().Int64Var(&g.seed, "seed", 1, "run seed (same as --set run.seed=N)")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a CPU profile of the command to this file (go tool pprof reads it)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if g.cpuProfile == "" {
			return nil
		}
		f, err := os.Create(g.cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			_ = f.Close()
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		g.profile = f
		return nil
	}
	root.PersistentPostRunE = func(*cobra.Command, []string) error {
		if g.profile == nil {
			return nil
		}
		pprof.StopCPUProfile()
		err := g.profile.Close()
		g.profile = nil
		return err
	}
	root.AddCommand(newRunCmd(g), newConfigCmd(g), newSweepCmd(g), newMergeCmd(), newFiguresCmd(), newExecCmd(g), newVersionCmd())
	argsAreUsage(root)
	return root
}

// argsAreUsage makes a wrong number of arguments a usage error (exit
// status 2) on every command.
func argsAreUsage(c *cobra.Command) {
	if orig := c.Args; orig != nil {
		c.Args = func(cmd *cobra.Command, args []string) error { return usage(orig(cmd, args)) }
	}
	for _, sub := range c.Commands() {
		argsAreUsage(sub)
	}
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return experiment.Version
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the twinsim version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "twinsim", version())
			return nil
		},
	}
}

func newRunCmd(g *globals) *cobra.Command {
	var outDir, trace string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "run [CONFIG]",
		Short: "Run a scenario and write its results",
		Long: `Run a scenario. CONFIG is a TOML file or the name of an embedded
configuration (see 'twinsim config list'); without it the embedded
"machine" runs: guest programs in checkpointed VMs, on the network. Results go to OUT/<name>-s<seed>-<hash>/: config.toml (the
effective configuration), stats.json, stats.csv, meta.json and one CSV per
time series.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{configs.DefaultRun}
			}
			cfg, err := loadConfig(args, g.overrides(cmd))
			if err != nil {
				return err
			}
			res, err := experiment.Run(cfg, experiment.Options{Trace: trace != ""})
			if err != nil {
				return err
			}
			dir, err := res.WriteDir(outDir)
			if err != nil {
				return err
			}
			if trace != "" {
				if err := res.WriteTrace(trace); err != nil {
					return err
				}
			}
			if !quiet {
				res.WriteSummary(cmd.OutOrStdout())
				fmt.Fprintf(cmd.OutOrStdout(), "\nresults: %s\n", dir)
				if trace != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "trace:   %s (open in https://ui.perfetto.dev)\n", trace)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&outDir, "out", "o", "out", "directory that receives the run directory")
	cmd.Flags().StringVar(&trace, "trace", "", "write a Chrome/Perfetto trace-event JSON file of component activity")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing on success")
	return cmd
}

func loadConfig(args []string, sets []string) (configs.Config, error) {
	src := ""
	if len(args) == 1 {
		src = args[0]
	}
	return configs.Load(src, sets)
}

func newConfigCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print, validate and list configurations",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "dump [CONFIG]",
		Short: "Print the effective configuration, with every parameter documented",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(args, g.overrides(cmd))
			if err != nil {
				return err
			}
			return configs.Dump(cmd.OutOrStdout(), cfg)
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "validate CONFIG...",
		Short: "Check configurations strictly (unknown keys, types, ranges)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := 0
			for _, a := range args {
				if _, err := configs.Load(a, g.overrides(cmd)); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
					bad++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", a)
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d configurations are invalid", bad, len(args))
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List the embedded configurations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, n := range configs.Embedded() {
				fmt.Fprintln(cmd.OutOrStdout(), n)
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "write NAME FILE",
		Short: "Copy an embedded configuration to FILE as a starting point",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := configs.EmbeddedFile(args[0])
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(args[1]), 0o755); err != nil {
				return err
			}
			return experiment.WriteFileAtomic(args[1], data)
		},
	})
	return cmd
}
