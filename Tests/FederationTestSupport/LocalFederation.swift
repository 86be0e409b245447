import CNSTestSupport
import Crypto
import Foundation
import OIDC
import OpenIDFederation

/// A federation made at test time: entities with fresh P-256 federation keys, their statements signed and written
/// to a directory that a real HTTP server (Tests/Federation/statement_server.py) serves on 127.0.0.1.
public final class LocalFederation: @unchecked Sendable {
    // @unchecked Sendable: written by the test that owns it, before the resolver reads over HTTP.
    public struct Entity: Sendable {
        public let id: String
        public let path: String
        public let key: JWSSigningKey
        public var jwk: JSONWebKey { try! key.publicJWK() }
        public var fetchEndpoint: String { id + "/fetch" }
    }

    public let root: String
    let server: LocalService
    public var base: String { "http://127.0.0.1:\(server.port)" }

    public init() throws {
        root = NSTemporaryDirectory() + "cnsgw-federation-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Federation/statement_server.py").path
        let port = LocalService.freePort()
        server = try LocalService(["python3", script, root, "\(port)"], port: port)
        try server.waitUntilListening()
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: root)
    }

    /// A fresh P-256 key (ES256).
    public static func newKey(_ kid: String) -> JWSSigningKey {
        try! JWSSigningKey(kid: kid, algorithm: "ES256", privateKeyPEM: P256.Signing.PrivateKey().pemRepresentation)
    }

    public func entity(_ name: String) -> Entity {
        Entity(id: base + "/" + name, path: name, key: try! JWSSigningKey(kid: name + "-fed", algorithm: "ES256", privateKeyPEM: P256.Signing.PrivateKey().pemRepresentation))
    }

    public static func keySet(_ keys: [JSONWebKey]) -> JSONValue {
        .object(["keys": .array(keys.map { try! JSONValue.object(JSONObject.parse(JSONEncoder().encode($0))) })])
    }

    public func sign(_ claims: JSONObject, with key: JWSSigningKey, type: String = EntityStatement.jwtType) -> String {
        try! key.sign(claims, type: type)
    }

    public func write(_ text: String, to relative: String) {
        let path = root + "/" + relative
        try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Publishes `entity`'s Entity Configuration (self-signed unless `signer` is given).
    public func publishConfiguration(_ entity: Entity, hints: [String] = [], metadata: JSONObject = [:], extra: JSONObject = [:], signer: JWSSigningKey? = nil,
                              keys: [JSONWebKey]? = nil, now: Date = Date(), lifetime: TimeInterval = 3600) {
        var claims: JSONObject = ["iss": .string(entity.id), "sub": .string(entity.id), "iat": .integer(Int64(now.timeIntervalSince1970)),
                                  "exp": .integer(Int64((now + lifetime).timeIntervalSince1970)), "jwks": Self.keySet(keys ?? [entity.jwk])]
        var md = metadata
        md["federation_entity"] = .object((md["federation_entity"]?.object ?? [:]).merging(["federation_fetch_endpoint": .string(entity.fetchEndpoint),
                                                                                           "organization_name": .string(entity.path.uppercased())]) { own, _ in own })
        claims["metadata"] = .object(md)
        if !hints.isEmpty { claims["authority_hints"] = .array(hints.map(JSONValue.string)) }
        for (k, v) in extra { claims[k] = v }
        write(sign(claims, with: signer ?? entity.key), to: entity.path + "/.well-known/openid-federation")
    }

    /// Publishes `superior`'s Subordinate Statement about `subject` at the superior's fetch endpoint.
    public func publishStatement(by superior: Entity, about subject: Entity, policy: JSONObject? = nil, extra: JSONObject = [:], signer: JWSSigningKey? = nil,
                          now: Date = Date(), lifetime: TimeInterval = 3600) {
        var claims: JSONObject = ["iss": .string(superior.id), "sub": .string(subject.id), "iat": .integer(Int64(now.timeIntervalSince1970)),
                                  "exp": .integer(Int64((now + lifetime).timeIntervalSince1970)), "jwks": Self.keySet([subject.jwk])]
        if let policy { claims["metadata_policy"] = .object(policy) }
        for (k, v) in extra { claims[k] = v }
        write(sign(claims, with: signer ?? superior.key), to: superior.path + "/fetch/" + subject.id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))!)
    }

    /// A trust mark of `type` for `subject`, issued by `issuer`.
    public func trustMark(_ type: String, for subject: Entity, by issuer: Entity, now: Date = Date(), lifetime: TimeInterval? = 3600) -> JSONValue {
        var claims: JSONObject = ["iss": .string(issuer.id), "sub": .string(subject.id), "trust_mark_type": .string(type),
                                  "iat": .integer(Int64(now.timeIntervalSince1970))]
        if let lifetime { claims["exp"] = .integer(Int64((now + lifetime).timeIntervalSince1970)) }
        return .object(["trust_mark_type": .string(type), "trust_mark": .string(sign(claims, with: issuer.key, type: "trust-mark+jwt"))])
    }

    /// A relying party's `openid_relying_party` metadata with one signing key.
    public static func relyingPartyMetadata(_ rp: Entity, redirectURIs: [String], core: JWSSigningKey = newKey("core")) -> JSONObject {
        return ["openid_relying_party": .object([
            "client_id": .string(rp.id), "redirect_uris": .array(redirectURIs.map(JSONValue.string)), "response_types": .array([.string("code")]),
            "grant_types": .array([.string("authorization_code"), .string("refresh_token")]), "client_name": .string("RP " + rp.path),
            "token_endpoint_auth_method": .string("private_key_jwt"), "jwks": keySet([try! core.publicJWK()]),
        ])]
    }
}
