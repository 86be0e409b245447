// cnsgw-oidc-load: OIDC load against a running gateway, with a SPID-profile client (request objects,
// private_key_jwt), from Swift so that the client is not what limits the figures (a Python client was: it used six
// times the gateway's CPU). Phases: full logins (request object, card handshake on a new TLS connection, consent,
// code) for SECONDS; every code exchanged at the token endpoint (code + PKCE + private_key_jwt); userinfo with the
// access tokens for SECONDS. Client JWTs are signed before the phase that sends them. Prints one JSON object.
//
//   cnsgw-oidc-load keys DIR                  a client key (DIR/client.pem) and its JWKS (DIR/client.jwks)
//   cnsgw-oidc-load run ISSUER CLIENT_ID REDIRECT_URI DIR CARD_PEM CARD_KEY SECONDS CLIENTS [SERVE_PID[,SERVE_PID…]]
//   (several PIDs: gateway CPU summed over the instances; CNSGW_LOAD_LOGINS=N: exactly N logins instead of SECONDS)
import AsyncHTTPClient
import CNSTestPKI
import Crypto
import Foundation
import KeyMaterial
import NIOCore
import NIOHTTP1
import NIOSSL
import OIDC

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(2)
}

let args = CommandLine.arguments
guard args.count >= 3 else { fail("usage: cnsgw-oidc-load keys DIR | run ISSUER CLIENT_ID REDIRECT_URI DIR CARD_PEM CARD_KEY SECONDS CLIENTS [SERVE_PID]") }

if args[1] == "keys" {
    let pem = try PrivateKey(.rsa2048).pemPrivateKey
    try pem.write(toFile: args[2] + "/client.pem", atomically: true, encoding: .utf8)
    let jwk = try JWSSigningKey(kid: "load-sig", algorithm: "RS256", privateKeyPEM: pem).publicJWK()
    // An encryption key too, so userinfo takes the full SPID path (signed, then encrypted).
    var encryption = try JWSSigningKey(kid: "load-enc", algorithm: "RS256", privateKeyPEM: try PrivateKey(.rsa2048).pemPrivateKey).publicJWK()
    encryption.use = "enc"
    encryption.alg = nil
    try JSONEncoder().encode(JSONWebKeySet(keys: [jwk, encryption])).write(to: URL(fileURLWithPath: args[2] + "/client.jwks"))
    exit(0)
}
guard args.count >= 10 else { fail("run needs ISSUER CLIENT_ID REDIRECT_URI DIR CARD_PEM CARD_KEY SECONDS CLIENTS") }
let (issuer, clientID, redirectURI, dir) = (args[2], args[3], args[4], args[5])
let seconds = Double(args[8])!, clients = Int(args[9])!
let servePID = args.count > 10 ? args[10] : nil
let signer = try JWSSigningKey(kid: "load-sig", algorithm: "RS256", privateKeyPEM: String(contentsOfFile: dir + "/client.pem", encoding: .utf8))

var publicTLS = TLSConfiguration.makeClientConfiguration()
publicTLS.certificateVerification = .none   // the development server certificate is self-signed
var cardTLS = publicTLS
cardTLS.certificateChain = try NIOSSLCertificate.fromPEMFile(args[6]).map { .certificate($0) }
cardTLS.privateKey = .privateKey(try NIOSSLPrivateKey(file: args[7], format: .pem))
var configuration = HTTPClient.Configuration(tlsConfiguration: publicTLS, redirectConfiguration: .disallow)
configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = clients
let web = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
configuration.tlsConfiguration = cardTLS
let cardClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

@Sendable func serverCPU() -> Double {
    guard let servePID else { return 0 }
    return servePID.split(separator: ",").reduce(0) { total, pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let tail = stat.split(separator: ")").last else { return total }
        let fields = tail.split(separator: " ")
        return total + (Double(fields[11])! + Double(fields[12])!) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

@Sendable func form(_ fields: [(String, String)]) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
}

@Sendable func send(_ client: HTTPClient, _ url: String, method: HTTPMethod = .GET, body: String? = nil, headers: [(String, String)] = []) async throws
    -> (status: UInt, location: String?, body: String, cookie: String?) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body {
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: body))
    }
    let response = try await client.execute(request, timeout: .seconds(30))
    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
    // The first `name=value` of Set-Cookie: the login's binding cookie, which the browser sends back to /oidc/continue.
    let cookie = response.headers.first(name: "set-cookie").map { String($0.prefix { $0 != ";" }) }
    return (response.status.code, response.headers.first(name: "location"), text, cookie)
}

/// The work left and what was measured, shared by the tasks of one phase.
actor PhaseQueue<Item: Sendable, Output: Sendable> {
    var items: [Item]?
    var latencies: [Double] = []
    var outputs: [Output] = []
    var failures = 0
    init(_ items: [Item]?) { self.items = items }
    func next() -> (Bool, Item?) {
        guard items != nil else { return (true, nil) }
        guard let item = items!.popLast() else { return (false, nil) }
        return (true, item)
    }
    func done(_ latency: Double, _ output: Output) { latencies.append(latency); outputs.append(output) }
    func failed() -> Int { failures += 1; return failures }
}

struct PhaseResult: Encodable {
    let rate: Double, p50_ms: Double?, p99_ms: Double?, ok: Int, failed: Int, server_cpu_us: Int
}

/// Runs `work` from `clients` tasks until `deadline` or until `next` has nothing left.
func phase<Item: Sendable, Output: Sendable>(deadline: Date?, items: [Item]?, _ work: @escaping @Sendable (Item?) async throws -> Output) async -> (PhaseResult, [Output]) {
    let queue = PhaseQueue<Item, Output>(items)
    let cpu = serverCPU(), started = Date()
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<clients {
            group.addTask {
                while deadline.map({ Date() < $0 }) ?? true {
                    let (more, item) = await queue.next()
                    guard more else { return }
                    let t = Date()
                    do {
                        let output = try await work(item)
                        await queue.done(Date().timeIntervalSince(t), output)
                    } catch {
                        if await queue.failed() <= 3 { FileHandle.standardError.write(Data("failed: \(error)\n".utf8)) }
                    }
                }
            }
        }
    }
    let wall = Date().timeIntervalSince(started), used = serverCPU() - cpu
    let sorted = await queue.latencies.sorted()
    func pct(_ p: Double) -> Double? { sorted.isEmpty ? nil : (sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 10_000).rounded() / 10 }
    let outputs = await queue.outputs
    return (PhaseResult(rate: (Double(sorted.count) / wall * 10).rounded() / 10, p50_ms: pct(0.5), p99_ms: pct(0.99), ok: sorted.count,
                        failed: await queue.failures, server_cpu_us: Int(used / Double(max(1, sorted.count)) * 1e6)), outputs)
}

struct LoadError: Error, CustomStringConvertible {
    let description: String
}

/// A signed SPID request object and its PKCE verifier.
@Sendable func authorization() throws -> (url: String, verifier: String) {
    let verifier = TokenIssuer.randomToken() + "v"
    let challenge = Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8))))
    let t = Int64(Date().timeIntervalSince1970)
    let object = try signer.sign([
        "iss": .string(clientID), "aud": .string(issuer), "iat": .integer(t), "exp": .integer(t + 600), "jti": .string(TokenIssuer.randomID()),
        "client_id": .string(clientID), "response_type": .string("code"), "scope": .string("openid"), "redirect_uri": .string(redirectURI),
        "state": .string(Hex(32)), "nonce": .string(Hex(32)), "code_challenge": .string(challenge), "code_challenge_method": .string("S256"),
        "acr_values": .string("https://www.spid.gov.it/SpidL2"), "prompt": .string("consent login"),
        "claims": .object(["userinfo": .object([IdentityClaims.fiscalNumber: .null, "given_name": .null])]),
    ], type: "JWT")
    return (issuer + "/oidc/authorize?" + form([("client_id", clientID), ("response_type", "code"), ("scope", "openid"), ("redirect_uri", redirectURI),
                                                ("request", object)]), verifier)
}

@Sendable func Hex(_ count: Int) -> String { String(TokenIssuer.randomToken().filter { $0.isLetter || $0.isNumber }.prefix(count)).padding(toLength: count, withPad: "a", startingAt: 0) }

@Sendable func assertion() throws -> String {
    let t = Int64(Date().timeIntervalSince1970)
    return try signer.sign(["iss": .string(clientID), "sub": .string(clientID), "aud": .string(issuer + "/oidc/token"), "iat": .integer(t),
                            "exp": .integer(t + 600), "jti": .string(TokenIssuer.randomID())], type: "JWT")
}

@Sendable func query(_ url: String, _ name: String) -> String? {
    URLComponents(string: url)?.queryItems?.first { $0.name == name }?.value
}

/// One full login: authorize, the card listener (a new TLS connection for the card: the consent closes it), consent,
/// continue; returns the code and its verifier.
@Sendable func login(_ prepared: (url: String, verifier: String)?) async throws -> (code: String, verifier: String) {
    let (url, verifier) = prepared!
    let start = try await send(web, url)
    guard start.status == 303, var card = start.location else { throw LoadError(description: "authorize answered \(start.status)") }
    var page = try await send(cardClient, card)
    for _ in 0..<2 where page.status == 303 && page.location?.contains("/login/card") == true {   // a reused connection sent back
        card = URL(string: page.location!, relativeTo: URL(string: card))!.absoluteString
        page = try await send(cardClient, card)
    }
    guard page.body.contains("value=\"approve\""), let loginID = query(card, "login"),
          let tokenStart = page.body.range(of: "name=\"token\" value=\"") else { throw LoadError(description: "no consent page: \(page.status) \(page.location ?? "")") }
    let token = String(page.body[tokenStart.upperBound...].prefix { $0 != "\"" })
    let consent = try await send(cardClient, URL(string: "/login/consent", relativeTo: URL(string: card))!.absoluteString, method: .POST,
                                 body: form([("login", loginID), ("decision", "approve"), ("token", token)]), headers: [("Connection", "close")])
    guard consent.status == 303, let back = consent.location else { throw LoadError(description: "consent answered \(consent.status)") }
    let done = try await send(web, back, headers: start.cookie.map { [("Cookie", $0)] } ?? [])
    guard done.status == 303, let callback = done.location, let code = query(callback, "code") else { throw LoadError(description: "continue answered \(done.status)") }
    return (code, verifier)
}

// CNSGW_LOAD_LOGINS=N: exactly N logins, however long they take (the scale-out load test); else logins for SECONDS.
let exactLogins = ProcessInfo.processInfo.environment["CNSGW_LOAD_LOGINS"].flatMap(Int.init)
let prepared = try (0..<(exactLogins ?? Int(seconds * 400))).map { _ in try authorization() }
let (logins, codes) = await phase(deadline: exactLogins == nil ? Date() + seconds : nil, items: prepared) { try await login($0) }
let exchanges = try codes.map { ($0.code, $0.verifier, try assertion()) }
let (tokens, accessTokens) = await phase(deadline: nil, items: exchanges) { item -> String in
    let (code, verifier, clientAssertion) = item!
    let r = try await send(web, issuer + "/oidc/token", method: .POST, body: form([
        ("grant_type", "authorization_code"), ("code", code), ("code_verifier", verifier), ("redirect_uri", redirectURI),
        ("client_assertion_type", ClientAuthenticator.assertionType), ("client_assertion", clientAssertion)]))
    guard r.status == 200, let token = (try? JSONObject.parse(Data(r.body.utf8)))?["access_token"]?.string else { throw LoadError(description: "token \(r.status) \(r.body)") }
    return token
}
let pool = accessTokens
let (userinfo, _) = await phase(deadline: Date() + seconds, items: nil as [Int]?) { _ -> Int in
    guard !pool.isEmpty else { throw LoadError(description: "no tokens") }
    let r = try await send(web, issuer + "/oidc/userinfo", headers: [("Authorization", "Bearer " + pool.randomElement()!)])
    guard r.status == 200, r.body.split(separator: ".").count == 5 else {
        if r.status != 200 { FileHandle.standardError.write(Data("userinfo \(r.status) \(r.body.prefix(300))\n".utf8)) }
        throw LoadError(description: "userinfo \(r.status)")
    }
    return 0
}
let encoder = JSONEncoder()
encoder.outputFormatting = [.sortedKeys]
print(String(decoding: try encoder.encode(["logins": logins, "token": tokens, "userinfo": userinfo]), as: UTF8.self))
try await web.shutdown()
try await cardClient.shutdown()
