import PluginAPI
import VOSPlugin

// The plugin's one exported symbol; everything else in libVOS.so stays local.
@_cdecl("synchost_plugin_entry_v1")
public func synchostPluginEntry(_ host: UnsafePointer<sh_host_api>?, _ abi: UInt32) -> UnsafePointer<sh_plugin_descriptor>? {
    PluginExport.connector(VOSConnector.self, host: host, abi: abi)
}
