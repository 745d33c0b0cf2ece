import Foundation

// embed-web-tool OUTPUT FILE...: writes OUTPUT, a Swift file holding each FILE's text as `WebAssets.files[name]`
// (see BuildTools/EmbedWeb). A file of a kind with no content type, or holding the raw-string delimiter, is an error.
let types = ["html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"]
let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: EmbedWebTool OUTPUT FILE...\n".utf8))
    exit(2)
}
var swift = "// Generated at build time from Sources/Host/Admin/Web by BuildTools/EmbedWeb.\n\n"
swift += "/// The admin page's files, by name.\nenum WebAssets {\n    static let files: [String: WebAsset] = [\n"
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    guard let type = types[url.pathExtension] else {
        FileHandle.standardError.write(Data("EmbedWebTool: \(url.lastPathComponent): no content type for .\(url.pathExtension) files\n".utf8))
        exit(1)
    }
    let text = try String(contentsOf: url, encoding: .utf8)
    guard !text.contains("\"####") else {
        FileHandle.standardError.write(Data("EmbedWebTool: \(url.lastPathComponent) holds the raw-string delimiter\n".utf8))
        exit(1)
    }
    swift += "        \"\(url.lastPathComponent)\": WebAsset(contentType: \"\(type)\", text: ####\"\"\"\n\(text)\n\"\"\"####),\n"
}
swift += "    ]\n}\n"
try swift.write(toFile: output, atomically: true, encoding: .utf8)
