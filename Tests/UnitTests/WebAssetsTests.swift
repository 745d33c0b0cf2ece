import Foundation
import Testing

@testable import Host

/// The admin page's embedded copy (made at build time by BuildTools/EmbedWeb) is its files, and the files need no
/// inline script or style (the page's policy allows none).
@Suite("Admin page files")
struct WebAssetsTests {
    static let web = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Host/Admin/Web")

    @Test func theEmbeddedCopyIsTheFilesAsTheyAre() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.web.path).sorted()
        #expect(names == WebAssets.files.keys.sorted())
        for name in names {
            let onDisk = try #require(FileManager.default.contents(atPath: Self.web.appendingPathComponent(name).path))
            #expect(WebAssets.files[name]?.bytes == Array(onDisk), "\(name)")
        }
    }

    @Test func nothingInlineThatTheStrictPolicyWouldBlock() throws {
        for (name, asset) in WebAssets.files {
            let text = String(decoding: asset.bytes, as: UTF8.self)
            #expect(text.firstMatch(of: /\son[a-z]+\s*=\s*["']/) == nil, "\(name): an inline event handler attribute")
            #expect(!text.contains(" style=\""), "\(name): an inline style attribute")
            if name.hasSuffix(".html") {
                #expect(!text.contains("<script>") && !text.contains("<style"), "\(name): inline script or style")
            }
        }
        #expect(!AdminPage.contentSecurityPolicy.contains("unsafe"))
    }
}
