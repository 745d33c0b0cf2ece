import Host

// The host's commands, built in this suite's release configuration: the benchmarks' isolated plugins run in
// `bench-worker plugin-worker FILE`, the same code as `synchost plugin-worker`.
await SynchostCommand.runAsMain()
