import CNSTestSupport
import Foundation
import Testing

/// Real nginx and Apache (Debian's packages) in front of `cnsgw serve`, each configured from the README's own
/// snippet: a client that forges a certificate header with someone else's public certificate gets no identity, with
/// or without a certificate of its own; a real card through the proxy logs in; the audit names the browser's address
/// and the proxy's.
@Suite(.serialized) struct ProxyDeploymentTests {
    static let readme = BrowserTests.repository.appendingPathComponent("README.md").path
    static let victim = "rccmnl83s18d969h"
    static let attacker = "vrdgpp70c10f205b"

    /// The README's code block in `language`.
    static func snippet(_ language: String) throws -> String {
        let text = try String(contentsOfFile: readme, encoding: .utf8)
        guard let start = text.range(of: "```\(language)\n"), let end = text.range(of: "```", range: start.upperBound..<text.endIndex) else {
            throw ServiceError("README.md has no ```\(language) block")
        }
        return String(text[start.upperBound..<end.lowerBound])
    }

    struct Deployment {
        let server: ServeCommandTests.Server
        let proxy: LocalService
        let port: Int
        let folder: String

        /// curl through the proxy: (status, body).
        func get(card: String? = nil, headers: [String] = []) throws -> (Int, String) {
            var args = ["-sk", "-o", "-", "-w", "\n%{http_code}", "--max-time", "20"]
            for h in headers { args += ["-H", h] }
            if let card { args += ["--cert", "\(server.demo)/cards/\(card).pem", "--key", "\(server.demo)/cards/\(card).key"] }
            let r = try runCommand("curl", args + ["https://127.0.0.1:\(port)/login/card"])
            return (Int(r.stdout.split(separator: "\n").last ?? "") ?? 0, r.stdout)
        }

        /// nginx stops its workers on SIGTERM (a SIGKILL would leave them running); Apache's children, which run as
        /// nobody, can outlive their parent, so every process started with this deployment's configuration is ended.
        func stop() {
            _ = proxy.terminate(timeout: 10)
            proxy.stop()
            _ = try? runCommand("pkill", ["-KILL", "-f", folder + "/"])
            server.process.stop()
        }
    }

    /// Starts the gateway behind `proxy` ("nginx" or "apache") configured from the README.
    static func deploy(_ proxy: String) throws -> Deployment {
        let server = try ServeCommandTests.Server(["--trusted-proxy", "127.0.0.1", "--proxy-certificate-header", proxy])
        #expect(try runCommand(VerifyCommandTests.binary, ["testpki", "card", server.demo, "--cf", "VRDGPP70C10F205B", "--given-name", "Giuseppe",
                                                           "--surname", "Verdi"]).status == 0)
        let folder = NSTemporaryDirectory() + "cnsgw-\(proxy)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/logs", withIntermediateDirectories: true)
        let tls = try runCommand("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                                             "-subj", "/CN=cns.example.it", "-keyout", folder + "/proxy.key", "-out", folder + "/proxy.pem"])
        #expect(tls.status == 0, "\(tls.stderr)")
        let port = LocalService.freePort()
        var site = try snippet(proxy == "nginx" ? "nginx" : "apache")
            .replacingOccurrences(of: "/etc/cnsgw/proxy/cns.example.it.pem", with: folder + "/proxy.pem")
            .replacingOccurrences(of: "/etc/cnsgw/proxy/cns.example.it.key", with: folder + "/proxy.key")
            .replacingOccurrences(of: "/etc/cnsgw/proxy/gateway.pem", with: server.data + "/server.pem")
            .replacingOccurrences(of: "https://127.0.0.1:8444", with: "https://127.0.0.1:\(server.cardPort)")
        let process: LocalService
        if proxy == "nginx" {
            site = site.replacingOccurrences(of: "listen 443 ssl;", with: "listen 127.0.0.1:\(port) ssl;")
            let conf = """
                daemon off;
                pid \(folder)/nginx.pid;
                error_log \(folder)/logs/error.log;
                events {}
                http {
                    access_log off;
                    client_body_temp_path \(folder)/body;
                    proxy_temp_path \(folder)/proxy;
                    fastcgi_temp_path \(folder)/fastcgi;
                    uwsgi_temp_path \(folder)/uwsgi;
                    scgi_temp_path \(folder)/scgi;
                \(site)
                }
                """
            try conf.write(toFile: folder + "/nginx.conf", atomically: true, encoding: .utf8)
            process = try LocalService(["nginx", "-p", folder, "-c", folder + "/nginx.conf", "-e", folder + "/logs/error.log"], port: port)
        } else {
            site = site.replacingOccurrences(of: "<VirtualHost *:443>", with: "<VirtualHost 127.0.0.1:\(port)>")
            let modules = ["mpm_event", "authz_core", "ssl", "proxy", "proxy_http", "headers"]
                .map { "LoadModule \($0)_module /usr/lib/apache2/modules/mod_\($0).so" }.joined(separator: "\n")
            let conf = """
                \(modules)
                ServerName localhost
                Listen 127.0.0.1:\(port)
                PidFile \(folder)/httpd.pid
                DefaultRuntimeDir \(folder)
                Mutex file:\(folder) default
                ErrorLog \(folder)/logs/error.log
                LogLevel warn
                User nobody
                Group nogroup
                \(site)
                """
            try conf.write(toFile: folder + "/apache2.conf", atomically: true, encoding: .utf8)
            process = try LocalService(["apache2", "-f", folder + "/apache2.conf", "-DFOREGROUND"], port: port)
        }
        do { try process.waitUntilListening(timeout: 20) } catch {
            server.process.stop()
            let log = (try? String(contentsOfFile: folder + "/logs/error.log", encoding: .utf8)) ?? ""
            throw ServiceError("\(proxy) did not start: \(error) \(log)")
        }
        return Deployment(server: server, proxy: process, port: port, folder: folder)
    }

    /// Every certificate header an attacker might send, carrying the victim's public certificate.
    static func forgedHeaders(_ demo: String) throws -> [String] {
        let pem = try String(contentsOfFile: "\(demo)/cards/\(victim).pem", encoding: .utf8)
        let der = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return [
            "Client-Cert: :\(der):",
            "Client-Cert-Chain: :\(der):",
            "X-SSL-Client-Cert: " + pem.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
            "X-SSL-Client-Cert: " + pem.replacingOccurrences(of: "\n", with: " "),
            "SSL_CLIENT_CERT: " + pem.replacingOccurrences(of: "\n", with: " "),
        ]
    }

    func attackAndLogin(_ proxy: String) throws {
        let deployment = try Self.deploy(proxy)
        defer { deployment.stop() }
        let victimCF = "RCCMNL83S18D969H"
        for header in try Self.forgedHeaders(deployment.server.demo) {
            let name = String(header.prefix { $0 != ":" })
            // No certificate of the attacker's own: no identity at all.
            let (status, page) = try deployment.get(headers: [header, "X-Forwarded-For: 203.0.113.9"])
            #expect(!page.contains(victimCF), "\(proxy): \(name) without a card logged in as the victim")
            #expect(status == 401 || status == 403, "\(proxy): \(name) → \(status)")
            // With the attacker's own card: at most the attacker's identity, never the victim's.
            let (ownStatus, ownPage) = try deployment.get(card: Self.attacker, headers: [header])
            #expect(!ownPage.contains(victimCF), "\(proxy): \(name) with the attacker's card logged in as the victim")
            #expect(ownStatus == 403 || ownPage.contains("VRDGPP70C10F205B"), "\(proxy): \(name) with a card → \(ownStatus)")
        }
        // A real card through the proxy logs in.
        let (status, page) = try deployment.get(card: Self.victim)
        #expect(status == 200 && page.contains(victimCF), "\(proxy): the real card did not log in: \(status) \(page.suffix(400))")
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", deployment.server.data]).stdout
        let valid = audit.split(separator: "\n").filter { $0.contains("\"result\":\"valid\"") && $0.contains(victimCF) }
        #expect(valid.count == 1, "\(audit)")
        #expect(valid.first?.contains("\"via\":\"proxy\"") == true && valid.first?.contains("\"proxy\":\"127.0.0.1\"") == true)
        // The forged X-Forwarded-For never became the client's address.
        #expect(!audit.contains("\"client\":\"203.0.113.9\""), "\(audit)")
    }

    @Test("nginx configured from the README: forged Client-Cert, Client-Cert-Chain, X-SSL-Client-Cert and SSL_CLIENT_CERT give no identity; a real card logs in")
    func nginx() throws { try attackAndLogin("nginx") }

    @Test("Apache configured from the README: forged Client-Cert, Client-Cert-Chain, X-SSL-Client-Cert and SSL_CLIENT_CERT give no identity; a real card logs in")
    func apache() throws { try attackAndLogin("apache") }

    @Test("from a trusted proxy, a certificate header other than the configured one is refused and audited; the forwarded address is used")
    func unexpectedHeaderFromTrustedProxy() throws {
        let server = try ServeCommandTests.Server(["--trusted-proxy", "127.0.0.1", "--proxy-certificate-header", "nginx"])
        defer { server.process.stop() }
        let headers = try Self.forgedHeaders(server.demo)
        // Client-Cert (RFC 9440) from the proxy while the gateway reads nginx's header: refused, not read.
        let (status, page) = try server.login(extra: ["-H", headers[0], "-H", "X-Forwarded-For: 198.51.100.7, 203.0.113.20"])
        #expect(status == 403 && !page.contains("RCCMNL83S18D969H"), "\(status) \(page)")
        let audit = try runCommand(VerifyCommandTests.binary, ["audit", "export", "--data-dir", server.data]).stdout
        #expect(audit.contains("unexpected_proxy_header") && audit.contains("\"client\":\"203.0.113.20\"") && audit.contains("\"proxy\":\"127.0.0.1\""), "\(audit)")
        // The configured header alone is read.
        let (nginxStatus, nginxPage) = try server.login(extra: ["-H", headers[2]])
        #expect(nginxStatus == 200 && nginxPage.contains("RCCMNL83S18D969H"))
        #expect(try server.login(extra: ["-H", headers[2], "-H", headers[2]]).0 == 403)   // sent twice: refused
    }
}
