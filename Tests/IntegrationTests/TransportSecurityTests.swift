import AsyncHTTPClient
import Foundation
import HummingbirdTLS
import PluginAPI
import Testing

@testable import Host
@testable import TestKit

/// Security headers on every response (errors too); the admin listener over HTTPS from a certificate and key.
@Suite("Transport security")
struct TransportSecurityTests {
    static func expectSecurityHeaders(_ r: HTTPResult, _ what: String) {
        #expect(r.headers["x-content-type-options"] == "nosniff", "\(what)")
        #expect(r.headers["referrer-policy"] == "no-referrer", "\(what)")
        #expect(r.headers["x-frame-options"] == "DENY", "\(what)")
        #expect(r.headers["content-security-policy"] != nil, "\(what)")
    }

    @Test func everyKindOfResponseCarriesTheSecurityHeaders() async throws {
        let host = try await TestHost(startScheduler: false)
        defer { Task { await host.stop() } }
        let root = "http://127.0.0.1:\(host.server.port)"
        let cases: [(String, HTTPResult)] = [
            ("healthz", try await request("GET", root + "/healthz")),
            ("a JSON answer", try await request("GET", host.base + "/instances", token: TestHost.token)),
            ("401", try await request("GET", host.base + "/instances")),
            ("404 of an unknown instance", try await request("GET", host.base + "/instances/nope", token: TestHost.token)),
            ("400 of a bad body", try await request("POST", host.base + "/instances", token: TestHost.token, body: "{")),
            ("a plugin route's 401", try await request("GET", host.base + "/plugins/guanke/instances/x/grade-stats")),
            ("the admin page", try await request("GET", root + "/")),
        ]
        for (what, r) in cases { Self.expectSecurityHeaders(r, "\(what) (\(r.status))") }
        #expect(cases[2].1.status == 401 && cases[3].1.status == 404 && cases[4].1.status == 400)
        #expect(cases[1].1.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'")
        // The page keeps its own policy (it runs its script); no HSTS over plain HTTP.
        #expect(cases[6].1.headers["content-security-policy"]?.contains("script-src") == true)
        #expect(cases[0].1.headers["strict-transport-security"] == nil)
        #expect(cases[0].1.json?["tls"] == false)
    }

    @Test func theAdminPageIsServedFromItsFilesUnderAStrictPolicyWithEntityTags() async throws {
        let host = try await TestHost(startScheduler: false)
        defer { Task { await host.stop() } }
        let root = "http://127.0.0.1:\(host.server.port)"
        let page = try await request("GET", root + "/")
        #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.body.contains(#"<script src="/assets/app.js"></script>"#))
        let csp = try #require(page.headers["content-security-policy"])
        #expect(csp.contains("script-src 'self'") && !csp.contains("unsafe"), "\(csp)")
        for (file, type) in [("app.js", "text/javascript"), ("app.css", "text/css")] {
            let r = try await request("GET", root + "/assets/" + file)
            #expect(r.status == 200 && r.headers["content-type"]?.hasPrefix(type) == true, "\(file): \(r.status)")
            #expect(r.bytes == WebAssets.files[file]?.bytes)
            let etag = try #require(r.headers["etag"])
            var again = HTTPClientRequest(url: root + "/assets/" + file)
            again.headers.add(name: "if-none-match", value: etag)
            let revalidated = try await HTTPClient.shared.execute(again, timeout: .seconds(10))
            #expect(revalidated.status.code == 304, "\(file) unchanged: 304")
        }
        #expect(try await request("GET", root + "/assets/nope.js").status == 404)
        #expect(try await request("GET", root + "/assets/index.html").status == 404, "the page is at / only")
    }

    @Test func theAdminListenerServesHTTPSFromACertificateAndKey() async throws {
        let dir = try temporaryDirectory("tls")
        defer { try? FileManager.default.removeItem(at: dir) }
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let made = try await runProcess("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                                                             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        try #require(made.status == 0, "openssl: \(made.stderr)")
        let host = try await ServeProcess(dataDir: dir.appendingPathComponent("data"), token: "tls-token", arguments: ["--tls-cert", cert, "--tls-key", key])
        defer { Task { await host.stop() } }
        #expect(host.base.hasPrefix("https://"), "\(host.base)")

        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(cert))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        let origin = String(host.base.dropLast("/api/v1".count))
        let health = try await request("GET", origin + "/healthz", client: client)
        #expect(health.status == 200 && health.json?["tls"] == true, "\(health.body)")
        #expect(health.headers["strict-transport-security"] == "max-age=31536000")
        Self.expectSecurityHeaders(health, "healthz over TLS")
        #expect(try await request("GET", host.base + "/instances", token: "tls-token", client: client).status == 200)
        // Plain HTTP to the TLS port gets no answer; a client that does not trust the certificate is refused.
        await #expect(throws: (any Error).self) { try await request("GET", origin.replacingOccurrences(of: "https://", with: "http://") + "/healthz") }
        await #expect(throws: (any Error).self) { try await request("GET", origin + "/healthz") }
        try await client.shutdown()
    }

    @Test func aBadCertificateOrAKeyWithoutCertificateIsAClearErrorAtStart() async throws {
        let dir = try temporaryDirectory("tls-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        let junk = dir.appendingPathComponent("junk.pem")
        try Data("not a certificate".utf8).write(to: junk)
        let common = ["serve", "--port", "0", "--data-dir", dir.path, "--plugins", dir.path]
        let bad = try await runProcess(Build.synchost.path, common + ["--tls-cert", junk.path, "--tls-key", junk.path])
        #expect(bad.status != 0 && bad.stderr.contains("--tls-cert") && bad.stderr.contains("not a readable PEM certificate"), "\(bad.stderr)")
        let half = try await runProcess(Build.synchost.path, common + ["--tls-key", junk.path])
        #expect(half.status != 0 && half.stderr.contains("--tls-cert and --tls-key go together"), "\(half.stderr)")
    }
}
