import AsyncHTTPClient
import CNSTestSupport
import Foundation
import NIOSSL
import Testing

/// AsyncHTTPClient with a card's certificate against the card listener, while an admin changes the trusted CAs.
@Suite(.serialized) struct HTTPClientTests {
    func client(card: String) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(card + ".pem").map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: card + ".key", format: .pem))
        tls.certificateVerification = .none   // the development server certificate is self-signed
        tls.maximumTLSVersion = .tlsv12      // as cards that cannot sign RSA-PSS
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    func status(_ client: HTTPClient, _ url: String) async throws -> (Int, String) {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    @Test("logins keep running while the CA is removed and added again: every request answered, the decisions follow the change")
    func trustChangesUnderLoad() async throws {
        let server = try ServeCommandTests.Server(environment: ["CNSGW_LIMITS_REQUESTS_PER_SECOND=0"])   // 160 logins from one address: no rate limit here
        defer { server.process.stop() }
        let good = try client(card: server.demo + "/cards/rccmnl83s18d969h")
        let revoked = try client(card: server.demo + "/cards/rssmra80a01h501u")
        defer { _ = good.shutdown(); _ = revoked.shutdown() }
        #expect(try await status(good, server.card).0 == 200)
        let (revokedStatus, revokedPage) = try await status(revoked, server.card)
        #expect(revokedStatus == 403 && revokedPage.contains("<code>revoked</code>"))

        let list = try runCommand(VerifyCommandTests.binary, ["ca", "list", "--data-dir", server.data, "--json"])
        let id = try #require((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        let outcomes = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var seen: [Int] = []
                    for _ in 0..<40 { seen.append(try await status(good, server.card).0) }
                    return seen
                }
            }
            group.addTask {
                #expect(try runCommand(VerifyCommandTests.binary, ["ca", "remove", id, "--data-dir", server.data]).status == 0)
                usleep(ServeCommandTests.trustPropagation)
                let during = try await status(good, server.card)
                #expect(during.0 == 403 && during.1.contains("<code>untrusted</code>"))
                #expect(try runCommand(VerifyCommandTests.binary, ["ca", "add", server.demo + "/ca.pem", "--data-dir", server.data,
                                                                   "--revocation", "crl-only", "--crl", server.demo + "/crl.der"]).status == 0)
                usleep(ServeCommandTests.trustPropagation)
                return [try await status(good, server.card).0]
            }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        #expect(outcomes.count == 161 && outcomes.allSatisfy { $0 == 200 || $0 == 403 }, "\(Dictionary(grouping: outcomes, by: { $0 }).mapValues(\.count))")
        #expect(try await status(good, server.card).0 == 200)
    }
}
