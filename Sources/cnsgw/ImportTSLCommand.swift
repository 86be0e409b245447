import ArgumentParser
import CNSValidation
import Foundation
import GatewayAudit
import GatewayStorage
import KeyMaterial
import TrustedList

extension CACommand {
    /// `cnsgw ca import-tsl`: the AgID trusted list's identity-verification CAs into the trust store.
    struct ImportTSL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-tsl",
            abstract: "Trust the identity-verification (IdV) CAs of an ETSI TS 119 612 trusted list, such as AgID's TSL-IT.xml.",
            discussion: """
            The list's XML signature must verify with --signer-cert (AgID's list-signing certificate), its NextUpdate \
            must not have passed and its sequence number must not be lower than the last imported one. Prints what \
            would change; --apply makes the change in one transaction (a running gateway sees all of it or none) and \
            audits it. Only CAs that an earlier import added are ever removed: CAs added with `ca add` are kept.
            Example: cnsgw ca import-tsl https://eidas.agid.gov.it/TL/TSL-IT.xml --signer-cert agid-tsl.pem --apply
            """
        )

        @Argument(help: "The trusted list: a file, or an http(s) URL.") var source: String
        @Option(help: "The certificate (PEM or DER) the list must be signed with.") var signerCert: String
        @Flag(help: "Make the change (default: only show it).") var apply = false
        @Flag(help: "Also trust CA certificates that have expired (by default they are skipped).") var includeExpired = false
        @Flag(help: "Print the plan as JSON.") var json = false
        @OptionGroup var policyOptions: AnchorPolicyOptions
        @OptionGroup var data: DataDirectoryOptions

        /// What the last import took, kept as a registration so the next import can remove what left the list.
        struct ImportState: Codable {
            var sequenceNumber: Int
            var issued: Date
            var caIDs: [String]
        }
        static let stateKind = "trusted-list-import"
        static let stateID = "default"

        struct Plan: Encodable {
            struct Entry: Encodable {
                var id: String
                var name: String
                var provider: String
                var subject: String
                var notAfter: Date
                /// Why it is skipped (skipped entries only).
                var reason: String?
            }
            var sequenceNumber: Int
            var issued: Date
            var nextUpdate: Date?
            var operatorName: String
            var add: [Entry] = []
            var keep: [Entry] = []
            var remove: [Entry] = []
            var skipped: [Entry] = []
            var applied = false
        }

        func read(_ path: String) async throws -> [UInt8] { try await readSource(path, maximumBytes: 32 << 20) }

        func run() async throws {
            let policy = try policyOptions.policy()
            let signer = try await read(signerCert)
            let now = Date()
            let list: TrustedList
            do { list = try TrustedList.load(try await read(source), signer: signer, now: now) } catch let error as TrustedListError {
                throw UsageError("the trusted list was refused (\(error.code.rawValue)): \(error.detail); nothing was changed")
            }
            let storage = try await data.openStorage()
            let previous = try await storage.registration(kind: Self.stateKind, id: Self.stateID)
                .flatMap { try? JSONDecoder().decode(ImportState.self, from: $0.json) }
            if let previous, list.sequenceNumber < previous.sequenceNumber {
                throw UsageError("the list's sequence number \(list.sequenceNumber) is lower than the last imported one (\(previous.sequenceNumber)): an old list is never applied; nothing was changed")
            }
            let trusted = Dictionary(uniqueKeysWithValues: try await storage.trustedCAs().map { ($0.id, $0) })
            var plan = Plan(sequenceNumber: list.sequenceNumber, issued: list.issued, nextUpdate: list.nextUpdate, operatorName: list.operatorName)
            var wanted: [String: (X509Certificate, TrustedList.Service)] = [:]
            for service in list.identityVerificationServices {
                for cert in service.certificates {
                    let entry = Plan.Entry(id: cert.fingerprintHex, name: service.serviceName, provider: service.providerName, subject: cert.subject,
                                           notAfter: cert.notAfter)
                    if !cert.isCA {
                        var skip = entry
                        skip.reason = "not a CA certificate"
                        plan.skipped.append(skip)
                    } else if cert.notAfter < now && !includeExpired {
                        var skip = entry
                        skip.reason = "expired"
                        plan.skipped.append(skip)
                    } else if wanted[cert.fingerprintHex] == nil {
                        wanted[cert.fingerprintHex] = (cert, service)
                        if trusted[cert.fingerprintHex] == nil { plan.add.append(entry) } else { plan.keep.append(entry) }
                    }
                }
            }
            for id in previous?.caIDs ?? [] where wanted[id] == nil {
                guard let record = trusted[id], let cert = try? X509Certificate(derEncoded: [UInt8](record.certificateDER)) else { continue }
                plan.remove.append(Plan.Entry(id: id, name: record.name, provider: "", subject: cert.subject, notAfter: cert.notAfter))
            }

            if apply {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let policyJSON = try encoder.encode(policy)
                let additions = plan.add.map { e in
                    TrustedCARecord(id: e.id, name: e.name.isEmpty ? e.subject : e.name, certificateDER: Data(wanted[e.id]!.0.derBytes), policyJSON: policyJSON,
                                    addedAt: now)
                }
                try await storage.applyTrustChanges(adding: additions, removing: plan.remove.map(\.id))
                // The CAs this import manages: what it added now, and what earlier imports added and the list still has.
                // A CA an admin added by hand before is never taken over, so never removed by a later import.
                let managed = plan.add.map(\.id) + plan.keep.map(\.id).filter { previous?.caIDs.contains($0) ?? false }
                let state = try JSONEncoder().encode(ImportState(sequenceNumber: list.sequenceNumber, issued: list.issued, caIDs: managed))
                if try await storage.registration(kind: Self.stateKind, id: Self.stateID) == nil {
                    try await storage.addRegistration(RegistrationRecord(kind: Self.stateKind, id: Self.stateID, json: state, createdAt: now, updatedAt: now))
                } else {
                    try await storage.replaceRegistration(kind: Self.stateKind, id: Self.stateID, json: state, now: now)
                }
                let audit = AuditLog(storage: storage)
                for e in plan.add {
                    try await audit.append(kind: "admin", fields: ["action": "ca.add", "id": e.id, "name": e.name, "subject": e.subject,
                                                                   "policy": String(decoding: policyJSON, as: UTF8.self), "by": "cnsgw ca import-tsl"])
                }
                for e in plan.remove {
                    try await audit.append(kind: "admin", fields: ["action": "ca.remove", "id": e.id, "name": e.name, "by": "cnsgw ca import-tsl"])
                }
                try await audit.append(kind: "admin", fields: ["action": "ca.import-tsl", "sequence": "\(list.sequenceNumber)", "source": source,
                                                               "added": "\(plan.add.count)", "removed": "\(plan.remove.count)", "kept": "\(plan.keep.count)"])
                plan.applied = true
            }
            report(plan)
        }

        func report(_ plan: Plan) {
            if json {
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: (try? encoder.encode(plan)) ?? Data(), as: UTF8.self))
                return
            }
            print("trusted list of \(plan.operatorName): sequence \(plan.sequenceNumber), issued \(plan.issued), next update \(plan.nextUpdate.map { "\($0)" } ?? "-"); signature verified")
            for e in plan.add { print("  + add     \(e.id.prefix(16))  \(e.name) (\(e.provider))") }
            for e in plan.keep { print("  = keep    \(e.id.prefix(16))  \(e.name)") }
            for e in plan.remove { print("  - remove  \(e.id.prefix(16))  \(e.name) (no longer in force in the list)") }
            for e in plan.skipped { print("  ! skip    \(e.id.prefix(16))  \(e.name): \(e.reason ?? "")") }
            print(plan.applied ? "applied: \(plan.add.count) added, \(plan.remove.count) removed, \(plan.keep.count) kept"
                               : "nothing changed: \(plan.add.count) to add, \(plan.remove.count) to remove; run again with --apply")
        }
    }
}
