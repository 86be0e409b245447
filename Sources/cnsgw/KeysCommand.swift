import ArgumentParser
import Foundation
import GatewayAudit
import GatewayKeys
import GatewayStorage

/// `cnsgw keys`: the gateway's signing keys and their rollover.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "The gateway's signing keys (SAML, OIDC, OpenID Federation) and their rollover.",
                                                    subcommands: [List.self, Rotate.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the signing keys with their state (next, active, retired).")
        @Flag(help: "Print a JSON array.") var json = false
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            let storage = try await data.openStorage()
            var keys: [SigningKeyRecord] = []
            for use in SigningKeyRecord.uses { keys += try await storage.signingKeys(use: use) }
            let formatter = ISO8601DateFormatter()
            if json {
                let rows: [[String: Any]] = keys.map { k in
                    ["id": k.id, "use": k.use, "algorithm": k.algorithm, "state": k.state.rawValue, "createdAt": formatter.string(from: k.createdAt),
                     "removeAfter": k.removeAfter.map(formatter.string(from:)) as Any? ?? NSNull()]
                }
                print(String(decoding: try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys]), as: UTF8.self))
            } else if keys.isEmpty {
                print("no signing keys yet: `cnsgw serve` generates them at its first start")
            } else {
                for k in keys { print("\(k.use)  \(k.algorithm)  \(k.state.rawValue)  \(k.id)  created \(formatter.string(from: k.createdAt))") }
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a new key for each active one; it signs after keys.publish_delay (a running gateway promotes it).")
        @Option(help: "saml, oidc, oidc-encryption, federation or all.") var use = "all"
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            guard (SigningKeyRecord.uses + ["all"]).contains(use) else { throw UsageError("--use must be \((SigningKeyRecord.uses + ["all"]).joined(separator: ", "))") }
            let storage = try await data.openStorage()
            let rotation = KeyRotation(storage: storage, policy: KeyRotation.Policy(), generate: SigningKeyFactory.generator)
            let added = try await rotation.rotate(uses: use == "all" ? SigningKeyRecord.uses : [use], now: Date())
            for key in added {
                try await AuditLog(storage: storage).append(kind: "admin", fields: ["action": "keys.rotate", "id": key.id, "use": key.use, "algorithm": key.algorithm])
                print("published \(key.use) \(key.algorithm) key \(key.id) as next")
            }
            if added.isEmpty { print("nothing to rotate: every active key already has a next one, or there are no keys yet") }
        }
    }
}
