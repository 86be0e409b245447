import Foundation
import Yams

/// A setting that cannot be used: start-up stops with this message, which names the setting and where it came from.
public struct SettingsError: Error, CustomStringConvertible, Sendable, Hashable {
    /// The dotted key (`card.port`), or the file for errors about the whole file.
    public let setting: String
    public let message: String
    public var description: String { "setting \(setting): \(message)" }
}

/// Reads ``GatewaySettings``: defaults, then a YAML file, then `CNSGW_*` environment variables
/// (`card.port` ← `CNSGW_CARD_PORT`, lists comma-separated). Unknown keys are errors, so a typo never silently
/// leaves a default in force.
public enum SettingsLoader {
    /// Where a value came from, for error messages.
    enum Origin: CustomStringConvertible {
        case file(String), environment(String)
        var description: String {
            switch self {
            case .file(let path): "in \(path)"
            case .environment(let name): "from $\(name)"
            }
        }
    }

    enum Raw: Sendable {
        case scalar(String)
        case list([String])
    }

    /// Every key, with how it is applied.
    static let keys: [String: @Sendable (inout GatewaySettings, Raw, String) throws -> Void] = [
        "data_dir": { s, v, k in s.dataDirectory = try nonEmpty(v, k) },
        "storage.url": { s, v, k in s.storageURL = try optional(v, k) },
        "storage.password_file": { s, v, k in s.storagePasswordFile = try optional(v, k) },
        "demo": { s, v, k in s.demo = try bool(v, k) },
        "templates": { s, v, k in s.templates = try optional(v, k) },
        "public.host": { s, v, k in s.publicListener.host = try nonEmpty(v, k) },
        "public.port": { s, v, k in s.publicListener.port = try port(v, k) },
        "public.url": { s, v, k in s.publicListener.url = try url(v, k) },
        "card.host": { s, v, k in s.cardListener.host = try nonEmpty(v, k) },
        "card.port": { s, v, k in s.cardListener.port = try port(v, k) },
        "card.url": { s, v, k in s.cardListener.url = try url(v, k) },
        "card.max_tls_version": { s, v, k in s.cardMaximumTLSVersion = try oneOf(v, k, ["1.2", "1.3"]) },
        "card.send_ca_names": { s, v, k in s.sendCertificateAuthorityNames = try bool(v, k) },
        "card.trusted_proxies": { s, v, k in s.trustedProxies = try addresses(v, k) },
        "card.proxy_certificate_header": { s, v, k in s.proxyCertificateHeader = try oneOf(v, k, ["rfc9440", "nginx", "apache"]) },
        "card.client_address_header": { s, v, k in s.clientAddressHeader = try oneOf(v, k, ["x-forwarded-for", "forwarded", "none"]) },
        "limits.header_timeout": { s, v, k in s.limits.headerTimeout = try duration(v, k, minimum: 1) },
        "limits.idle_timeout": { s, v, k in s.limits.idleTimeout = try duration(v, k, minimum: 1) },
        "limits.max_connections": { s, v, k in s.limits.maximumConnections = try count(v, k, maximum: 1_000_000) },
        "limits.max_connections_per_address": { s, v, k in s.limits.maximumConnectionsPerAddress = try count(v, k, maximum: 1_000_000) },
        "limits.requests_per_second": { s, v, k in s.limits.requestsPerSecond = Double(try count(v, k, maximum: 1_000_000)) },
        "limits.request_burst": { s, v, k in s.limits.requestBurst = try count(v, k, maximum: 1_000_000) },
        "limits.refusal_audits_per_minute": { s, v, k in s.limits.refusalAuditsPerMinute = try count(v, k, maximum: 1_000_000) },
        "card.certificate_cache": { s, v, k in s.certificateCacheSize = try count(v, k, maximum: 1_000_000) },
        "tls.certificate": { s, v, k in s.tlsCertificate = try optional(v, k) },
        "tls.private_key": { s, v, k in s.tlsPrivateKey = try optional(v, k) },
        "sso.levels": { s, v, k in s.ssoLevels = try list(v).map { try oneOf(.scalar($0), k, ["SpidL1", "SpidL2", "SpidL3"]) } },
        "sso.lifetime": { s, v, k in s.ssoLifetime = try duration(v, k, minimum: 60) },
        "login.lifetime": { s, v, k in s.loginLifetime = try duration(v, k, minimum: 30) },
        "audit.retention": { s, v, k in s.auditRetention = try duration(v, k, minimum: 86_400) },
        "audit.pseudonymise_codice_fiscale": { s, v, k in s.auditPseudonymiseCodiceFiscale = try bool(v, k) },
        "audit.pseudonym_key_file": { s, v, k in s.auditPseudonymKeyFile = try optional(v, k) },
        "audit.checkpoint_file": { s, v, k in s.auditCheckpointFile = try optional(v, k) },
        "audit.checkpoint_interval": { s, v, k in s.auditCheckpointInterval = try duration(v, k, minimum: 1) },
        "crl.refresh_interval": { s, v, k in s.crlRefreshInterval = try duration(v, k, minimum: 1) },
        "keys.encryption_key_file": { s, v, k in s.keyEncryptionKeyFile = try optional(v, k) },
        "keys.encryption_key": { s, v, k in s.keyEncryptionKey = try optional(v, k) },
        "keys.publish_delay": { s, v, k in s.keyPublishDelay = try duration(v, k, minimum: 0) },
        "keys.retired_retention": { s, v, k in s.keyRetention = try duration(v, k, minimum: 600) },
        "keys.rotate_every": { s, v, k in s.keyRotateEvery = try duration(v, k, minimum: 0) },
        "oidc.code_lifetime": { s, v, k in s.oidcCodeLifetime = try duration(v, k, minimum: 10) },
        "oidc.access_token_lifetime": { s, v, k in s.oidcAccessTokenLifetime = try duration(v, k, minimum: 60) },
        "oidc.refresh_token_lifetime": { s, v, k in s.oidcRefreshTokenLifetime = try duration(v, k, minimum: 60) },
        "oidc.jwks_refresh_interval": { s, v, k in s.oidcJWKSRefreshInterval = try duration(v, k, minimum: 1) },
        "federation.authority_hints": { s, v, k in s.federationAuthorityHints = try list(v).map { try entityIdentifier($0, k) } },
        "federation.organization_name": { s, v, k in s.federationOrganizationName = try nonEmpty(v, k) },
        "federation.homepage_uri": { s, v, k in s.federationHomepageURI = try optional(v, k) },
        "federation.policy_uri": { s, v, k in s.federationPolicyURI = try optional(v, k) },
        "federation.logo_uri": { s, v, k in s.federationLogoURI = try optional(v, k) },
        "federation.contacts": { s, v, k in s.federationContacts = try list(v) },
        "federation.configuration_lifetime": { s, v, k in s.federationConfigurationLifetime = try duration(v, k, minimum: 60) },
        "federation.max_intermediates": { s, v, k in s.federationMaximumIntermediates = try count(v, k, maximum: 8) },
        "federation.max_fetches": { s, v, k in s.federationMaximumFetches = try count(v, k, maximum: 100) },
        "federation.fetch_timeout": { s, v, k in s.federationFetchTimeout = try duration(v, k, minimum: 1) },
        "federation.refusal_cache": { s, v, k in s.federationRefusalCache = try duration(v, k, minimum: 0) },
        "metrics.host": { s, v, k in s.metricsHost = try nonEmpty(v, k) },
        "metrics.port": { s, v, k in s.metricsPort = try count(v, k, maximum: 65_535) },
        "outbound.allow_private_addresses": { s, v, k in s.outboundAllowPrivateAddresses = try bool(v, k) },
        "log.level": { s, v, k in s.logLevel = try oneOf(v, k, ["trace", "debug", "info", "notice", "warning", "error", "critical"]) },
        "log.format": { s, v, k in s.logFormat = try oneOf(v, k, ["text", "json"]) },
    ]

    /// The known keys, sorted (for documentation and error messages).
    public static var knownKeys: [String] { keys.keys.sorted() }

    /// The environment variable for a key.
    public static func environmentName(_ key: String) -> String {
        "CNSGW_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    /// Loads the settings. `file` nil reads no file; `environment` is usually `ProcessInfo.processInfo.environment`.
    public static func load(file: String?, environment: [String: String]) throws -> GatewaySettings {
        var settings = GatewaySettings()
        if let file {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw SettingsError(setting: file, message: "cannot read the configuration file: \(error.localizedDescription)")
            }
            for (key, value) in try flatten(yaml: text, file: file) { try apply(key, value, origin: .file(file), to: &settings) }
        }
        let byName = Dictionary(uniqueKeysWithValues: keys.keys.map { (environmentName($0), $0) })
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("CNSGW_") && name != "CNSGW_CONFIG" {
            guard let key = byName[name] else {
                throw SettingsError(setting: name, message: "unknown environment variable; known: \(byName.keys.sorted().joined(separator: ", "))")
            }
            let raw: Raw = ["card.trusted_proxies", "sso.levels", "federation.authority_hints", "federation.contacts"].contains(key)
                ? .list(value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) : .scalar(value)
            try apply(key, raw, origin: .environment(name), to: &settings)
        }
        // A retired key must stay published as long as the tokens it signed are valid.
        guard settings.keyRetention >= settings.oidcAccessTokenLifetime else {
            throw SettingsError(setting: "keys.retired_retention", message: "is shorter than oidc.access_token_lifetime (\(Int(settings.oidcAccessTokenLifetime)) s): "
                                + "tokens signed by a retired key would stop verifying before they expire")
        }
        return settings
    }

    static func apply(_ key: String, _ value: Raw, origin: Origin, to settings: inout GatewaySettings) throws {
        guard let setter = keys[key] else {
            throw SettingsError(setting: key, message: "unknown setting \(origin) (see Config/gateway.yaml for the known ones)")
        }
        do { try setter(&settings, value, key) } catch let error as SettingsError {
            throw SettingsError(setting: key, message: "\(error.message) (\(origin))")
        }
    }

    /// The YAML document as dotted keys. Only mappings, scalars and lists of scalars are allowed.
    static func flatten(yaml: String, file: String) throws -> [(String, Raw)] {
        let document: Any?
        do { document = try Yams.load(yaml: yaml) } catch {
            throw SettingsError(setting: file, message: "not valid YAML: \(error)")
        }
        guard let document else { return [] }   // an empty file: all defaults
        guard let root = document as? [String: Any] else { throw SettingsError(setting: file, message: "the top level must be a mapping of settings") }
        var result: [(String, Raw)] = []
        func walk(_ node: [String: Any], prefix: String) throws {
            for (name, value) in node.sorted(by: { $0.key < $1.key }) {
                let key = prefix.isEmpty ? name : prefix + "." + name
                switch value {
                case let map as [String: Any]:
                    guard keys.keys.contains(where: { $0.hasPrefix(key + ".") }) else {
                        throw SettingsError(setting: key, message: "unknown section in \(file)")
                    }
                    try walk(map, prefix: key)
                case let list as [Any]:
                    result.append((key, .list(try list.map { item in
                        guard !(item is [Any]), !(item is [String: Any]) else { throw SettingsError(setting: key, message: "list items must be plain values in \(file)") }
                        return "\(item)"
                    })))
                case is NSNull:
                    result.append((key, .scalar("")))
                default:
                    result.append((key, .scalar("\(value)")))
                }
            }
        }
        try walk(root, prefix: "")
        return result
    }

    // MARK: value parsers (each error says what is expected)

    static func scalar(_ v: Raw, _ key: String) throws -> String {
        guard case .scalar(let s) = v else { throw SettingsError(setting: key, message: "expected a single value, found a list") }
        return s
    }
    static func list(_ v: Raw) -> [String] {
        switch v {
        case .list(let l): l
        case .scalar(let s): s.isEmpty ? [] : [s]
        }
    }
    static func nonEmpty(_ v: Raw, _ key: String) throws -> String {
        let s = try scalar(v, key)
        guard !s.isEmpty else { throw SettingsError(setting: key, message: "must not be empty") }
        return s
    }
    static func optional(_ v: Raw, _ key: String) throws -> String? {
        let s = try scalar(v, key)
        return s.isEmpty ? nil : s
    }
    static func bool(_ v: Raw, _ key: String) throws -> Bool {
        switch try scalar(v, key).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        case let other: throw SettingsError(setting: key, message: "'\(other)' is not true or false")
        }
    }
    static func port(_ v: Raw, _ key: String) throws -> Int {
        let s = try scalar(v, key)
        guard let port = Int(s), (1...65_535).contains(port) else { throw SettingsError(setting: key, message: "'\(s)' is not a port number (1-65535)") }
        return port
    }
    static func count(_ v: Raw, _ key: String, maximum: Int) throws -> Int {
        let s = try scalar(v, key)
        guard let n = Int(s), (0...maximum).contains(n) else { throw SettingsError(setting: key, message: "'\(s)' is not a number from 0 to \(maximum)") }
        return n
    }
    static func url(_ v: Raw, _ key: String) throws -> String? {
        guard let s = try optional(v, key) else { return nil }
        guard let components = URLComponents(string: s), components.scheme == "https", components.host?.isEmpty == false,
              components.query == nil, components.fragment == nil else {
            throw SettingsError(setting: key, message: "'\(s)' is not an https URL without query (for example https://login.example.it)")
        }
        return s.hasSuffix("/") ? String(s.dropLast()) : s
    }
    /// An OpenID Federation entity identifier, kept exactly as written (a trailing slash is part of it): https, or
    /// http on a loopback address for tests and development.
    static func entityIdentifier(_ s: String, _ key: String) throws -> String {
        guard let c = URLComponents(string: s), let scheme = c.scheme?.lowercased(), let host = c.host, !host.isEmpty, c.query == nil, c.fragment == nil,
              scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host.lowercased())) else {
            throw SettingsError(setting: key, message: "'\(s)' is not an entity identifier (an https URL without query or fragment)")
        }
        return s
    }
    static func oneOf(_ v: Raw, _ key: String, _ allowed: [String]) throws -> String {
        let s = try scalar(v, key)
        guard let match = allowed.first(where: { $0.lowercased() == s.lowercased() }) else {
            throw SettingsError(setting: key, message: "'\(s)' is not one of \(allowed.joined(separator: ", "))")
        }
        return match
    }
    static func addresses(_ v: Raw, _ key: String) throws -> [String] {
        try list(v).map { address in
            var v4 = in_addr(), v6 = in6_addr()
            guard inet_pton(AF_INET, address, &v4) == 1 || inet_pton(AF_INET6, address, &v6) == 1 else {
                throw SettingsError(setting: key, message: "'\(address)' is not an IP address")
            }
            return address
        }
    }
    /// `90`, `90s`, `15m`, `12h`, `7d`.
    static func duration(_ v: Raw, _ key: String, minimum: TimeInterval) throws -> TimeInterval {
        let s = try scalar(v, key)
        guard let seconds = parseDuration(s) else {
            throw SettingsError(setting: key, message: "'\(s)' is not a duration (for example 3600, 90s, 15m, 12h, 7d)")
        }
        guard seconds >= minimum else { throw SettingsError(setting: key, message: "'\(s)' is shorter than the minimum of \(Int(minimum)) s") }
        return seconds
    }

    /// Seconds from `90`, `90s`, `15m`, `12h`, `7d`; nil when the text is none of these.
    public static func parseDuration(_ text: String) -> TimeInterval? {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let value = Double(trimmed), value >= 0, value.isFinite { return value }
        if let unit = trimmed.last, let factor = units[unit], let value = Double(trimmed.dropLast()), value >= 0, value.isFinite { return value * factor }
        return nil
    }
}
