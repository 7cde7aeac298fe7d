package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/experiment"
)

// exitError carries a specific exit status (3: some sweep points failed).
type exitError struct {
	error
	code int
}

// bar is a progress bar on a terminal: points done, rate, ETA and failures.
type bar struct {
	w      io.Writer
	label  string
	pb     *progressbar.ProgressBar
	failed int
}

// newProgress returns a progress display on w when w is a terminal, and
// nil (no display) otherwise.
func newProgress(w io.Writer, label string) experiment.Progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &bar{w: w, label: label, pb: progressbar.NewOptions(0,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(label),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("points"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionFullWidth(),
		progressbar.OptionClearOnFinish(),
	)}
}

func (b *bar) Start(total int) { b.pb.ChangeMax(total) }

func (b *bar) Done(failed bool) {
	if failed {
		b.failed++
		b.pb.Describe(fmt.Sprintf("%s (%d failed)", b.label, b.failed))
	}
	_ = b.pb.Add(1)
}

func (b *bar) Finish() { _ = b.pb.Finish() }

func newSweepCmd(g *globals) *cobra.Command {
	var out, shard string
	var jobs int
	var resume, quick bool
	cmd := &cobra.Command{
		Use:   "sweep FILE",
		Short: "Run a parameter sweep: every combination of its axes, for every seed",
		Long: `Run a sweep. FILE is a sweep TOML file or the name of an embedded sweep
(see 'twinsim sweep --list'). Points run in parallel, each in its own
engine; each point's run directory is written atomically under
OUT/points/, then OUT/results.csv (one row per point) and OUT/summary.csv
(mean, standard deviation and 95% confidence interval over seeds).

An interrupted sweep is completed by running the same command with
--resume: finished points are kept, the rest run. --shard k/n runs one
deterministic slice of the points (for a cluster job array); 'twinsim
merge' joins the slices. A point that fails (an invalid combination of
values, a run error) is recorded in results.csv with its error; the exit
status is then 3.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if list, _ := cmd.Flags().GetBool("list"); list {
				return usage(cobra.NoArgs(cmd, args))
			}
			return usage(cobra.ExactArgs(1)(cmd, args))
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// -o is checked here, not marked required, so that --list runs
			// without it and a missing -o is a usage error (exit status 2).
			if list, _ := cmd.Flags().GetBool("list"); list {
				if out != "" {
					return usageError{fmt.Errorf("--list takes no -o")}
				}
				for _, n := range configs.EmbeddedSweeps() {
					fmt.Fprintln(cmd.OutOrStdout(), n)
				}
				return nil
			}
			if out == "" {
				return usageError{fmt.Errorf("-o OUT is required: the sweep's output directory")}
			}
			if cmd.Flags().Changed("seed") {
				return usageError{fmt.Errorf("a sweep sets its seeds in its file (sweep.seeds); --seed does not apply")}
			}
			sh := experiment.Shard{}
			if shard != "" {
				var err error
				if sh, err = experiment.ParseShard(shard); err != nil {
					return usageError{err}
				}
			}
			if jobs < 0 {
				return usageError{fmt.Errorf("-j %d is not allowed; must be 0 (all CPUs) or more", jobs)}
			}
			s, err := experiment.LoadSweep(args[0], quick, g.sets)
			if err != nil {
				return err
			}
			begin := time.Now()
			rep, err := experiment.RunSweep(s, experiment.SweepOptions{Out: out, Jobs: jobs, Shard: sh, Resume: resume,
				Progress: newProgress(cmd.ErrOrStderr(), s.Name)})
			if err != nil {
				return err
			}
			return reportSweep(cmd.OutOrStdout(), out, rep, time.Since(begin))
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "sweep output directory (required)")
	cmd.Flags().IntVarP(&jobs, "jobs", "j", runtime.NumCPU(), "points to run in parallel")
	cmd.Flags().StringVar(&shard, "shard", "", "run only slice k of n, as k/n")
	cmd.Flags().BoolVar(&resume, "resume", false, "complete an interrupted sweep in OUT")
	cmd.Flags().BoolVar(&quick, "quick", false, "run the sweep's smaller [sweep.quick] variant")
	cmd.Flags().Bool("list", false, "list the embedded sweeps")
	return cmd
}

// usage marks an argument-count error from cobra as a usage error.
func usage(err error) error {
	if err != nil {
		return usageError{err}
	}
	return nil
}

func reportSweep(w io.Writer, out string, rep experiment.SweepReport, wall time.Duration) error {
	fmt.Fprintf(w, "%d points: %d run now, %d already done, %d failed (%.1fs)\n",
		rep.Points, rep.Ran, rep.Skipped, rep.Failed, wall.Seconds())
	fmt.Fprintf(w, "results: %s/results.csv\n", out)
	if rep.Summary {
		fmt.Fprintf(w, "summary: %s/summary.csv\n", out)
	} else {
		fmt.Fprintf(w, "summary: not written; the directory does not hold every point (merge the shards with 'twinsim merge')\n")
	}
	if rep.Failed > 0 {
		return exitError{fmt.Errorf("%d of %d points failed; their errors are in results.csv", rep.Failed, rep.Points), 3}
	}
	return nil
}

func newMergeCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge DIR... -o OUT",
		Short: "Join the output directories of sweep shards into one",
		Long: `Merge sweep directories — the shards of one sweep run with --shard k/n,
possibly on different machines — into OUT. The result is what one
unsharded run writes: the same point directories, results.csv and
summary.csv, byte for byte (meta.json files keep each run's wall time and
host). Every point must be in some input.`,
		Args: func(cmd *cobra.Command, args []string) error { return usage(cobra.MinimumNArgs(1)(cmd, args)) },
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usageError{fmt.Errorf("-o OUT is required: the merged output directory")}
			}
			begin := time.Now()
			rep, err := experiment.MergeSweeps(out, args)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "merged %d inputs: ", len(args))
			rep.Skipped += rep.Ran
			rep.Ran = 0
			return reportSweep(cmd.OutOrStdout(), out, rep, time.Since(begin))
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "merged output directory (required)")
	return cmd
}
