import ArgumentParser
import CNSValidation
import Foundation
import GatewayAudit
import GatewayStorage
import OIDC

/// `cnsgw client`: the OpenID Connect relying parties the gateway answers.
struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Manage the OIDC clients (stored in the data folder, audited, seen by a running gateway within a second).",
        subcommands: [Add.self, List.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an OIDC client.",
            discussion: """
            spid clients (the default) follow the SPID/CIE OIDC profile: signed request objects, private_key_jwt, pairwise \
            subjects, signed userinfo (encrypted when the JWKS has an RSA key with "use": "enc"). plain clients may use a \
            client secret, which is generated, printed once and stored hashed.
            """)
        @Option(help: "The client ID (for spid clients, the client's HTTPS URL).") var id: String
        @Option(name: .customLong("redirect-uri"), help: "A redirect URI, matched exactly; repeatable.") var redirectURIs: [String] = []
        @Option(name: .customLong("post-logout-redirect-uri"), help: "Where RP-initiated logout may send the browser back to; repeatable.")
        var postLogoutRedirectURIs: [String] = []
        @Option(help: "The client's public keys: a JWKS file or an http(s) URL (read now and stored).") var jwks: String?
        @Option(help: "private_key_jwt, client_secret_basic or client_secret_post (default: private_key_jwt with --jwks, else client_secret_basic).")
        var auth: String?
        @Option(help: "spid (default) or plain.") var profile = "spid"
        @Option(help: "pairwise (default: a different sub per client host) or public.") var subject = "pairwise"
        @Option(help: "The highest level the client may ask for: SpidL1, SpidL2 or SpidL3 (default).") var maxLevel = SpidLevel.spidL3.rawValue
        @Option(help: "Where logout tokens are POSTed when the citizen's session ends (OpenID Back-Channel Logout).") var backchannelLogoutURI: String?
        @Option(help: "ID token and userinfo signature: RS256 (default) or ES256.") var signingAlg = "RS256"
        @Option(help: "Userinfo content encryption when the JWKS has an encryption key: A256CBC-HS512 (default) or A128CBC-HS256.")
        var userinfoEnc = JWE.ContentAlgorithm.a256cbcHS512.rawValue
        @Option(help: "Userinfo key encryption: RSA-OAEP-256 (default) or RSA-OAEP.") var userinfoAlg = JWE.KeyAlgorithm.rsaOAEP256.rawValue
        @Flag(help: "Encrypt ID tokens as well as userinfo (needs an encryption key in the JWKS).") var encryptIDToken = false
        @Option(help: "required (default) or optional: PKCE (S256) on every authorization request; optional only for plain clients.")
        var pkce = "required"
        @Option(help: "The name citizens know the service by, shown on the consent and error pages (default: the client ID's host).")
        var displayName: String?
        @Flag(help: "Replace a client registered with the same ID (a new secret is generated for secret-based clients).") var replace = false
        @OptionGroup var data: DataDirectoryOptions

        func run() async throws {
            guard let profile = ClientRegistration.Profile(rawValue: profile) else { throw UsageError("--profile must be spid or plain") }
            guard let subject = ClientRegistration.SubjectType(rawValue: subject) else { throw UsageError("--subject must be pairwise or public") }
            guard let level = SpidLevel(rawValue: maxLevel) else { throw UsageError("--max-level must be SpidL1, SpidL2 or SpidL3") }
            guard let enc = JWE.ContentAlgorithm(rawValue: userinfoEnc) else { throw UsageError("--userinfo-enc must be A256CBC-HS512 or A128CBC-HS256") }
            guard let alg = JWE.KeyAlgorithm(rawValue: userinfoAlg) else { throw UsageError("--userinfo-alg must be RSA-OAEP-256 or RSA-OAEP") }
            guard ["required", "optional"].contains(pkce) else { throw UsageError("--pkce must be required or optional") }
            let method: ClientRegistration.Authentication
            if let auth {
                guard let m = ClientRegistration.Authentication(rawValue: auth) else {
                    throw UsageError("--auth must be private_key_jwt, client_secret_basic or client_secret_post")
                }
                method = m
            } else {
                method = jwks != nil || profile == .spid ? .privateKeyJWT : .clientSecretBasic
            }
            var keys: JSONWebKeySet?
            if let jwks {
                do { keys = try JSONWebKeySet.parse(Data(try await readSource(jwks, maximumBytes: 256 * 1024))) } catch let error as OIDCError {
                    throw UsageError("--jwks was refused: \(error.detail); nothing was registered")
                }
            }
            var secret: String?
            var registration = ClientRegistration(
                clientID: id, profile: profile, redirectURIs: redirectURIs, postLogoutRedirectURIs: postLogoutRedirectURIs, authentication: method,
                jwks: keys, jwksURI: jwks.flatMap { $0.hasPrefix("http") ? $0 : nil }, subjectType: subject, maximumLevel: level,
                backchannelLogoutURI: backchannelLogoutURI, userinfoEncryption: enc, userinfoKeyEncryption: alg, idTokenSigningAlgorithm: signingAlg, pkceRequired: pkce == "required")
            registration.jwksFetchedAt = registration.jwksURI != nil ? Date() : nil
            registration.encryptIDToken = encryptIDToken
            registration.displayName = try displayName.map(DisplayName.check)
            if method != .privateKeyJWT {
                let generated = ClientRegistration.generateSecret()
                secret = generated.secret
                registration.secretHash = generated.hash
            }
            do { try registration.validate() } catch let error as OIDCError { throw UsageError("\(error.detail); nothing was registered") }
            let storage = try await data.openStorage()
            let json = try JSONEncoder().encode(registration)
            let now = Date()
            do {
                try await storage.addRegistration(RegistrationRecord(kind: ClientRegistration.storageKind, id: id, json: json, createdAt: now, updatedAt: now))
            } catch let error as StorageError where error.code == .alreadyExists {
                guard replace else { throw UsageError("client \(id) is already registered: use --replace, or `cnsgw client remove` first") }
                try await storage.replaceRegistration(kind: ClientRegistration.storageKind, id: id, json: json, now: now)
            }
            try await AuditLog(storage: storage).append(kind: "admin", fields: [
                "action": replace ? "client.replace" : "client.add", "client": id, "profile": profile.rawValue, "auth": method.rawValue,
                "subject": subject.rawValue, "maxLevel": level.rawValue, "pkce": pkce, "redirectURIs": redirectURIs.joined(separator: " "),
                "keys": "\(keys?.keys.count ?? 0)", "backchannel": backchannelLogoutURI ?? "",
            ])
            print("registered client \(id) — profile \(profile.rawValue), \(method.rawValue), \(subject.rawValue) subjects, up to \(level.rawValue)")
            if registration.jwksURI != nil { print("its keys are fetched again every oidc.jwks_refresh_interval") }
            if let secret { print("client secret (shown once; only its hash is stored): \(secret)") }
        }
    }

    struct List: RegistryListCommand {
        static let configuration = CommandConfiguration(abstract: "List the registered OIDC clients (never their secrets).")
        static let emptyHint = "no OIDC clients: register one with `cnsgw client add --id ID --redirect-uri URI`"
        @Flag(help: "Print a JSON array.") var json = false
        @OptionGroup var data: DataDirectoryOptions

        func entries(_ storage: any GatewayStorage) async throws -> [ClientRegistration] {
            try await storage.registrations(kind: ClientRegistration.storageKind).map { try JSONDecoder().decode(ClientRegistration.self, from: $0.json) }
        }

        func row(_ c: ClientRegistration) -> [String: Any] {
            ["clientID": c.clientID, "profile": c.profile.rawValue, "auth": c.authentication.rawValue, "subject": c.subjectType.rawValue,
             "maxLevel": c.maximumLevel.rawValue, "redirectURIs": c.redirectURIs, "postLogoutRedirectURIs": c.postLogoutRedirectURIs,
             "keys": c.jwks?.keys.compactMap(\.kid) ?? [], "encryptedUserinfo": c.encryptionKey != nil,
             "backchannelLogoutURI": c.backchannelLogoutURI as Any? ?? NSNull(), "signingAlg": c.idTokenSigningAlgorithm,
             "pkce": c.pkceRequired ? "required" : "optional", "encryptIDToken": c.encryptIDToken, "jwksURI": c.jwksURI as Any? ?? NSNull(),
             "jwksFetchedAt": c.jwksFetchedAt.map { ISO8601DateFormatter().string(from: $0) } as Any? ?? NSNull(),
             "lastRefreshError": c.lastRefreshError as Any? ?? NSNull(),
             "registration": c.federation == nil ? "manual" : "federation", "displayName": c.serviceName as Any? ?? NSNull(),
             "federation": c.federation.map { f -> [String: Any] in
                 ["trustAnchor": f.trustAnchor, "expiresAt": ISO8601DateFormatter().string(from: f.expiresAt),
                  "resolvedAt": ISO8601DateFormatter().string(from: f.resolvedAt), "organizationName": f.organizationName as Any? ?? NSNull(),
                  "trustMarks": f.trustMarks, "path": f.path]
             } as Any? ?? NSNull()]
        }

        func line(_ c: ClientRegistration) -> String {
            let origin = c.federation.map { f in
                "  [federation entity via \(f.trustAnchor), chain \(f.expiresAt > Date() ? "valid until" : "expired at") \(ISO8601DateFormatter().string(from: f.expiresAt))]"
            } ?? ""
            return "\(c.profile.rawValue)  \(c.authentication.rawValue)  \(c.maximumLevel.rawValue)  \(c.clientID)  \(c.redirectURIs.joined(separator: " "))" + origin
        }
    }

    struct Remove: RegistryRemoveCommand {
        static let configuration = CommandConfiguration(abstract: "Unregister an OIDC client; its tokens stop working at once.")
        @Argument(help: "The client ID.") var id: String
        @OptionGroup var data: DataDirectoryOptions

        func remove(from storage: any GatewayStorage) async throws -> (audit: [String: String], said: String) {
            try await removeRegistration(kind: ClientRegistration.storageKind, id: id, from: storage, unknown: "no OIDC client \(id) is registered")
            return (["action": "client.remove", "client": id], "removed client \(id)")
        }
    }
}
