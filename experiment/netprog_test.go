package experiment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/nic"
	"github.com/twinsim/twinsim/sim"
	"github.com/twinsim/twinsim/workloads"
)

// kvMachine is an ha-nic host with a backed-up kvserver VM, a kvclient VM
// talking to it through the switch and an external kv client.
func kvMachine(t *testing.T, sets ...string) configs.Config {
	t.Helper()
	base := []string{"run.duration=400ms", "backup.interval=1ms", "ha.verify=true"}
	cfg, err := configs.Load("ha-nic", append(base, sets...))
	require.NoError(t, err)
	server, client := configs.DefaultVM(), configs.DefaultVM()
	server.Name, server.Role, server.Program, server.Memory, server.Cores = "kv", "program", "kvserver 7000", 64*configs.MiB, []int{0}
	client.Name, client.Role, client.Program, client.Memory, client.Cores = "kvc", "program", "kvclient 10.0.0.1 7000 300 5",
		64*configs.MiB, []int{1}
	client.BackedUp = false
	cfg.VMs = []configs.VMConfig{server, client}
	c := configs.DefaultClient()
	c.Name, c.VM, c.Protocol, c.Mode, c.Outstanding = "c0", "kv", "kv", "closed", 4
	cfg.Clients = []configs.ClientConfig{c}
	require.NoError(t, cfg.Validate())
	return cfg
}

// TestProgramsOnTheNetwork: a kvclient VM and an external client talk to
// a checkpointed kvserver VM through the adapter and the switch. The
// kvclient prints what it prints against kvserver under qemu-riscv64;
// the external client finds every answer as its record of the store says;
// no response leaves before the state it reflects is on the secondary;
// the backup image equals the primary's at every acknowledged checkpoint.
// Without output buffering, responses leave early — the check can fail.
func TestProgramsOnTheNetwork(t *testing.T) {
	r, err := Run(kvMachine(t), Options{})
	require.NoError(t, err)
	s := r.scen.(*haNIC)
	want, err := os.ReadFile("../workloads/expected/kv-300.client.out")
	require.NoError(t, err)
	kvc := s.programs[1]
	require.True(t, kvc.exited)
	require.Equal(t, string(want), kvc.stdout.String())
	require.Positive(t, runStat(t, r, "clients.c0", "responses"))
	require.Zero(t, runStat(t, r, "clients.c0.kv", "mismatches"))
	require.Zero(t, runStat(t, r, "clients.c0.kv", "malformed"))
	require.Positive(t, runStat(t, r, "host0.vm.kv.net", "wakeups"))
	require.Positive(t, runStat(t, r, "network.output_commit", "checked"))
	require.Zero(t, runStat(t, r, "network.output_commit", "violations"))
	require.Zero(t, runStat(t, r, "host0.backup", "image_mismatches"))
	require.Positive(t, runStat(t, r, "host0.backup", "commits"))
	// Every response waited for its epoch's commit: at least the time to
	// the epoch's end after the request arrived, half an interval on
	// average, plus the commit delay.
	require.Greater(t, runStat(t, r, "clients.c0", "latency.mean"), float64(500*sim.Microsecond))

	none, err := Run(kvMachine(t, `nic.buffering="none"`), Options{})
	require.NoError(t, err)
	require.Positive(t, runStat(t, none, "network.output_commit", "violations"))
	require.Less(t, runStat(t, none, "clients.c0", "latency.mean"), runStat(t, r, "clients.c0", "latency.mean")/4)
}

// garbage is a client payload of malformed requests: frames that are not
// IPv4/UDP, datagrams to the wrong port, and key-value requests whose
// fields disagree.
type garbage struct {
	n       int
	answers int
}

func (g *garbage) Request(tag uint64) []byte {
	g.n++
	ok := nic.Datagram{Src: ipClients + 2, Dst: ipVMs + 1, SPort: 40001, DPort: 7000} // client 1's address
	switch g.n % 5 {
	case 0:
		return []byte{1, 2, 3} // not IPv4
	case 1:
		b := ok.Encode()
		b[12] ^= 0xff // a bad header checksum
		return b
	case 2:
		ok.Data = []byte{byte(tag), 0, 0, 0, 2, 200, 0, 0} // key length 200
		return ok.Encode()
	case 3:
		ok.Data = []byte{byte(tag)} // shorter than an id
		return ok.Encode()
	}
	ok.DPort = 7001 // nobody listens
	return ok.Encode()
}

// Response counts the server's BAD_REQUEST answers; none matches a
// request (the client sends without waiting).
func (g *garbage) Response(data []byte) (uint64, bool) {
	if d, err := nic.DecodeDatagram(data); err == nil && len(d.Data) == 8 && d.Data[4] == workloads.KVBadRequest {
		g.answers++
	}
	return 0, false
}

// TestMalformedTraffic: frames and requests a server must survive reach
// the kvserver VM without harming the simulator; the guest answers the
// well-formed datagrams with BAD_REQUEST, its driver drops what is not
// IPv4/UDP for it, and it keeps serving the well-behaved client.
func TestMalformedTraffic(t *testing.T) {
	cfg := kvMachine(t, "run.duration=100ms")
	bad := cfg.Clients[0]
	bad.Name, bad.Protocol, bad.Mode, bad.Rate = "bad", "kv", "open", 2000
	cfg.Clients = append(cfg.Clients, bad)
	g := &garbage{}
	r, err := run(cfg, Options{}, func(s scenario) { s.(*haNIC).clients[1].SetPayload(g) })
	require.NoError(t, err)
	require.Positive(t, runStat(t, r, "host0.vm.kv.net", "malformed"), "bad frames dropped by the driver")
	// Two in five of its frames are well-formed datagrams with bad requests.
	require.InDelta(t, float64(g.n)*2/5, float64(g.answers), float64(g.n)/10+2, "BAD_REQUEST answers")
	require.Positive(t, runStat(t, r, "clients.c0", "responses"))
	require.Zero(t, runStat(t, r, "clients.c0.kv", "mismatches"))
	require.False(t, r.scen.(*haNIC).programs[0].exited, "the server still runs")
}

// TestMachineDeterministic: the machine (twinsim run's default) written
// twice with one seed gives byte-identical files, the VMs' outputs
// included.
func TestMachineDeterministic(t *testing.T) {
	cfg := func() configs.Config {
		c, err := configs.Load(configs.DefaultRun, []string{"run.duration=30ms"})
		require.NoError(t, err)
		return c
	}
	a := runTo(t, cfg(), t.TempDir())
	b := runTo(t, cfg(), t.TempDir())
	files := []string{"config.toml", "stats.json", "stats.csv", "series-host0.backup.per_checkpoint.csv"}
	for _, vm := range []string{"kv", "compute", "kvc"} {
		files = append(files, "vm-"+vm+".stdout", "vm-"+vm+".stderr")
	}
	for _, f := range files {
		da, err := os.ReadFile(filepath.Join(a, f))
		require.NoError(t, err)
		db, err := os.ReadFile(filepath.Join(b, f))
		require.NoError(t, err)
		require.Equal(t, string(da), string(db), f)
	}
}
