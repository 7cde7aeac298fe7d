package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/twinsim/twinsim/experiment"
	"github.com/twinsim/twinsim/figures"
)

func newFiguresCmd() *cobra.Command {
	var out string
	var full, list bool
	var jobs int
	cmd := &cobra.Command{
		Use:   "figures [NAME...]",
		Short: "Regenerate the figures (PNG, SVG and the CSV behind each) from their sweeps",
		Long: `Regenerate figures. Each figure is a named sweep (configs/sweeps) plus a
plot; the command runs the sweep — reusing points already complete under
OUT/sweeps/ — and writes OUT/<name>.png, .svg and .csv (the plotted
numbers), and OUT/index.md with every figure's caption and the commands
that reproduce it. Without --full the sweeps' quick variants run (all
figures in a few minutes on two cores); --full runs the full sweeps and
draws at print resolution. Without NAME every figure is made.

Figures: ` + strings.Join(figures.Names(), ", "),
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				for _, n := range figures.Names() {
					f, _ := figures.Lookup(n)
					fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s (sweep %s)\n", n, f.Title, f.Sweep)
				}
				return nil
			}
			for _, a := range args {
				if _, err := figures.Lookup(a); err != nil {
					return usageError{err}
				}
			}
			if jobs < 0 {
				return usageError{fmt.Errorf("-j %d is not allowed; must be 0 (all CPUs) or more", jobs)}
			}
			begin := time.Now()
			outs, err := figures.Generate(args, figures.Options{Out: out, Full: full, Jobs: jobs,
				Progress: func(label string) experiment.Progress { return newProgress(cmd.ErrOrStderr(), label) },
				Log: func(format string, a ...any) {
					fmt.Fprintf(cmd.OutOrStdout(), format+"\n", a...)
				}})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d figures in %.1fs; index: %s\n", len(outs), time.Since(begin).Seconds(),
				filepath.Join(out, "index.md"))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "figures-out", "output directory")
	cmd.Flags().BoolVar(&full, "full", false, "full sweeps at publication resolution")
	cmd.Flags().BoolVar(&list, "list", false, "list the figures")
	cmd.Flags().IntVarP(&jobs, "jobs", "j", 0, "sweep points to run in parallel (0: every CPU)")
	return cmd
}
