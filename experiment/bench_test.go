package experiment

import (
	"testing"

	"github.com/twinsim/twinsim/configs"
)

// BenchmarkBackupScenario runs the default scenario for 5 ms of simulated
// time per iteration and reports memory operations simulated per wall second.
func BenchmarkBackupScenario(b *testing.B) {
	cfg, err := configs.Load("default", []string{"run.duration=5ms"})
	if err != nil {
		b.Fatal(err)
	}
	var ops float64
	for b.Loop() {
		res, err := Run(cfg, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for c := range cfg.Host.Cores {
			v, _ := res.Env.Stats.Lookup("host0.core"+string(rune('0'+c))+".vcpu", "ops")
			ops += v
		}
	}
	b.ReportMetric(ops/b.Elapsed().Seconds()/1e6, "Mops/s")
}
