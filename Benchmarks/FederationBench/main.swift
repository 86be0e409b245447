// cnsgw-federation-bench — issue 13's benchmark, run through bench/federation.sh (release build).
//
// The authorization endpoint's engine with the gateway's registrar over SQLite, against a federation served over HTTP
// on 127.0.0.1 (one trust anchor, N relying parties, each with its Entity Configuration, the anchor's Subordinate
// Statement and a trust mark). Three paths, interleaved round by round so that machine noise hits them alike:
//   first   — an RP whose chain is not cached: three statements fetched and verified, policies, trust mark, stored
//   cached  — the same RP again, its chain cached until exp
//   manual  — a client an admin registered (`cnsgw client add`), the baseline
// Each request is a full SPID authorization request (signed request object) that starts a login; cached and manual
// alternate which comes right after the first.
//
//   cnsgw-federation-bench [RELYING_PARTIES] [ROUNDS]
import Crypto
import FederationTestSupport
import Foundation
import GatewayAudit
import GatewayServer
import GatewayStorage
import GatewayStorageSQLite
import Logging
import LoginOutcome
import OIDC
import OpenIDFederation
import OutboundHTTP
import _CryptoExtras

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .error
    return handler
}

let arguments = CommandLine.arguments
let relyingParties = arguments.count > 1 ? Int(arguments[1]) ?? 100 : 100
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
let issuer = "https://op.example.it"
let mark = "https://www.spid.gov.it/certification/rp/public"

let federation = try LocalFederation()
let ta = federation.entity("ta")
federation.publishConfiguration(ta)
let core = LocalFederation.newKey("core")
func relyingParty(_ round: Int, _ i: Int) -> LocalFederation.Entity {
    let rp = federation.entity("r\(round)-rp\(i)")
    federation.publishConfiguration(rp, hints: [ta.id], metadata: LocalFederation.relyingPartyMetadata(rp, redirectURIs: [rp.id + "/cb"], core: core),
                                    extra: ["trust_marks": .array([federation.trustMark(mark, for: rp, by: ta)])])
    federation.publishStatement(by: ta, about: rp, policy: ["openid_relying_party": .object(["grant_types": .object(["subset_of": .array([.string("authorization_code")])])])])
    return rp
}
let population = (0..<rounds).map { round in (0..<relyingParties).map { relyingParty(round, $0) } }

let folder = NSTemporaryDirectory() + "cnsgw-federation-bench-\(UUID().uuidString)"
try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: folder) }
let storage = try SQLiteGatewayStorage(path: folder + "/cnsgw.sqlite")
let logger = Logger(label: "bench")
let anchor = FederationTrustAnchor(entityID: ta.id, jwks: JSONWebKeySet(keys: [ta.jwk]), requiredTrustMarks: [mark])
try await storage.storeRegistration(kind: FederationTrustAnchor.storageKind, id: ta.id, json: JSONEncoder().encode(anchor), now: Date())
let manualID = "https://manual.example.it/rp"
let manual = ClientRegistration(clientID: manualID, profile: .spid, redirectURIs: [manualID + "/cb"], authentication: .privateKeyJWT,
                                jwks: JSONWebKeySet(keys: [try core.publicJWK()]))
try await storage.storeRegistration(kind: ClientRegistration.storageKind, id: manualID, json: JSONEncoder().encode(manual), now: Date())
let clients = OIDCClientDirectory(clientsIn: storage, logger: logger)
let registrar = GatewayFederationRegistrar(storage: storage, anchors: RegistrationDirectory(trustAnchorsIn: storage, logger: logger),
                                           transport: GuardedHTTPTransport(allowPrivateAddresses: true), limits: .init(), refusalCache: 30,
                                           audit: AuditLog(storage: storage), logger: logger) { await clients.remember($0.clientID, $0) }
let signing = try JWSSigningKey(kid: "k1", algorithm: "RS256", privateKeyPEM: _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation)
let keys = try ProviderKeys(signing: ["RS256": signing], published: [try signing.publicJWK()], verification: [try JWSVerificationKey(try signing.publicJWK())])
let engine = OpenIDProviderEngine(provider: ProviderConfiguration(issuer: issuer), store: GatewayOIDCStore(storage: storage, audit: AuditLog(storage: storage)),
                                  clients: { try await clients.snapshot() }, keys: { keys }, federation: registrar)

func request(_ clientID: String) throws -> [String: String] {
    let t = Int64(Date().timeIntervalSince1970)
    let object: JSONObject = ["iss": .string(clientID), "aud": .array([.string(issuer)]), "client_id": .string(clientID), "response_type": .string("code"),
                              "scope": .string("openid"), "redirect_uri": .string(clientID + "/cb"), "state": .string(String(repeating: "s", count: 32)),
                              "nonce": .string(String(repeating: "n", count: 32)), "code_challenge": .string(Base64URL.encode(Data(SHA256.hash(data: Data("v".utf8))))),
                              "code_challenge_method": .string("S256"), "iat": .integer(t), "exp": .integer(t + 60), "jti": .string(UUID().uuidString)]
    return ["client_id": clientID, "response_type": "code", "scope": "openid", "redirect_uri": clientID + "/cb", "request": try core.sign(object, type: "JWT")]
}

/// One authorization request; seconds it took.
func authorize(_ clientID: String) async throws -> Double {
    let parameters = try request(clientID)
    let start = DispatchTime.now().uptimeNanoseconds
    let answer = try await engine.authorize(parameters, auditFields: [:], now: Date()) { _ in StartedLogin(id: UUID().uuidString, expiresAt: Date() + 600) }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    guard case .loginStarted = answer else { fatalError("\(clientID): \(answer)") }
    return elapsed
}

func percentile(_ values: [Double], _ p: Double) -> Double { let s = values.sorted(); return s[min(s.count - 1, Int(Double(s.count) * p))] }

// Warm-up: a few of each, not counted.
for _ in 0..<20 { _ = try await authorize(manualID) }
var first: [Double] = [], cached: [Double] = [], baseline: [Double] = []
for round in 0..<rounds {
    for (i, rp) in population[round].enumerated() {
        first.append(try await authorize(rp.id))
        // Which of the two comes right after the expensive first request alternates, so neither gets its aftermath.
        if i % 2 == 0 {
            cached.append(try await authorize(rp.id))
            baseline.append(try await authorize(manualID))
        } else {
            baseline.append(try await authorize(manualID))
            cached.append(try await authorize(rp.id))
        }
    }
}
func line(_ name: String, _ v: [Double]) -> String {
    let mean = v.reduce(0, +) / Double(v.count)
    return String(format: "%-7@ n=%d mean %.3f ms  p50 %.3f ms  p99 %.3f ms", name, v.count, mean * 1000, percentile(v, 0.5) * 1000, percentile(v, 0.99) * 1000)
}
print(line("first", first))
print(line("cached", cached))
print(line("manual", baseline))
let m = { (v: [Double]) in percentile(v, 0.5) }
print(String(format: "ratio p50: first/manual %.2f  cached/manual %.2f", m(first) / m(baseline), m(cached) / m(baseline)))
