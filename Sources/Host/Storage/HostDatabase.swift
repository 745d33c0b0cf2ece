/// The host's whole database, by concern: records, instances, schedules and runs, the notification outbox.
/// One implementation (`SQLStore`) over either backend.
public typealias HostDatabase = RecordStore & InstanceStore & RunStore & OutboxStore & AccessStore & RetentionStore & AlertStore & ReportStore & PluginSettingStore
