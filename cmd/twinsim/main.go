// Command twinsim is the command line of the twinsim simulator: it runs
// scenarios from TOML configurations, runs sweeps and draws figures, runs
// RV64 Linux programs through the binary translator, and prints, dumps and
// validates configurations. Run `twinsim help` for the commands.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd(os.Stdout, os.Stderr).Execute(); err != nil {
		var ue usageError
		var ee exitError
		var ge guestExit
		if errors.As(err, &ge) {
			os.Exit(ge.code) // the guest's own status; it has said what it had to
		}
		fmt.Fprintln(os.Stderr, "twinsim:", err)
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(1)
	}
}
