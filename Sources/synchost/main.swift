import Host

await SynchostCommand.runAsMain()
