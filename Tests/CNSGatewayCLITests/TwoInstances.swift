import CNSTestSupport
import Foundation
import Testing

/// Two `cnsgw serve` processes on one PostgreSQL database, behind nginx (Debian's package) as the load balancer of
/// both listeners — the topology of docker/compose.yaml, with real processes on 127.0.0.1. Both publish nginx's
/// addresses; nginx connects from 127.0.0.2, the one trusted proxy, so a client on 127.0.0.1 can also reach each
/// instance directly with its card over TLS (the tests that choose the instance of each step do).
final class TwoInstances: @unchecked Sendable {
    // @unchecked Sendable: the fields are set once in init; the processes are stopped in `stop()`.
    let database: PostgresServer
    let url: String
    let kek: String
    let folder: String
    let pki: String
    let crlServer: LocalService
    private(set) var instances: [ServeCommandTests.Server] = []
    var balancer: LocalService!
    let balancerPublic: Int
    let balancerCard: Int
    static let card = "rccmnl83s18d969h"
    static let revokedCard = "rssmra80a01h501u"

    var issuer: String { "https://127.0.0.1:\(balancerPublic)" }
    var environment: [String] {
        ["CNSGW_STORAGE_URL=\(url)", "CNSGW_KEYS_ENCRYPTION_KEY=\(kek)", "CNSGW_PUBLIC_URL=https://127.0.0.1:\(balancerPublic)",
         "CNSGW_CARD_URL=https://127.0.0.1:\(balancerCard)", "CNSGW_CARD_TRUSTED_PROXIES=127.0.0.2", "CNSGW_CARD_PROXY_CERTIFICATE_HEADER=nginx",
         "CNSGW_LIMITS_REQUESTS_PER_SECOND=0", "CNSGW_LIMITS_MAX_CONNECTIONS_PER_ADDRESS=1000000", "CNSGW_OIDC_CODE_LIFETIME=900"]
    }

    init(extraEnvironment: [String] = []) throws {
        database = try PostgresServer()
        url = try database.createDatabase(query: "timeout=3")
        kek = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        folder = NSTemporaryDirectory() + "cnsgw-two-\(UUID().uuidString.prefix(8))"
        pki = folder + "/pki"
        let crlPort = LocalService.freePort()
        try Self.cnsgw(["testpki", "init", pki, "--crl-url", "http://127.0.0.1:\(crlPort)/crl.der"])
        try Self.cnsgw(["testpki", "card", pki, "--cf", "RCCMNL83S18D969H", "--given-name", "Mario", "--surname", "Rossi"])
        try Self.cnsgw(["testpki", "card", pki, "--cf", "RSSMRA80A01H501U", "--given-name", "Maria", "--surname", "Verdi", "--revoked"])
        crlServer = try LocalService.httpServer(directory: pki, port: crlPort)
        try crlServer.waitUntilListening()
        balancerPublic = LocalService.freePort()
        balancerCard = LocalService.freePort()
        try admin(["ca", "add", pki + "/ca.pem", "--revocation", "crl-only"])
        for n in 0..<2 {
            instances.append(try ServeCommandTests.Server(["--no-demo"], data: folder + "/instance-\(n)", environment: environment + extraEnvironment))
        }
        try startBalancer()
    }

    deinit { stop() }

    func stop() {
        if let balancer { _ = balancer.terminate(timeout: 10); balancer.stop() }
        for instance in instances { instance.process.stop() }
        crlServer.stop()
        database.destroy()
    }

    /// An admin command on the shared database.
    @discardableResult
    func admin(_ arguments: [String]) throws -> CommandResult {
        let r = try runCommand("/usr/bin/env", ["CNSGW_STORAGE_URL=\(url)", "CNSGW_KEYS_ENCRYPTION_KEY=\(kek)", VerifyCommandTests.binary] + arguments
                               + ["--data-dir", folder + "/admin"])
        guard r.status == 0 else { throw ServiceError("cnsgw \(arguments.joined(separator: " ")) failed: \(r.stdout) \(r.stderr)") }
        return r
    }

    @discardableResult
    static func cnsgw(_ arguments: [String]) throws -> CommandResult {
        let r = try runCommand(VerifyCommandTests.binary, arguments)
        guard r.status == 0 else { throw ServiceError("cnsgw \(arguments.joined(separator: " ")) failed: \(r.stderr)") }
        return r
    }

    /// Restarts instance `n` (after a kill) on the same ports and data folder.
    func restart(_ n: Int) throws {
        instances[n].process.stop()
        instances[n] = try ServeCommandTests.Server(["--no-demo"], data: instances[n].data, ports: (instances[n].publicPort, instances[n].cardPort),
                                                    environment: environment)
    }

    /// A card login straight to instance `n`'s card listener: (status, body).
    func cardLogin(_ n: Int, card: String = TwoInstances.card) throws -> (Int, String) {
        let r = try runCommand("curl", ["-sk", "-o", "-", "-w", "\n%{http_code}", "--max-time", "20", "--cert", "\(pki)/cards/\(card).pem",
                                        "--key", "\(pki)/cards/\(card).key", "https://127.0.0.1:\(instances[n].cardPort)/login/card"])
        return (Int(r.stdout.split(separator: "\n").last ?? "") ?? 0, r.stdout)
    }

    /// The balancer: nginx round-robin over both instances' listeners, each upstream connection from 127.0.0.2
    /// with the README's certificate-header rules on the card side.
    func startBalancer() throws {
        let site = try ProxyDeploymentTests.snippet("nginx")
        guard let body = site.range(of: "location / {"), let end = site.range(of: "proxy_pass", range: body.upperBound..<site.endIndex) else {
            throw ServiceError("the README's nginx block changed shape")
        }
        let headerRules = String(site[body.upperBound..<end.lowerBound])
        _ = try runCommand("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=cns.example.it",
                                       "-keyout", folder + "/proxy.key", "-out", folder + "/proxy.pem"])
        try FileManager.default.createDirectory(atPath: folder + "/nginx/logs", withIntermediateDirectories: true)
        let upstream = { (name: String, port: (ServeCommandTests.Server) -> Int) in
            "upstream \(name) { \(self.instances.map { "server 127.0.0.1:\(port($0)) max_fails=0;" }.joined(separator: " ")) keepalive 64; }"
        }
        let n = folder + "/nginx"
        let conf = """
            daemon off;
            pid \(n)/nginx.pid;
            error_log \(n)/logs/error.log;
            worker_processes 1;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(n)/body; proxy_temp_path \(n)/proxy; fastcgi_temp_path \(n)/fastcgi; uwsgi_temp_path \(n)/uwsgi; scgi_temp_path \(n)/scgi;
                \(upstream("gateway_public", \.publicPort))
                \(upstream("gateway_card", \.cardPort))
                proxy_http_version 1.1;
                proxy_bind 127.0.0.2;
                proxy_next_upstream error timeout;
                server {
                    listen 127.0.0.1:\(balancerPublic) ssl;
                    ssl_certificate \(folder)/proxy.pem; ssl_certificate_key \(folder)/proxy.key;
                    location / {
                        proxy_set_header Connection "";
                        proxy_set_header X-Forwarded-For $remote_addr;
                        proxy_set_header Host $http_host;
                        proxy_pass https://gateway_public;
                    }
                }
                server {
                    listen 127.0.0.1:\(balancerCard) ssl;
                    ssl_certificate \(folder)/proxy.pem; ssl_certificate_key \(folder)/proxy.key;
                    ssl_verify_client optional_no_ca;
                    ssl_verify_depth 3;
                    ssl_session_tickets off;
                    underscores_in_headers off;
                    location / {
                        proxy_set_header Connection "";
                        proxy_set_header Host $http_host;
                        \(headerRules)
                        proxy_pass https://gateway_card;
                    }
                }
            }
            """
        try conf.write(toFile: n + "/nginx.conf", atomically: true, encoding: .utf8)
        balancer = try LocalService(["nginx", "-p", n, "-c", n + "/nginx.conf", "-e", n + "/logs/error.log"], port: balancerCard)
        try balancer.waitUntilListening(timeout: 20)
    }

    /// Resident memory of instance `n`, in kB.
    func residentKilobytes(_ n: Int) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(instances[n].process.pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
