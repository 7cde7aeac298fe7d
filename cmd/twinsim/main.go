// Command twinsim is the command line of the twinsim simulator: it runs
// scenarios from TOML configurations, and prints, dumps and validates
// configurations. Run `twinsim help` for the commands.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd(os.Stdout, os.Stderr).Execute(); err != nil {
		var ue usageError
		fmt.Fprintln(os.Stderr, "twinsim:", err)
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
