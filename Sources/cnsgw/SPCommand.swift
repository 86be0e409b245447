import ArgumentParser
import CNSValidation
import Foundation
import GatewayAudit
import GatewayStorage
import SAML

/// `cnsgw sp`: the SAML service providers the gateway answers.
struct SPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sp",
        abstract: "Manage the SAML service providers (stored in the data folder, audited, seen by a running gateway within a second).",
        subcommands: [Add.self, List.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a service provider from its SAML metadata (a file or an https URL).")
        @Argument(help: "The SP's metadata: a file, or an http(s) URL.") var source: String
        @Option(help: "spid (every SPID rule) or saml2 (standard Web Browser SSO). Default: spid when the metadata has SPID extensions.")
        var profile: String?
        @Option(help: "The least level asserted, and the level of saml2 requests without RequestedAuthnContext: SpidL1, SpidL2 (default), SpidL3.")
        var level = SpidLevel.spidL2.rawValue
        @Option(help: "For saml2 SPs: the SPID attribute names released, comma-separated (default: the metadata's first AttributeConsumingService, else fiscalNumber).")
        var attributes: String?
        @Flag(inversion: .prefixedNo,
              help: "Sign the Response as well as the Assertion (the default: SPs on pysaml2's defaults, djangosaml2-spid among them, require it).")
        var signResponse = true
        @Flag(help: "Encrypt assertions to the SP's encryption key.") var encrypt = false
        @Flag(name: .customLong("allow-sha1"), help: "Accept SHA-1 signatures from this SP (refused by default).") var allowSHA1 = false
        @Flag(help: "Never release attributes computed from the codice fiscale (dateOfBirth, gender, placeOfBirth, countyOfBirth).")
        var noDerivedAttributes = false
        @Option(help: "The federation certificate the metadata's signature must verify with (required for URL sources).") var federationCert: String?
        @Option(help: "The name citizens know the service by, shown on the consent and error pages (default: the metadata's mdui:DisplayName, else OrganizationDisplayName).")
        var displayName: String?
        @Flag(help: "Replace an SP registered with the same entity ID.") var replace = false
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            guard let level = SpidLevel(rawValue: level) else { throw UsageError("--level must be SpidL1, SpidL2 or SpidL3") }
            let isURL = source.hasPrefix("https://") || source.hasPrefix("http://")
            if isURL && federationCert == nil { throw UsageError("metadata from a URL needs --federation-cert: its signature is what makes it trustworthy") }
            let bytes = try await read(source)
            var federation: [UInt8]?
            if let federationCert { federation = try await read(federationCert) }
            let metadata: ServiceProviderMetadata
            do { metadata = try ServiceProviderMetadata.parse(bytes, federationCertificate: federation) } catch let error as MetadataError {
                throw UsageError("the metadata was refused (\(error.code.rawValue)): \(error.detail); nothing was registered")
            }
            let chosen: ServiceProviderRegistration.Profile
            if let profile {
                guard let p = ServiceProviderRegistration.Profile(rawValue: profile) else { throw UsageError("--profile must be spid or saml2") }
                chosen = p
            } else {
                chosen = metadata.hasSPIDExtensions ? .spid : .saml2
            }
            if encrypt {
                guard let certificate = metadata.encryptionCertificates.first else {
                    throw UsageError("--encrypt: the metadata has no encryption key (KeyDescriptor use=\"encryption\")")
                }
                guard certificate.publicKeyAlgorithm == "RSA" else { throw UsageError("--encrypt: the encryption key must be RSA (RSA-OAEP key transport)") }
            }
            let names = attributes.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } } ?? []
            for name in names where !AssertedAttributes.offered.contains(name) {
                throw UsageError("--attributes: '\(name)' cannot be asserted from a CNS card; offered: \(AssertedAttributes.offered.joined(separator: ", "))")
            }
            var registration = ServiceProviderRegistration(
                entityID: metadata.entityID, metadataXML: String(decoding: bytes, as: UTF8.self), profile: chosen, minimumLevel: level, attributes: names,
                encryptAssertions: encrypt, signResponse: signResponse, allowSHA1: allowSHA1,
                source: isURL ? source : (source as NSString).standardizingPath, allowDerivedAttributes: !noDerivedAttributes)
            registration.federationCertificatePEM = federation.map { String(decoding: $0, as: UTF8.self) }
            registration.displayName = try displayName.map(DisplayName.check)
            registration.fetchedAt = isURL ? Date() : nil
            let storage = try await data.openStorage()
            let json = try JSONEncoder().encode(registration)
            let now = Date()
            do {
                try await storage.addRegistration(RegistrationRecord(kind: ServiceProviderRegistration.storageKind, id: metadata.entityID, json: json,
                                                                     createdAt: now, updatedAt: now))
            } catch let error as StorageError where error.code == .alreadyExists {
                guard replace else { throw UsageError("\(metadata.entityID) is already registered: use --replace, or `cnsgw sp remove` first") }
                try await storage.replaceRegistration(kind: ServiceProviderRegistration.storageKind, id: metadata.entityID, json: json, now: now)
            }
            try await AuditLog(storage: storage).append(kind: "admin", fields: [
                "action": "sp.add", "entityID": metadata.entityID, "profile": chosen.rawValue, "level": level.rawValue, "source": registration.source,
                "signResponse": "\(signResponse)", "allowSHA1": "\(allowSHA1)", "attributes": names.joined(separator: ","),
                "displayName": registration.displayName ?? "",
            ])
            print("registered \(metadata.entityID) — profile \(chosen.rawValue), minimum \(level.rawValue), \(metadata.assertionConsumerServices.count) ACS, \(metadata.signingCertificates.count) signing key(s)")
            if let shown = registration.displayName(language: "it", metadata: metadata) {
                print("citizens see it as \"\(shown)\"")
            } else {
                print("warning: the metadata names no service (mdui:DisplayName or OrganizationDisplayName): citizens will see its host; set --display-name")
            }
        }

        func read(_ path: String) async throws -> [UInt8] { try await readSource(path, maximumBytes: 1 << 20) }
    }

    struct List: RegistryListCommand {
        static let configuration = CommandConfiguration(abstract: "List the registered service providers.")
        static let emptyHint = "no service providers: register one with `cnsgw sp add METADATA`"
        @Flag(help: "Print a JSON array.") var json = false
        @OptionGroup var data: DataDirectoryOptions

        func entries(_ storage: any GatewayStorage) async throws -> [ServiceProviderRegistration] {
            try await storage.registrations(kind: ServiceProviderRegistration.storageKind).map { try JSONDecoder().decode(ServiceProviderRegistration.self, from: $0.json) }
        }

        func row(_ r: ServiceProviderRegistration) -> [String: Any] {
            ["entityID": r.entityID, "profile": r.profile.rawValue, "level": r.minimumLevel.rawValue, "attributes": r.attributes,
             "signResponse": r.signResponse, "encrypt": r.encryptAssertions, "allowSHA1": r.allowSHA1, "source": r.source,
             "derivedAttributes": r.allowDerivedAttributes, "fetchedAt": r.fetchedAt.map { ISO8601DateFormatter().string(from: $0) } as Any? ?? NSNull(),
             "lastRefreshError": r.lastRefreshError as Any? ?? NSNull(),
             "displayName": (r.displayName ?? (try? ServiceProviderMetadata.parse(Array(r.metadataXML.utf8), now: .distantPast))
                .flatMap { r.displayName(language: "it", metadata: $0) }) as Any? ?? NSNull()]
        }

        func line(_ r: ServiceProviderRegistration) -> String { "\(r.profile.rawValue)  \(r.minimumLevel.rawValue)  \(r.entityID)" }
    }

    struct Remove: RegistryRemoveCommand {
        static let configuration = CommandConfiguration(abstract: "Unregister a service provider.")
        @Argument(help: "The SP's entity ID.") var entityID: String
        @OptionGroup var data: DataDirectoryOptions

        func remove(from storage: any GatewayStorage) async throws -> (audit: [String: String], said: String) {
            try await removeRegistration(kind: ServiceProviderRegistration.storageKind, id: entityID, from: storage,
                                         unknown: "no service provider \(entityID) is registered")
            return (["action": "sp.remove", "entityID": entityID], "removed \(entityID)")
        }
    }
}
