// Package hypervisor models the simulated firmware that runs virtual
// machines on a host: VMs and their images in host memory, vCPUs that run a
// VM's workload on a core, and the checkpoint controller that keeps a backup
// image of every backed-up VM on a secondary host.
//
// The backup controller implements the hypervisor side of IBM's
// virtual-machine backup family (GB2516083A, US 10,108,498; PATENTS.md family
// 3): at every checkpoint it pauses the backed-up VMs, has the cache
// controller scan for rows with the image-modification flag (step 440,
// periodic part), consumes the modification log from simulated memory, and
// copies exactly the logged lines into the backup image. In the same run it
// measures what the baselines would move — page dirty tracking at 4 KiB and
// 64 KiB and a full-image copy — and checks that the backup image equals the
// primary image after every checkpoint.
//
// For high availability (patent family 2) the controller can instead
// collect by page dirty tracking or full copy, and replicate each
// checkpoint over a link to the secondary host: the state is copied while
// the VMs are paused, streamed, applied to the backup image and
// acknowledged, and the acknowledgement (OnCommit) is the network
// adapter's commit notice; a digest of each image as of the checkpoint
// checks the backup. Backed says which epochs the secondary holds, for
// checks of output commit that do not trust the commit path, and at most
// MaxInFlight checkpoints await acknowledgement at once (a later one is
// deferred). NetVCPU runs a network VM — a request/response
// service or a bulk sender — as a guest driver over its virtual function's
// rings, and SoftBuffer is the software-buffering baseline (the hypervisor
// holds output, as Remus does).
//
// A checkpoint also carries what StateSources add (AddState): the
// architectural and process state of VMs running guest programs, which
// experiment's program VMs capture while paused and are told of when the
// secondary has applied it. With a Reader the copy of the modified state
// into the send buffer reads it through the shared L3 and DRAM; the pause
// is reported part by part (suspend, scan, drain, copy) with the transfer.
//
// For failover, Monitor is one host's failure detector (heartbeats over
// the replication path, a timeout of Misses intervals re-armed by each one
// heard) and Witness settles which host of a pair holds the protected VMs
// when each suspects the other; the LinkTransport can be cut and loses a
// crashed sender's unfinished messages, and Stop ends a primary's
// checkpointing. Activating VMs on the secondary is the experiment
// package's (it builds hosts).
//
// For recovery from application failures, AtSecondary has the secondary
// restore its image in order with the checkpoints still on their way, and
// ReplaceState puts a restored VM in the failed one's place; the recovery
// itself is the experiment package's.
//
// It does not model hardware structures (those are memory, cache and nic).
package hypervisor
