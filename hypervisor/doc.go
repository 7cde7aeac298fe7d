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
// It does not model hardware structures (those are memory and cache), the
// network transfer of checkpoint state, failover, or application-failure
// recovery; those come with the high-availability scenarios.
package hypervisor
