import ArgumentParser
import Foundation
import GatewayAudit
import GatewayStorage
import OIDC
import OpenIDFederation
import OutboundHTTP

/// `cnsgw federation`: the gateway as a member of an OpenID Federation (SPID/CIE OIDC): the trust anchors whose
/// relying parties it registers automatically, its own trust marks, and the state of resolved chains.
struct FederationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "federation", abstract: "OpenID Federation: trust anchors, the gateway's trust marks, resolved relying parties.",
        discussion: """
            The gateway publishes its Entity Configuration at /.well-known/openid-federation (federation.* settings name its \
            superiors and organisation). A relying party whose client_id is an entity identifier is registered automatically \
            when its trust chain reaches an anchor added here.
            """,
        subcommands: [Anchor.self, TrustMark.self, Status.self])

    struct Anchor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "anchor", abstract: "The trust anchors relying parties are trusted through.",
                                                        subcommands: [Add.self, List.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Pin a trust anchor and its federation keys.",
                discussion: """
                    --jwks is a file or an https URL holding the anchor's federation keys: a JWK Set (JSON), or the anchor's own \
                    Entity Configuration (a JWT, which must be signed by one of the keys it lists and name ENTITY_ID). Compare the \
                    printed key IDs and thumbprints with those the federation publishes out of band: these keys are what every \
                    chain is checked against.
                    """)
            @Argument(help: "The anchor's entity identifier, exactly as its statements name it.") var entityID: String
            @Option(help: "A file or URL with the anchor's federation keys (JWK Set or Entity Configuration).") var jwks: String
            @Option(name: .customLong("require-trust-mark"),
                    help: "A trust mark type every relying party under this anchor must carry (repeatable; TYPE1|TYPE2: either one).")
            var requiredTrustMarks: [String] = []
            @Flag(help: "Replace an anchor pinned with the same identifier.") var replace = false
            @OptionGroup var data: DataDirectoryOptions

            func run() async throws {
                guard FederationEndpoints.isEntityIdentifier(entityID) else {
                    throw UsageError("'\(entityID)' is not an entity identifier (an https URL without query or fragment)")
                }
                let keys = try Self.keys(from: try await readSource(jwks, maximumBytes: 256 * 1024), entityID: entityID)
                let anchor = FederationTrustAnchor(entityID: entityID, jwks: keys, requiredTrustMarks: requiredTrustMarks)
                let storage = try await data.openStorage()
                let json = try JSONEncoder().encode(anchor)
                let now = Date()
                do {
                    try await storage.addRegistration(RegistrationRecord(kind: FederationTrustAnchor.storageKind, id: entityID, json: json, createdAt: now, updatedAt: now))
                } catch let error as StorageError where error.code == .alreadyExists {
                    guard replace else { throw UsageError("trust anchor \(entityID) is already pinned: use --replace, or `cnsgw federation anchor remove` first") }
                    try await storage.replaceRegistration(kind: FederationTrustAnchor.storageKind, id: entityID, json: json, now: now)
                }
                let thumbprints = keys.keys.map { "\($0.kid ?? "(no kid)") \(JSONWebKeyThumbprint.sha256($0))" }
                try await AuditLog(storage: storage).append(kind: "admin", fields: [
                    "action": replace ? "federation.anchor.replace" : "federation.anchor.add", "anchor": entityID,
                    "keys": thumbprints.joined(separator: ", "), "requiredTrustMarks": requiredTrustMarks.joined(separator: " "),
                ])
                print("pinned trust anchor \(entityID) with \(keys.keys.count) key(s):")
                for line in thumbprints { print("  \(line)") }
                if !requiredTrustMarks.isEmpty { print("relying parties must carry: \(requiredTrustMarks.joined(separator: ", "))") }
            }

            /// The keys in a JWK Set, or in a self-signed Entity Configuration of `entityID`.
            static func keys(from bytes: [UInt8], entityID: String) throws -> JSONWebKeySet {
                let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                let set: JSONWebKeySet
                if text.hasPrefix("{") {
                    do { set = try JSONWebKeySet.parse(Data(text.utf8)) } catch let error as OIDCError { throw UsageError("--jwks was refused: \(error.detail)") }
                } else {
                    let statement: EntityStatement
                    do { statement = try EntityStatement(verifying: text, keys: nil, now: Date(), clockSkew: 60, source: "the anchor's Entity Configuration") }
                    catch let error as FederationError { throw UsageError("--jwks was refused: \(error.detail)") }
                    guard statement.issuer == entityID, statement.subject == entityID else {
                        throw UsageError("--jwks is the Entity Configuration of \(statement.subject), not of \(entityID)")
                    }
                    set = JSONWebKeySet(keys: statement.jwks)
                }
                guard !set.keys.isEmpty, set.keys.allSatisfy(\.isForSigning) else { throw UsageError("--jwks holds no signature keys (or keys marked for encryption)") }
                return set
            }
        }

        struct List: RegistryListCommand {
            static let configuration = CommandConfiguration(abstract: "List the pinned trust anchors.")
            static let emptyHint = "no trust anchors: pin one with `cnsgw federation anchor add ENTITY_ID --jwks FILE_OR_URL`"
            @Flag(help: "Print a JSON array.") var json = false
            @OptionGroup var data: DataDirectoryOptions

            func entries(_ storage: any GatewayStorage) async throws -> [FederationTrustAnchor] {
                try await storage.registrations(kind: FederationTrustAnchor.storageKind).map { try JSONDecoder().decode(FederationTrustAnchor.self, from: $0.json) }
            }
            func row(_ a: FederationTrustAnchor) -> [String: Any] {
                ["entityID": a.entityID, "keys": a.jwks.keys.map { ["kid": $0.kid ?? "", "thumbprint": JSONWebKeyThumbprint.sha256($0)] },
                 "requiredTrustMarks": a.requiredTrustMarks]
            }
            func line(_ a: FederationTrustAnchor) -> String {
                "\(a.entityID)  keys: \(a.jwks.keys.compactMap(\.kid).joined(separator: ","))"
                    + (a.requiredTrustMarks.isEmpty ? "" : "  requires: \(a.requiredTrustMarks.joined(separator: " "))")
            }
        }

        struct Remove: RegistryRemoveCommand {
            static let configuration = CommandConfiguration(
                abstract: "Unpin a trust anchor; the relying parties registered through it are removed at once (their tokens stop working).")
            @Argument(help: "The anchor's entity identifier.") var entityID: String
            @OptionGroup var data: DataDirectoryOptions

            func remove(from storage: any GatewayStorage) async throws -> (audit: [String: String], said: String) {
                try await removeRegistration(kind: FederationTrustAnchor.storageKind, id: entityID, from: storage, unknown: "no trust anchor \(entityID) is pinned")
                var removed: [String] = []
                for record in try await storage.registrations(kind: ClientRegistration.storageKind) {
                    guard let client = try? JSONDecoder().decode(ClientRegistration.self, from: record.json), client.federation?.trustAnchor == entityID else { continue }
                    try await storage.removeRegistration(kind: ClientRegistration.storageKind, id: record.id)
                    removed.append(record.id)
                }
                return (["action": "federation.anchor.remove", "anchor": entityID, "clientsRemoved": removed.joined(separator: " ")],
                        "unpinned trust anchor \(entityID)" + (removed.isEmpty ? "" : "; removed \(removed.count) relying party registration(s) made through it"))
            }
        }
    }

    struct TrustMark: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "trust-mark", abstract: "The trust marks the gateway's Entity Configuration carries.",
                                                        subcommands: [Add.self, List.self, Remove.self])

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Install a trust mark issued to the gateway (a JWT, or @FILE).")
            @Argument(help: "The trust mark JWT, or @FILE holding it.") var jwt: String
            @Option(help: "The gateway's entity identifier, its public URL (default $CNSGW_PUBLIC_URL).") var entityID: String?
            @OptionGroup var data: DataDirectoryOptions

            func run() async throws {
                let text = jwt.hasPrefix("@") ? try String(contentsOfFile: String(jwt.dropFirst()), encoding: .utf8) : jwt
                guard let subject = entityID ?? ProcessInfo.processInfo.environment["CNSGW_PUBLIC_URL"] else {
                    throw UsageError("give --entity-id: the gateway's entity identifier (its public URL), which the trust mark must be issued to")
                }
                let mark: InstalledTrustMark
                do { mark = try InstalledTrustMark(jwt: text.trimmingCharacters(in: .whitespacesAndNewlines), subject: subject) }
                catch let error as FederationError { throw UsageError("the trust mark was refused: \(error.detail)") }
                if let expiry = mark.expiresAt, expiry <= Date() { throw UsageError("the trust mark expired at \(ISO8601DateFormatter().string(from: expiry))") }
                let storage = try await data.openStorage()
                try await storage.storeRegistration(kind: InstalledTrustMark.storageKind, id: mark.type, json: try JSONEncoder().encode(mark), now: Date())
                try await AuditLog(storage: storage).append(kind: "admin", fields: ["action": "federation.trust_mark.add", "type": mark.type, "issuer": mark.issuer])
                print("installed trust mark \(mark.type) issued by \(mark.issuer)" + (mark.expiresAt.map { ", valid until \(ISO8601DateFormatter().string(from: $0))" } ?? ""))
            }
        }

        struct List: RegistryListCommand {
            static let configuration = CommandConfiguration(abstract: "List the gateway's trust marks.")
            static let emptyHint = "no trust marks: install one with `cnsgw federation trust-mark add JWT`"
            @Flag(help: "Print a JSON array.") var json = false
            @OptionGroup var data: DataDirectoryOptions

            func entries(_ storage: any GatewayStorage) async throws -> [InstalledTrustMark] {
                try await storage.registrations(kind: InstalledTrustMark.storageKind).map { try JSONDecoder().decode(InstalledTrustMark.self, from: $0.json) }
            }
            func row(_ m: InstalledTrustMark) -> [String: Any] {
                ["type": m.type, "issuer": m.issuer, "expiresAt": m.expiresAt.map { ISO8601DateFormatter().string(from: $0) } as Any? ?? NSNull()]
            }
            func line(_ m: InstalledTrustMark) -> String {
                "\(m.type)  issued by \(m.issuer)" + (m.expiresAt.map { "  until \(ISO8601DateFormatter().string(from: $0))" } ?? "")
            }
        }

        struct Remove: RegistryRemoveCommand {
            static let configuration = CommandConfiguration(abstract: "Remove one of the gateway's trust marks.")
            @Argument(help: "The trust mark type.") var type: String
            @OptionGroup var data: DataDirectoryOptions

            func remove(from storage: any GatewayStorage) async throws -> (audit: [String: String], said: String) {
                try await removeRegistration(kind: InstalledTrustMark.storageKind, id: type, from: storage, unknown: "no trust mark \(type) is installed")
                return (["action": "federation.trust_mark.remove", "type": type], "removed trust mark \(type)")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The pinned anchors, the gateway's trust marks and the relying parties resolved through chains.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            let storage = try await data.openStorage()
            let anchors = try await storage.registrations(kind: FederationTrustAnchor.storageKind).map { try JSONDecoder().decode(FederationTrustAnchor.self, from: $0.json) }
            let marks = try await storage.registrations(kind: InstalledTrustMark.storageKind).map { try JSONDecoder().decode(InstalledTrustMark.self, from: $0.json) }
            let clients = try await storage.registrations(kind: ClientRegistration.storageKind)
                .compactMap { try? JSONDecoder().decode(ClientRegistration.self, from: $0.json) }.filter { $0.federation != nil }
            let iso = ISO8601DateFormatter(), now = Date()
            if json {
                let body: [String: Any] = [
                    "anchors": anchors.map { ["entityID": $0.entityID, "keys": $0.jwks.keys.compactMap(\.kid), "requiredTrustMarks": $0.requiredTrustMarks] },
                    "trustMarks": marks.map { ["type": $0.type, "issuer": $0.issuer, "expiresAt": $0.expiresAt.map(iso.string(from:)) as Any? ?? NSNull()] },
                    "chains": clients.map { c -> [String: Any] in
                        let f = c.federation!
                        return ["entityID": c.clientID, "trustAnchor": f.trustAnchor, "expiresAt": iso.string(from: f.expiresAt), "expired": f.expiresAt <= now,
                                "resolvedAt": iso.string(from: f.resolvedAt), "path": f.path, "trustMarks": f.trustMarks]
                    },
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self))
                return
            }
            print("trust anchors: \(anchors.isEmpty ? "none (automatic registration is off)" : "")")
            for a in anchors { print("  \(a.entityID)  \(a.jwks.keys.count) key(s)" + (a.requiredTrustMarks.isEmpty ? "" : "  requires \(a.requiredTrustMarks.joined(separator: " "))")) }
            print("trust marks of the gateway: \(marks.isEmpty ? "none" : "")")
            for m in marks { print("  \(m.type)  by \(m.issuer)" + (m.expiresAt.map { "  until \(iso.string(from: $0))" } ?? "")) }
            print("resolved relying parties: \(clients.isEmpty ? "none" : "")")
            for c in clients {
                let f = c.federation!
                print("  \(c.clientID)  via \(f.path.dropFirst().joined(separator: " > "))  \(f.expiresAt > now ? "valid until" : "expired at") \(iso.string(from: f.expiresAt))")
            }
        }
    }
}
