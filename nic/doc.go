// Package nic models the SR-IOV network adapter of patent family 2
// (PATENTS.md): an adapter whose virtual functions (one per VM) send
// packets over a wire, and whose checkpoint packet buffer holds the
// packets of checkpointing VMs until the checkpoint of the epoch they
// were sent in commits (output commit).
//
// What is here:
//
//   - Packet and Ethernet framing: the bytes a frame occupies on the wire
//     (header, FCS, the 64-byte minimum, preamble and inter-frame gap).
//
//   - Adapter: virtual functions with their MACs and whether their VM
//     checkpoints (the HAC configuration, step 406); Send classifies each
//     outgoing packet (408/410): a checkpointing VF's packet is held in
//     the checkpoint buffer, tagged with the VF's current epoch (414); a
//     commit notice for epoch e (418) releases the packets of e and earlier
//     (422) at the high priority (506), while packets of other VFs go out
//     at the low one (512), and the transmit scheduler orders them (514):
//     strict priority, FIFO (the no-priority baseline) or deficit round
//     robin. The buffer has a capacity in bytes and packets, and an
//     overflow policy — backpressure (the VF stops taking packets until
//     there is room), spill (to host memory over DMA, with its bandwidth
//     and latency; a released packet is read back from host memory
//     straight into the transmit path) or drop (counted as data loss).
//     Every transmitted packet of a checkpointing VF is checked against
//     its own epoch tag (a violation would be a twinsim bug, and is
//     counted); Packet.Stamp lets a receiver check output commit
//     end to end, independently of the adapter (experiment's ha-nic
//     scenario does).
//
//   - Rings: each VF's transmit and receive descriptor rings live in its
//     VM's memory. The driver posts descriptors and rings a doorbell; the
//     adapter fetches them in batches over DMA (HostMemory: the I/O bus and
//     the memory system), reads each packet's header back from the buffer,
//     writes received frames into posted buffers, writes descriptors back
//     done and raises the VF's interrupt after CoalescePackets completions
//     or CoalesceTime, masked until the driver enables it again. A
//     checkpointing VF's transmit descriptor completes when its packet is
//     in the checkpoint buffer; another VF's when the packet has been sent.
//
//   - Switch: output-queued, forwarding by a static table of the MACs
//     behind each port (frames for an unknown MAC are counted and
//     dropped, not flooded) after a latency, each port's wire serialising
//     its frames; Uplink carries a device's frames into it.
//
//   - Client: an external host sending requests to a server's MAC,
//     open-loop (Poisson) or closed-loop (N outstanding), recording each
//     request's latency until its response arrives; with a Payload its
//     requests have real contents for a real server (a guest program).
//     Sink: an external host counting bulk traffic.
//
//   - Frames may carry their payload's bytes (Packet.Data): a VF marked
//     CarryPayload has them read from its transmit buffers, and received
//     ones are written into its receive buffers. Datagram encodes and
//     checks IPv4/UDP (RFC 791, 768) as twinsim's hosts speak it.
//
// When a checkpoint commits is not decided here: the hypervisor's
// checkpoint controller calls StartEpoch and Commit (experiment's ha-nic
// scenario wires them), and the software-buffering baseline lives in the
// hypervisor too.
package nic
