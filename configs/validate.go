package configs

import (
	"fmt"
	"math"
	"math/bits"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Validate checks every range and enum declared in the schema's tags, then
// the rules that involve several keys, and returns every violation (joined
// with errors.Join, one per line, tag checks first in schema order, then
// rules in schema order), or nil. Each violation is a *FieldError with the
// key path, such as "cache.l2.ways: 0 is not allowed; must be 1..64". A rule
// that depends on a key that is itself invalid is skipped, so one mistake
// gives one error.
func (c Config) Validate() error { return joinErrors(c.validate()) }

type validator struct {
	errs []*FieldError
	bad  map[string]bool
}

func (v *validator) fail(path, format string, args ...any) {
	v.bad[path] = true
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// ok reports whether none of paths has failed a check.
func (v *validator) ok(paths ...string) bool {
	for _, p := range paths {
		if v.bad[p] {
			return false
		}
	}
	return true
}

func (c Config) validate() []*FieldError {
	v := &validator{bad: map[string]bool{}}
	v.tags(reflect.ValueOf(c), "")
	v.rules(c)
	return v.errs
}

// tags checks the range and enum tags of every field under the struct val.
func (v *validator) tags(val reflect.Value, path string) {
	t := val.Type()
	for i := range t.NumField() {
		sf, f := t.Field(i), val.Field(i)
		p := joinPath(path, keyName(sf))
		switch {
		case f.Kind() == reflect.Struct:
			v.tags(f, p)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
			for j := range f.Len() {
				v.tags(f.Index(j), fmt.Sprintf("%s[%d]", p, j))
			}
		default:
			if r := sf.Tag.Get("range"); r != "" {
				v.checkRange(f, r, p)
			}
			if e := sf.Tag.Get("enum"); e != "" {
				v.checkEnum(f, e, p)
			}
		}
	}
}

func (v *validator) checkRange(f reflect.Value, tag, path string) {
	loText, hiText, _ := strings.Cut(tag, "..")
	lo, err1 := bound(f.Type(), loText)
	hi, err2 := bound(f.Type(), hiText)
	if err1 != nil || err2 != nil {
		v.fail(path, "internal error: bad range tag %q", tag)
		return
	}
	var in bool
	switch f.Kind() {
	case reflect.Int, reflect.Int64:
		in = lo.Int() <= f.Int() && f.Int() <= hi.Int()
	case reflect.Uint64:
		in = lo.Uint() <= f.Uint() && f.Uint() <= hi.Uint()
	case reflect.Float64:
		in = lo.Float() <= f.Float() && f.Float() <= hi.Float() // false for NaN
	default:
		v.fail(path, "internal error: range tag on a %s field", f.Type())
		return
	}
	if !in {
		v.fail(path, "%s is not allowed; must be %s", show(f), tag)
	}
}

func (v *validator) checkEnum(f reflect.Value, tag, path string) {
	opts := strings.Split(tag, ",")
	for _, o := range opts {
		ov, err := bound(f.Type(), o)
		if err != nil {
			v.fail(path, "internal error: bad enum tag %q", tag)
			return
		}
		if ov.Interface() == f.Interface() {
			return
		}
	}
	v.fail(path, "%s is not allowed; must be one of %s", show(f), strings.Join(opts, ", "))
}

// bound parses a range or enum tag's text as a value of type t, with the
// same rules as an override's value.
func bound(t reflect.Type, text string) (reflect.Value, error) {
	nv := reflect.New(t).Elem()
	d := &decoder{}
	d.value(parseValue(text), nv, reflect.StructField{}, "")
	if len(d.errs) > 0 {
		return nv, d.errs[0]
	}
	return nv, nil
}

// show formats a typed value for messages: units in human form, strings
// quoted.
func show(f reflect.Value) string {
	if s, ok := f.Interface().(fmt.Stringer); ok {
		return s.String()
	}
	switch f.Kind() {
	case reflect.String:
		return tomlString(f.String())
	case reflect.Float64:
		return tomlFloat(f.Float())
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(f.Int(), 10)
	case reflect.Uint64:
		return strconv.FormatUint(f.Uint(), 10)
	case reflect.Bool:
		return strconv.FormatBool(f.Bool())
	case reflect.Slice:
		parts := make([]string, f.Len())
		for i := range parts {
			parts[i] = show(f.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(f.Interface())
}

var nameRE = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)

const nameRule = "1..40 characters from a-z, 0-9, _ and -"

func isPow2(x uint64) bool { return x != 0 && x&(x-1) == 0 }

// uniqueName checks the name of element i of table array kind: its
// characters, and that no earlier element in names has it.
func (v *validator) uniqueName(path, kind, name string, i int, names map[string]int) {
	if !nameRE.MatchString(name) {
		v.fail(path, "%s is not allowed; must be %s", tomlString(name), nameRule)
	} else if j, dup := names[name]; dup {
		v.fail(path, "%s is not allowed; %s[%d] already has that name (names must be unique)", tomlString(name), kind, j)
	} else {
		names[name] = i
	}
}

// rules checks the constraints that the tags cannot express.
func (v *validator) rules(c Config) {
	if !nameRE.MatchString(c.Run.Name) {
		v.fail("run.name", "%s is not allowed; must be %s", tomlString(c.Run.Name), nameRule)
	}
	if v.ok("host.memory", "host.page_size") && c.Host.Memory%c.Host.PageSize != 0 {
		v.fail("host.memory", "%s is not allowed; must be a multiple of host.page_size (%s)", c.Host.Memory, c.Host.PageSize)
	}
	if v.ok("tlb.entries", "tlb.ways") && c.TLB.Entries%c.TLB.Ways != 0 {
		v.fail("tlb.entries", "%d is not allowed; must be a multiple of tlb.ways (%d)", c.TLB.Entries, c.TLB.Ways)
	}
	for _, w := range []struct {
		key string
		v   int
	}{{"rob_size", c.Core.ROB}, {"load_queue", c.Core.LoadQueue}, {"store_queue", c.Core.StoreQueue}, {"rename_regs", c.Core.RenameRegs}, {"issue_queue", c.Core.IssueQueue}} {
		if p := "core." + w.key; v.ok("core.width", p) && w.v < c.Core.Width {
			v.fail(p, "%d is not allowed; must be at least core.width (%d)", w.v, c.Core.Width)
		}
	}
	if c.Run.Scenario == "exec" && strings.TrimSpace(c.Exec.Command) == "" {
		v.fail("exec.command", "\"\" is not allowed; run.scenario is exec, so a program to run is needed")
	}
	if v.ok("exec.copies", "host.cores") && c.Exec.Copies > c.Host.Cores {
		v.fail("exec.copies", "%d is not allowed; must be at most host.cores (%d)", c.Exec.Copies, c.Host.Cores)
	}
	v.cacheRules(c)

	line, lineOK := c.Cache.LineSize, v.ok("cache.line_size")
	if il := c.DRAM.Interleave; !isPow2(uint64(il)) || il > GiB || (lineOK && il < line) {
		v.fail("dram.interleave", "%s is not allowed; must be a power of two, cache.line_size (%s)..1GiB", il, line)
	}

	b := c.Backup
	if lineOK && v.ok("backup.log_size") && b.LogSize%line != 0 {
		v.fail("backup.log_size", "%s is not allowed; must be a multiple of cache.line_size (%s)", b.LogSize, line)
	}
	if v.ok("backup.log_size") {
		if maxGuard := int64(b.LogSize/8) - 1; b.GuardEntries < 0 || int64(b.GuardEntries) > maxGuard {
			v.fail("backup.guard_entries", "%d is not allowed; must be 0..%d (log_size/8 - 1)", b.GuardEntries, maxGuard)
		}
	} else if b.GuardEntries < 0 {
		v.fail("backup.guard_entries", "%d is not allowed; must be 0..log_size/8 - 1", b.GuardEntries)
	}

	if c.Run.Scenario != "exec" { // the exec scenario runs no VMs
		v.vmRules(c)
	}
	v.nicRules(c)
	v.faultRules(c)
	v.recoveryRules(c)
}

// recoveryRules checks [recovery] and the VMs' memory limits.
func (v *validator) recoveryRules(c Config) {
	for i, vm := range c.VMs {
		switch p := fmt.Sprintf("vm[%d].memory_limit", i); {
		case vm.MemoryLimit%(64*KiB) != 0:
			v.fail(p, "%s is not allowed; the image is handed out in 64 KiB frames, so the limit must be a multiple of 64KiB (0B: no limit)", vm.MemoryLimit)
		case vm.MemoryLimit > vm.Memory && v.ok(fmt.Sprintf("vm[%d].memory", i)):
			v.fail(p, "%s is not allowed; must be at most vm.memory (%s)", vm.MemoryLimit, vm.Memory)
		case vm.MemoryLimit != 0 && vm.Role != "program":
			v.fail(p, "%s is not allowed; only a program VM's guest has a memory limit", vm.MemoryLimit)
		}
	}
	r := c.Recovery
	if n := len(r.Policy); n < 1 || n > 16 {
		v.fail("recovery.policy", "%d entries are not allowed; must be 1..16", n)
	}
	for i, ch := range r.Policy {
		if !slices.Contains(RecoveryChanges, ch) {
			v.fail(fmt.Sprintf("recovery.policy[%d]", i), "%s is not allowed; must be one of %s", tomlString(ch), strings.Join(RecoveryChanges, ", "))
		}
	}
	for i, st := range r.ExitStatuses {
		if st < 0 || st > 255 {
			v.fail(fmt.Sprintf("recovery.exit_statuses[%d]", i), "%d is not allowed; must be 0..255", st)
		}
	}
	if !r.Enabled {
		return
	}
	switch {
	case c.Run.Scenario != "ha-nic":
		v.fail("recovery.enabled", "true is not allowed; recovery runs in run.scenario = \"ha-nic\" (this one is %s)", tomlString(c.Run.Scenario))
	case c.HA.Failover:
		v.fail("recovery.enabled", "true is not allowed with ha.failover; recovery from application failures and host failover are not modelled together")
	case !c.Backup.Enabled:
		v.fail("recovery.enabled", "true is not allowed with backup.enabled = false; recovery rolls back to checkpoints")
	}
	recoverable := false
	for _, vm := range c.VMs {
		recoverable = recoverable || vm.BackedUp && vm.Role == "program" && vm.VF
	}
	if !recoverable && c.Run.Scenario == "ha-nic" {
		v.fail("recovery.enabled", "true is not allowed; no VM is a backed-up program VM with a virtual function, which is what recovery watches")
	}
}

// faultRules checks the injected faults and what failover needs.
func (v *validator) faultRules(c Config) {
	ha := c.Run.Scenario == "ha-nic"
	for i, f := range c.Faults {
		p := fmt.Sprintf("fault[%d]", i)
		switch {
		case !ha && v.ok(p+".kind"):
			v.fail(p+".kind", "%s is not allowed; faults are injected in run.scenario = \"ha-nic\" (this one is %s)", tomlString(f.Kind), tomlString(c.Run.Scenario))
		case !ha:
		case f.At > 0 && f.Within > 0:
			v.fail(p+".within", "%s is not allowed with at = %s; a fault has a fixed time (at) or a drawn one (after and within), not both", f.Within, f.At)
		case f.At == 0 && f.Within == 0:
			v.fail(p+".at", "0s is not allowed without within; give the fault a time (at), or a window to draw it from (after and within)")
		case v.ok("run.duration") && f.At >= c.Run.Duration:
			v.fail(p+".at", "%s is not allowed; must be before the end of the run (run.duration = %s)", f.At, c.Run.Duration)
		case v.ok("run.duration") && f.At == 0 && f.After+f.Within > c.Run.Duration:
			v.fail(p+".within", "%s is not allowed; after + within (%s) must end by the end of the run (run.duration = %s)", f.Within, f.After+f.Within, c.Run.Duration)
		}
		switch {
		case f.Kind == "app-crash" && !programNamed(c, f.VM):
			v.fail(p+".vm", "%s is not allowed; an app-crash names the program VM ([[vm]] with role \"program\") whose guest it kills", tomlString(f.VM))
		case f.Kind != "app-crash" && f.VM != "":
			v.fail(p+".vm", "%s is not allowed; only an app-crash names a VM", tomlString(f.VM))
		}
		if f.Host == "spare" && (!c.HA.Failover || c.HA.AfterFailover != "spare") && v.ok(p+".host") {
			v.fail(p+".host", "\"spare\" is not allowed; there is a spare host (host2) only with ha.failover and ha.after_failover = \"spare\"")
		}
		if f.Kind == "nic-reset" && ha {
			switch {
			case f.Duration == 0:
				v.fail(p+".duration", "0s is not allowed for a nic-reset; give the time the reset takes (the adapter neither sends nor receives meanwhile)")
			case c.HA.Transport == "network" && c.Backup.Enabled && v.ok("ha.transport"):
				v.fail(p+".kind", "\"nic-reset\" is not allowed with ha.transport = \"network\"; the checkpoints would cross the reset adapter, and twinsim's checkpoint stream does not resend what a reset loses")
			}
		}
		if f.Kind == "link-loss" && f.Host != "primary" && v.ok(p+".host") {
			v.fail(p+".host", "%s is not allowed; a link-loss cuts the replication path between the hosts, which belongs to neither", tomlString(f.Host))
		}
		if f.Kind == "link-loss" && ha && c.HA.Transport != "dedicated" && v.ok("ha.transport") {
			v.fail(p+".kind", "\"link-loss\" is not allowed with ha.transport = %s; a link loss cuts the dedicated replication link (over the network, make it a partition)", tomlString(c.HA.Transport))
		}
		if ha && (!c.Backup.Enabled || !anyBackedUp(c)) && f.Kind == "link-loss" {
			v.fail(p+".kind", "\"link-loss\" is not allowed; with no backed-up VM (backup.enabled, vm.backed_up) there is no replication path to cut")
		}
	}
	if !c.HA.Failover || !ha {
		return
	}
	if !c.Backup.Enabled || !anyBackedUp(c) {
		v.fail("ha.failover", "true is not allowed; failover activates backed-up VMs on the secondary, and there are none (backup.enabled, vm.backed_up)")
	}
	if rtt := 2 * (c.NIC.Latency + c.Network.SwitchLatency); c.HA.ClaimTimeout <= rtt && v.ok("ha.claim_timeout", "nic.latency", "network.switch_latency") {
		v.fail("ha.claim_timeout", "%s is not allowed; a claim's answer takes 2 × (nic.latency + network.switch_latency) = %s to come back, so the timeout must be longer", c.HA.ClaimTimeout, rtt)
	}
	for i, vm := range c.VMs {
		if vm.BackedUp && c.Backup.Enabled && vm.Role != "program" && v.ok(fmt.Sprintf("vm[%d].role", i)) {
			v.fail(fmt.Sprintf("vm[%d].backed_up", i), "true is not allowed with ha.failover; vm %s has role %s, and only program VMs (a guest program whose checkpoints carry its whole state) can be activated on the secondary",
				vm.Name, tomlString(vm.Role))
		}
	}
}

// programNamed reports whether a program VM is called name.
func programNamed(c Config, name string) bool {
	for _, vm := range c.VMs {
		if vm.Name == name && vm.Role == "program" {
			return true
		}
	}
	return false
}

// anyBackedUp reports whether some VM is backed up.
func anyBackedUp(c Config) bool {
	for _, vm := range c.VMs {
		if vm.BackedUp {
			return true
		}
	}
	return false
}

// The adapter's layouts the configuration sizes memory by (the nic
// package's FrameBytes overhead, PacketHeaderLen and DescBytes; a test in
// experiment checks that they agree).
const (
	// FrameOverhead is the bytes an Ethernet frame adds to its payload
	// (header and FCS).
	FrameOverhead = 18
	// PacketHeaderBytes is the packet header a driver writes at the start
	// of each ring buffer.
	PacketHeaderBytes = 40
	// DescBytes is one ring descriptor.
	DescBytes = 16
)

// RingBufBytes is the size of each descriptor's buffer in a VF's rings: the
// MTU and the packet header, rounded up to whole cache lines.
func RingBufBytes(c Config) uint64 {
	line := uint64(c.Cache.LineSize)
	return (uint64(c.NIC.MTU) + PacketHeaderBytes + line - 1) / line * line
}

// RingBytes is the memory a VF's two rings and their buffers take at the top
// of its VM's image.
func RingBytes(c Config) uint64 {
	return 2 * uint64(c.NIC.RingEntries) * (DescBytes + RingBufBytes(c))
}

// programRules checks a program VM (vm at key path p).
func (v *validator) programRules(c Config, p string, vm VMConfig) {
	if strings.TrimSpace(vm.Program) == "" {
		v.fail(p+".program", "\"\" is not allowed; a program VM needs a program to run (a path or a committed workload's name, then its arguments)")
	}
	if len(vm.Cores) != 1 && v.ok(p+".cores") {
		v.fail(p+".cores", "%d cores are not allowed; a program VM runs on exactly one core", len(vm.Cores))
	}
	if v.ok(p+".memory") && vm.Memory%(64*KiB) != 0 {
		v.fail(p+".memory", "%s is not allowed; a program VM's image is placed in 64 KiB frames, so must be a multiple of 64KiB", vm.Memory)
	}
	if c.Run.Scenario == "exec" && v.ok(p+".role") {
		v.fail(p+".role", "\"program\" is not allowed; run.scenario is exec, which runs exec.command on bare cores: use backup or ha-nic for program VMs")
	}
}

// kvOverhead is a key-value request's frame payload beyond its key and
// value: the IPv4 and UDP headers and the request's own 8 bytes.
const kvOverhead = 20 + 8 + 8

// nicRules checks the adapter, the clients and the VMs' network roles.
func (v *validator) nicRules(c Config) {
	n := c.NIC
	if v.ok("nic.buffer", "nic.mtu") && uint64(n.Buffer) < uint64(n.MTU)+FrameOverhead {
		v.fail("nic.buffer", "%s is not allowed; the checkpoint buffer must hold at least one frame of the MTU (nic.mtu + %d bytes = %s)",
			n.Buffer, FrameOverhead, Size(uint64(n.MTU)+FrameOverhead))
	}
	if v.ok("nic.ring_entries") && !isPow2(uint64(n.RingEntries)) {
		v.fail("nic.ring_entries", "%d is not allowed; must be a power of two", n.RingEntries)
	}
	ha := c.Run.Scenario == "ha-nic"
	mtuOK := v.ok("nic.mtu")
	services := map[string]bool{}
	programs := map[string]bool{} // program VMs with a virtual function
	for i, vm := range c.VMs {
		p := fmt.Sprintf("vm[%d]", i)
		if vm.Role == "program" {
			v.programRules(c, p, vm)
		} else if vm.Program != "" && v.ok(p+".role") {
			v.fail(p+".program", "%s is not allowed; only a VM with role \"program\" runs a program (this one's role is %s)",
				tomlString(vm.Program), tomlString(vm.Role))
		}
		if !ha {
			if vm.Role != "memory" && vm.Role != "program" && c.Run.Scenario != "exec" && v.ok(p+".role") {
				v.fail(p+".role", "%s is not allowed; run.scenario is %s, whose VMs run their memory workload (role \"memory\") or a program (role \"program\"); service and bulk VMs need ha-nic",
					tomlString(vm.Role), c.Run.Scenario)
			}
			continue
		}
		network := vm.Role == "service" || vm.Role == "bulk"
		switch {
		case vm.BackedUp && c.Backup.Enabled && !vm.VF:
			v.fail(p+".vf", "false is not allowed; vm %s is backed up (checkpointed), so its output must be held until each checkpoint commits, which needs a virtual function", vm.Name)
		case network && !vm.VF:
			v.fail(p+".vf", "false is not allowed; a %s VM sends and receives through its own virtual function", vm.Role)
		}
		if network && len(vm.Cores) != 1 && v.ok(p+".cores") {
			v.fail(p+".cores", "%d cores are not allowed; a %s VM runs on exactly one core", len(vm.Cores), vm.Role)
		}
		if vm.Role == "program" && vm.VF {
			programs[vm.Name] = true
			if n.Buffering == "software" && vm.BackedUp && c.Backup.Enabled && v.ok("nic.buffering") {
				v.fail("nic.buffering", "\"software\" is not allowed; vm %s runs a program, whose virtual function's output only the adapter can hold (software buffering is modelled for service and bulk VMs)", vm.Name)
			}
		}
		if vm.Role == "service" {
			services[vm.Name] = true
			if mtuOK && vm.Service.ResponseBytes > n.MTU {
				v.fail(p+".service.response_bytes", "%s is not allowed; must be at most nic.mtu (%s)", vm.Service.ResponseBytes, n.MTU)
			}
		}
		if vm.Role == "bulk" && mtuOK && vm.Bulk.PacketBytes > n.MTU {
			v.fail(p+".bulk.packet_bytes", "%s is not allowed; must be at most nic.mtu (%s)", vm.Bulk.PacketBytes, n.MTU)
		}
		if vm.VF && vm.Role == "program" && v.ok(p+".memory", "nic.mtu", "nic.ring_entries", "cache.line_size") {
			if need := uint64(MiB) + RingBytes(c); need > uint64(vm.Memory) {
				v.fail(p+".memory", "%s is not allowed; the guest program's memory (at least 1MiB) and the VF's rings at the top of the image (%s) need %s",
					vm.Memory, Size(RingBytes(c)), Size(need))
			}
		} else if vm.VF && v.ok(p+".memory", p+".workload.footprint", "nic.mtu", "nic.ring_entries", "cache.line_size") {
			if need := uint64(vm.Workload.Footprint) + RingBytes(c); need > uint64(vm.Memory) {
				v.fail(p+".memory", "%s is not allowed; the workload footprint (%s) and the VF's rings at the top of the image (%s) need %s",
					vm.Memory, vm.Workload.Footprint, Size(RingBytes(c)), Size(need))
			}
		}
	}
	if !ha {
		return
	}
	if !c.Cache.L3.Enabled {
		v.fail("cache.l3.enabled", "false is not allowed; run.scenario is ha-nic, whose adapter's DMA goes through the shared L3")
	}
	if n.Buffering == "software" && c.Backup.Enabled && mtuOK && v.ok("hypervisor.footprint") &&
		uint64(c.Hypervisor.Footprint) < uint64(n.MTU)+PacketHeaderBytes {
		v.fail("hypervisor.footprint", "%s is not allowed; with nic.buffering = \"software\" the hypervisor copies each packet into this memory, which must hold one of the MTU with its header (nic.mtu + %d bytes = %s)",
			c.Hypervisor.Footprint, PacketHeaderBytes, Size(uint64(n.MTU)+PacketHeaderBytes))
	}
	if v.ok("network.warmup", "run.duration") && c.Network.Warmup >= c.Run.Duration {
		v.fail("network.warmup", "%s is not allowed; must be shorter than run.duration (%s)", c.Network.Warmup, c.Run.Duration)
	}
	names := map[string]int{}
	inFlight := map[string]int{} // closed-loop requests in flight to each service VM
	for i, cl := range c.Clients {
		p := fmt.Sprintf("client[%d]", i)
		v.uniqueName(p+".name", "client", cl.Name, i, names)
		switch {
		case cl.Protocol == "kv" && !programs[cl.VM]:
			v.fail(p+".vm", "%s is not allowed; a kv client must name a [[vm]] with role \"program\" and a virtual function (running kvserver)", tomlString(cl.VM))
		case cl.Protocol != "kv" && !services[cl.VM]:
			v.fail(p+".vm", "%s is not allowed; must name a [[vm]] with role \"service\" (and a virtual function)", tomlString(cl.VM))
		}
		if key := len(fmt.Sprintf("%s-%d", cl.Name, max(cl.KV.Keys-1, 0))); cl.Protocol == "kv" && mtuOK && v.ok(p+".kv.value_bytes", p+".kv.keys") &&
			uint64(kvOverhead+key)+uint64(cl.KV.ValueBytes) > uint64(n.MTU) {
			v.fail(p+".kv.value_bytes", "%s is not allowed; a PUT's frame (IPv4 and UDP headers, the request's 8 bytes, the key of %d bytes and the value) must fit nic.mtu (%s)",
				cl.KV.ValueBytes, key, n.MTU)
		}
		if cl.KV.GetFraction+cl.KV.PutFraction > 1 && v.ok(p+".kv.get_fraction", p+".kv.put_fraction") {
			v.fail(p+".kv.put_fraction", "%s is not allowed; get_fraction + put_fraction must be at most 1", tomlFloat(cl.KV.PutFraction))
		}
		if mtuOK && cl.RequestBytes > n.MTU {
			v.fail(p+".request_bytes", "%s is not allowed; must be at most nic.mtu (%s)", cl.RequestBytes, n.MTU)
		}
		// A closed-loop client has no retransmission: a request its
		// server's receive ring has no buffer for is lost, and the client
		// runs one short from then on. The closed-loop clients alone must
		// therefore fit the ring (open-loop ones sharing the VM can still
		// fill it: their losses are counted, rx_no_buffer).
		if cl.Mode == "closed" && v.ok(p+".outstanding", "nic.ring_entries") {
			inFlight[cl.VM] += cl.Outstanding
			if inFlight[cl.VM] > n.RingEntries {
				v.fail(p+".outstanding", "%d is not allowed; the closed-loop clients of vm %s would keep %d requests in flight, more than its receive ring holds (nic.ring_entries = %d)",
					cl.Outstanding, cl.VM, inFlight[cl.VM], n.RingEntries)
			}
		}
	}
}

func (v *validator) cacheRules(c Config) {
	line := c.Cache.LineSize
	if v.ok("cache.line_size") && !isPow2(uint64(line)) {
		v.fail("cache.line_size", "%s is not allowed; must be a power of two", line)
	}
	last, lastPath := CacheLevel{}, ""
	for _, lv := range []struct {
		name string
		l    CacheLevel
	}{{"l1", c.Cache.L1}, {"l1i", c.Cache.L1I}, {"l2", c.Cache.L2}, {"l3", c.Cache.L3}} {
		p := "cache." + lv.name
		if v.ok("cache.line_size", p+".size", p+".ways") {
			perSet := uint64(lv.l.Ways) * uint64(line)
			if size := uint64(lv.l.Size); size%perSet != 0 || !isPow2(size/perSet) {
				v.fail(p+".size", "%s is not allowed; must be ways × line_size × a power of two (%d × %s × 2^k)",
					lv.l.Size, lv.l.Ways, line)
			}
		}
		if lv.l.Enabled && lv.name != "l1i" {
			last, lastPath = lv.l, p
		}
		if ws := lv.l.WriteStreaming; ws != 0 && v.ok(p+".write_streaming") {
			switch {
			case lv.name == "l1i":
				v.fail(p+".write_streaming", "%d is not allowed; must be 0: the instruction cache is never written", ws)
			case lv.l.WritePolicy == WriteThrough && v.ok(p+".write_policy"):
				v.fail(p+".write_streaming", "%d is not allowed; must be 0 on a write-through level, which allocates nothing on a store", ws)
			case c.Run.Scenario != "exec" && v.ok("run.scenario"):
				v.fail(p+".write_streaming", "%d is not allowed with run.scenario %s; must be 0 unless run.scenario is exec: streamed stores bypass the cache rows that carry the image-modification flags", ws, c.Run.Scenario)
			}
		}
		if lv.l.Banks > 0 && lv.l.BankCycles == 0 && v.ok(p+".banks", p+".bank_cycles") {
			v.fail(p+".bank_cycles", "0 is not allowed; must be at least 1 when %s.banks is not 0", p)
		}
		for _, k := range []struct {
			key string
			v   int
		}{{"prefetch_distance", lv.l.PrefetchDistance}, {"prefetch_streams", lv.l.PrefetchStreams}} {
			if lv.l.PrefetchDegree > 0 && k.v == 0 && v.ok(p+".prefetch_degree", p+"."+k.key) {
				v.fail(p+"."+k.key, "0 is not allowed; must be at least 1 when %s.prefetch_degree is not 0", p)
			}
		}
	}
	if c.Cache.L3.MSHRs != 0 && v.ok("cache.l3.mshrs") {
		v.fail("cache.l3.mshrs", "%d is not allowed; must be 0: MSHRs are modelled in the private levels, and the shared L3's queueing is its banks", c.Cache.L3.MSHRs)
	}
	if co := c.Cache.Coherence; co.DirectoryEntries != 0 && v.ok("cache.coherence.directory_entries", "cache.coherence.directory_ways") {
		if n := co.DirectoryEntries; n%co.DirectoryWays != 0 || !isPow2(uint64(n/co.DirectoryWays)) {
			v.fail("cache.coherence.directory_entries", "%d is not allowed; must be 0 or directory_ways × a power of two (%d × 2^k)", n, co.DirectoryWays)
		}
	}
	// Inclusion: a level holds every line of the enabled levels above it
	// (each core's private levels, for the shared L3), so it must be at
	// least their size.
	private := []struct {
		name string
		l    CacheLevel
	}{{"l1", c.Cache.L1}, {"l1i", c.Cache.L1I}}
	for _, lv := range private {
		if lv.l.Inclusive {
			v.fail("cache."+lv.name+".inclusive", "true is not allowed; no level is above %s", lv.name)
		}
	}
	for _, lv := range []struct {
		name   string
		l      CacheLevel
		copies uint64
	}{{"l2", c.Cache.L2, 1}, {"l3", c.Cache.L3, uint64(max(c.Host.Cores, 1))}} {
		if lv.l.Enabled && lv.l.Inclusive && v.ok("cache."+lv.name+".size") {
			var above uint64
			var names []string
			for _, a := range private {
				if a.l.Enabled {
					above += uint64(a.l.Size)
					names = append(names, "cache."+a.name+".size")
				}
			}
			above *= lv.copies
			what := strings.Join(names, " + ")
			if lv.copies > 1 {
				what = fmt.Sprintf("host.cores × (%s)", what)
			}
			if above > uint64(lv.l.Size) {
				v.fail("cache."+lv.name+".size", "%s is not allowed; an inclusive level must be at least the capacity above it, %s = %s",
					lv.l.Size, what, Size(above))
			}
		}
		if lv.l.Enabled {
			private = append(private, struct {
				name string
				l    CacheLevel
			}{lv.name, lv.l})
		}
	}
	switch {
	case lastPath == "":
		v.fail("cache", "no level is enabled; at least one enabled level must be write-back")
	case v.ok(lastPath+".write_policy") && last.WritePolicy != WriteBack:
		v.fail(lastPath+".write_policy", "%s is not allowed; the last enabled level must be write-back "+
			"(image-modification flags live in write-back levels)", tomlString(string(last.WritePolicy)))
	}
}

func (v *validator) vmRules(c Config) {
	if len(c.VMs) == 0 {
		v.fail("vm", "no [[vm]] table; at least one VM is required")
		return
	}
	line, lineOK := c.Cache.LineSize, v.ok("cache.line_size")
	names := map[string]int{}
	owner := map[int]int{}
	var total uint64
	memOK := v.ok("host.memory")
	for i, vm := range c.VMs {
		p := fmt.Sprintf("vm[%d]", i)
		v.uniqueName(p+".name", "vm", vm.Name, i, names)
		if v.ok("host.page_size", p+".memory") && vm.Memory%c.Host.PageSize != 0 {
			v.fail(p+".memory", "%s is not allowed; must be a multiple of host.page_size (%s)", vm.Memory, c.Host.PageSize)
		}
		memOK = memOK && v.ok(p+".memory")
		var carry uint64
		total, carry = bits.Add64(total, uint64(vm.Memory), 0)
		if carry != 0 {
			total = math.MaxUint64
		}

		if len(vm.Cores) == 0 {
			v.fail(p+".cores", "[] is not allowed; must list at least one core")
		}
		for k, core := range vm.Cores {
			cp := fmt.Sprintf("%s.cores[%d]", p, k)
			prev, taken := owner[core]
			switch {
			case core < 0 || (v.ok("host.cores") && core >= c.Host.Cores):
				if v.ok("host.cores") {
					v.fail(cp, "%d is not allowed; must be 0..%d (host.cores - 1)", core, c.Host.Cores-1)
				} else {
					v.fail(cp, "%d is not allowed; must be 0..host.cores - 1", core)
				}
			case taken && prev == i:
				v.fail(cp, "%d is not allowed; core %d is already listed in %s.cores", core, core, p)
			case taken && vm.Role == "program" && c.VMs[prev].Role == "program":
				// program VMs share the core, time-sliced
			case taken:
				v.fail(cp, "%d is not allowed; core %d already runs vm[%d] (each core runs at most one VM, unless all on it are program VMs)", core, core, prev)
			default:
				owner[core] = i
			}
		}

		w, wp := vm.Workload, p+".workload"
		if w.Footprint < 4*KiB || (v.ok(p+".memory") && w.Footprint > vm.Memory) {
			v.fail(wp+".footprint", "%s is not allowed; must be 4KiB..vm.memory (%s)", w.Footprint, vm.Memory)
		}
		if !(w.ZipfS > 1 && w.ZipfS <= 10) {
			v.fail(wp+".zipf_s", "%s is not allowed; must be greater than 1 and at most 10", tomlFloat(w.ZipfS))
		}
		if w.Stride < 8 || (v.ok(wp+".footprint") && w.Stride > w.Footprint) {
			v.fail(wp+".stride", "%s is not allowed; must be 8B..workload.footprint (%s)", w.Stride, w.Footprint)
		}
		if !isPow2(uint64(w.AccessSize)) || (lineOK && w.AccessSize > line) {
			v.fail(wp+".access_size", "%s is not allowed; must be a power of two, 1B..cache.line_size (%s)", w.AccessSize, line)
		}
	}
	if memOK && total > uint64(c.Host.Memory) {
		v.fail("vm", "total memory %s of %d VMs is not allowed; must be at most host.memory (%s)",
			Size(total), len(c.VMs), c.Host.Memory)
	}
}
