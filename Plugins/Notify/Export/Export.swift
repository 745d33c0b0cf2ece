import PluginAPI
import NotifyPlugin

// The plugin's one exported symbol; everything else in libNotify.so stays local.
@_cdecl("synchost_plugin_entry_v1")
public func synchostPluginEntry(_ host: UnsafePointer<sh_host_api>?, _ abi: UInt32) -> UnsafePointer<sh_plugin_descriptor>? {
    PluginExport.notifier(NotifyChannel.self, host: host, abi: abi)
}
