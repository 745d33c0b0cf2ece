import Demo
import Host

// The host's commands, plus `demo` (which brings the plugins' simulators; the kernel knows no plugin).
SynchostCommand.extraSubcommands = [DemoCommand.self]
await SynchostCommand.runAsMain()
