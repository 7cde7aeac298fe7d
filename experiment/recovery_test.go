package experiment

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/configs"
)

// appFailure is configs/app-failure.toml with sets applied.
func appFailure(t testing.TB, sets ...string) configs.Config {
	t.Helper()
	cfg, err := configs.Load("app-failure", sets)
	require.NoError(t, err)
	return cfg
}

// recoveryChecks are what must hold in every rollback run: the clients'
// records agree with every answer (no update they saw acknowledged is
// lost, whatever was rolled back and re-executed), output left only once
// its state was on the secondary, and the secondary's image equalled the
// primary's at every acknowledged checkpoint.
func recoveryChecks(t require.TestingT, r *Result, what string) {
	requireZero(t, r, what, "clients.c0.kv.mismatches", "clients.c1.kv.mismatches",
		"network.output_commit.violations", "host0.backup.image_mismatches")
}

// TestRecoveryByBug: each input-triggered bug of kvserver, and what
// recovers from it — as the bugs are built, and as Rx found for such bugs:
// leaving out the request recovers from the overflow and the NULL
// dereference; padding the allocator from the overflow but not from the
// NULL dereference; more memory from the leak, and leaving out the
// request does not; plain rollback from none, as the failure comes back
// deterministically.
func TestRecoveryByBug(t *testing.T) {
	for _, c := range []struct {
		bug, policy string
		recovers    bool
	}{
		{"overflow", `["drop-request"]`, true},
		{"overflow", `["pad-allocator"]`, true},
		{"overflow", `["none", "none", "none"]`, false},
		{"null", `["drop-request"]`, true},
		{"null", `["pad-allocator", "more-memory"]`, false},
		{"leak", `["more-memory"]`, true},
		{"leak", `["drop-request", "reorder-inputs", "flush"]`, false},
	} {
		t.Run(c.bug+c.policy, func(t *testing.T) {
			t.Parallel()
			sets := []string{"run.duration=200ms", fmt.Sprintf(`vm[0].program="kvserver -b %s 7000"`, c.bug),
				fmt.Sprintf(`client[1].kv.poison_kind="%s"`, c.bug), "recovery.policy=" + c.policy, "client[1].kv.poison=0.02"}
			if c.bug == "leak" {
				sets = append(sets, "vm[0].memory_limit=10MiB", "client[1].kv.poison=0.5")
			}
			r, err := Run(appFailure(t, sets...), Options{})
			require.NoError(t, err)
			recoveryChecks(t, r, c.bug)
			rec := r.scen.(*haNIC).rec
			var out strings.Builder
			rec.summary(&out)
			require.Positive(t, rec.failures.Value(), out.String())
			if c.recovers {
				// Every failure recovered (the last may still be in its
				// window when the run ends).
				require.GreaterOrEqual(t, rec.recovered.Value()+1, rec.failures.Value(), out.String())
				require.Positive(t, rec.recovered.Value(), out.String())
				require.Zero(t, rec.gaveUp.Value(), out.String())
			} else {
				require.Positive(t, rec.gaveUp.Value(), out.String())
				require.Zero(t, rec.recovered.Value(), out.String())
			}
			if strings.Contains(c.policy, "drop-request") && c.bug != "leak" {
				require.Positive(t, rec.dropped.Value())
			}
		})
	}
}

// TestRecoveryRestart: restarting the program afresh survives the crash
// but loses the store: the clients' reads of keys written before find
// them gone.
func TestRecoveryRestart(t *testing.T) {
	r, err := Run(appFailure(t, "run.duration=200ms", `recovery.mode="restart"`, "client[1].kv.poison=0.02"), Options{})
	require.NoError(t, err)
	rec := r.scen.(*haNIC).rec
	require.Positive(t, rec.recovered.Value())
	require.Zero(t, rec.replayed.Value())
	require.Positive(t, runStat(t, r, "clients.c0.kv", "mismatches"), "the state was lost")
}

// TestRecoveryWatchdogAndExitStatus: a guest that makes no system call for
// the watchdog's while has hung; one that exits with a listed status has
// failed; plain rollback cannot help either, and the recovery gives up.
func TestRecoveryWatchdogAndExitStatus(t *testing.T) {
	for _, c := range []struct {
		program, why string
		sets         []string
	}{
		{"sieve", "hung", []string{"recovery.watchdog=200us"}},
		{"printf", "exited with status 0", []string{"recovery.exit_statuses=[0]"}},
	} {
		sets := append([]string{"run.duration=100ms", `vm[0].program="` + c.program + `"`, `recovery.policy=["none", "none"]`,
			"client[1].kv.poison=0", "backup.interval=500us"}, c.sets...)
		cfg := appFailure(t, sets...)
		cfg.Clients = nil
		r, err := Run(cfg, Options{})
		require.NoError(t, err)
		rec := r.scen.(*haNIC).rec
		var out strings.Builder
		rec.summary(&out)
		require.Contains(t, out.String(), c.why, c.program)
		require.Equal(t, uint64(2), rec.attempts.Value(), out.String())
		require.Equal(t, uint64(1), rec.gaveUp.Value(), out.String())
	}
}

// TestRecoveryDeterministic: a run with failures and recoveries gives
// byte-identical files.
func TestRecoveryDeterministic(t *testing.T) {
	requireSameRuns(t, appFailure(t, "run.duration=120ms", "client[1].kv.poison=0.05"), func(r *Result) {
		require.Positive(t, r.scen.(*haNIC).rec.attempts.Value())
	})
}

// TestRecoveryTransientFault: an application fault injected from outside
// (an app-crash: the guest killed by a signal) does not come back when
// the inputs are re-executed, so plain rollback recovers it, with every
// answer as the clients' records say.
func TestRecoveryTransientFault(t *testing.T) {
	r, err := Run(appFailure(t, "run.duration=150ms", "client[1].kv.poison=0", `recovery.policy=["none"]`,
		`fault[0].kind="app-crash"`, `fault[0].vm="kv"`, "fault[0].at=50ms"), Options{})
	require.NoError(t, err)
	recoveryChecks(t, r, "app-crash")
	rec := r.scen.(*haNIC).rec
	require.Equal(t, uint64(1), rec.failures.Value())
	require.Equal(t, uint64(1), rec.recovered.Value())
	require.Contains(t, rec.timeline[0].what, "vm kv fails: killed by SIGSEGV")
}
