import CodedErrors
import Foundation
import KeyMaterial
import XMLSecurity

/// Why SP metadata was refused at `cnsgw sp add` (or on refresh).
public struct MetadataError: CodedError {
    public enum Code: String, Sendable, Hashable {
        case malformed, noServiceProvider = "no_sp_descriptor", missingACS = "missing_acs", unsupportedBinding = "unsupported_binding"
        case noSigningKey = "no_signing_key", weakKey = "weak_key", signature, expired
    }
    public let code: Code
    public let detail: String
    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}

/// What the gateway uses from a service provider's SAML metadata.
public struct ServiceProviderMetadata: Sendable {
    public struct Endpoint: Sendable, Hashable, Codable {
        public let binding: String
        public let location: String
        public let responseLocation: String?
        public let index: Int?
        public let isDefault: Bool
    }

    /// Whether a location from metadata may be a form action or a redirect: `https` with a host, or `http` to a
    /// loopback address.
    public static func isSafeLocation(_ location: String) -> Bool {
        guard let url = URLComponents(string: location), let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased(), !host.isEmpty else {
            return false
        }
        return scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host))
    }

    public struct AttributeService: Sendable, Hashable, Codable {
        public let index: Int
        public let names: [String]
    }

    public let entityID: String
    public let assertionConsumerServices: [Endpoint]
    public let singleLogoutServices: [Endpoint]
    public let signingCertificates: [X509Certificate]
    public let encryptionCertificates: [X509Certificate]
    public let attributeServices: [AttributeService]
    /// The metadata carries SPID extensions (`spid:` contact extensions): the `spid` profile by default.
    public let hasSPIDExtensions: Bool
    public let validUntil: Date?
    public let cacheDuration: TimeInterval?
    /// `mdui:DisplayName` of the SP's descriptor, by language (`it`, `en`): the service's name as citizens know it.
    public var displayNames: [String: String] = [:]
    /// `OrganizationDisplayName`, by language: the organisation behind the service.
    public var organizationDisplayNames: [String: String] = [:]

    /// The ACS a Response goes to when a request names none: `isDefault`, else the lowest index.
    public var defaultACS: Endpoint? {
        let post = assertionConsumerServices.filter { $0.binding == SAMLNames.postBinding }
        return post.first { $0.isDefault } ?? post.min { ($0.index ?? .max) < ($1.index ?? .max) }
    }

    /// Parses and checks metadata. With `federationCertificate`, its signature must verify with that certificate.
    public static func parse(_ bytes: [UInt8], federationCertificate: [UInt8]? = nil, now: Date = Date()) throws -> ServiceProviderMetadata {
        let document: ParsedXML
        do { document = try ParsedXML(bytes, maximumSize: 1 << 20) } catch let error as XMLSecurityError {
            throw MetadataError(.malformed, error.detail)
        }
        var root = document.root
        if root.localName == "EntitiesDescriptor", root.namespaceURI == SAMLNames.metadataNS {
            let entities = root.children("EntityDescriptor", namespace: SAMLNames.metadataNS)
            guard entities.count == 1, let only = entities.first else {
                throw MetadataError(.malformed, "an EntitiesDescriptor with \(entities.count) entities: give one service provider's metadata")
            }
            root = only   // a federation signature, if required, is checked on the document root below
        }
        guard root.localName == "EntityDescriptor", root.namespaceURI == SAMLNames.metadataNS, let entityID = root.attribute("entityID"), !entityID.isEmpty else {
            throw MetadataError(.malformed, "not SAML metadata: no EntityDescriptor with an entityID")
        }
        if let federationCertificate {
            do { _ = try XMLSignatureVerifier.verify(document.root, certificate: federationCertificate) } catch let error as XMLSecurityError {
                throw MetadataError(.signature, "the metadata signature does not verify with the federation certificate: \(error.detail)")
            }
        }
        let validUntil = root.attribute("validUntil").flatMap(SAMLTime.parse)
        if let validUntil, validUntil < now { throw MetadataError(.expired, "the metadata's validUntil \(validUntil) has passed") }
        let descriptors = root.children("SPSSODescriptor", namespace: SAMLNames.metadataNS)
        guard descriptors.count == 1, let sp = descriptors.first,
              (sp.attribute("protocolSupportEnumeration") ?? "").split(separator: " ").contains(Substring(SAMLNames.protocolNS)) else {
            throw MetadataError(.noServiceProvider, "the metadata must have exactly one SPSSODescriptor supporting SAML 2.0 (found \(descriptors.count))")
        }
        func endpoints(_ name: String) -> [Endpoint] {
            sp.children(name, namespace: SAMLNames.metadataNS).compactMap { e in
                guard let binding = e.attribute("Binding"), let location = e.attribute("Location") else { return nil }
                return Endpoint(binding: binding, location: location, responseLocation: e.attribute("ResponseLocation"),
                                index: e.attribute("index").flatMap { Int($0) }, isDefault: e.attribute("isDefault") == "true")
            }
        }
        let acs = endpoints("AssertionConsumerService")
        guard !acs.isEmpty else { throw MetadataError(.missingACS, "the SPSSODescriptor has no AssertionConsumerService") }
        guard acs.contains(where: { $0.binding == SAMLNames.postBinding }) else {
            throw MetadataError(.unsupportedBinding, "no AssertionConsumerService with the HTTP-POST binding (the gateway sends Responses by POST only); found \(Set(acs.map(\.binding)).sorted().joined(separator: ", "))")
        }
        // Every location ends up in a form action or a redirect the browser follows: https only (http only to a loopback
        // address, for tests) — never javascript:, data: or another scheme.
        let slo = endpoints("SingleLogoutService")
        for endpoint in acs + slo {
            for location in [endpoint.location] + [endpoint.responseLocation].compactMap({ $0 }) where !Self.isSafeLocation(location) {
                throw MetadataError(.malformed, "endpoint location '\(location)' must be an https URL (http only for loopback addresses)")
            }
        }
        var signing: [X509Certificate] = [], encryption: [X509Certificate] = []
        for descriptor in sp.children("KeyDescriptor", namespace: SAMLNames.metadataNS) {
            let use = descriptor.attribute("use")
            let certificates = try descriptor.child("KeyInfo", namespace: SAMLNames.dsigNS)?.children("X509Data", namespace: SAMLNames.dsigNS)
                .flatMap { $0.children("X509Certificate", namespace: SAMLNames.dsigNS) }
                .compactMap(\.text).map(Self.certificate) ?? []
            if use == nil || use == "signing" { signing += certificates }
            if use == nil || use == "encryption" { encryption += certificates }
        }
        guard !signing.isEmpty else { throw MetadataError(.noSigningKey, "no signing certificate (KeyDescriptor use=\"signing\"): requests could not be verified") }
        for cert in signing + encryption where cert.publicKeyAlgorithm == "RSA" && cert.publicKeyBits < 2048 {
            throw MetadataError(.weakKey, "a \(cert.publicKeyBits)-bit RSA key (\(cert.subject)): at least 2048 bits are required")
        }
        let attributeServices = sp.children("AttributeConsumingService", namespace: SAMLNames.metadataNS).compactMap { service -> AttributeService? in
            guard let index = service.attribute("index").flatMap({ Int($0) }) else { return nil }
            return AttributeService(index: index, names: service.children("RequestedAttribute", namespace: SAMLNames.metadataNS).compactMap { $0.attribute("Name") })
        }
        let spid = root.children("ContactPerson", namespace: SAMLNames.metadataNS).contains { person in
            person.child("Extensions", namespace: SAMLNames.metadataNS)?.children(nil, namespace: SAMLNames.spidExtensionsNS).isEmpty == false
        }
        var metadata = ServiceProviderMetadata(entityID: entityID, assertionConsumerServices: acs, singleLogoutServices: slo,
                                               signingCertificates: signing, encryptionCertificates: encryption, attributeServices: attributeServices,
                                               hasSPIDExtensions: spid, validUntil: validUntil,
                                               cacheDuration: root.attribute("cacheDuration").flatMap(SAMLTime.parseDuration))
        let uiInfo = sp.child("Extensions", namespace: SAMLNames.metadataNS)?.children("UIInfo", namespace: SAMLNames.mduiNS) ?? []
        metadata.displayNames = Self.byLanguage(uiInfo.flatMap { $0.children("DisplayName", namespace: SAMLNames.mduiNS) })
        metadata.organizationDisplayNames = Self.byLanguage(root.children("Organization", namespace: SAMLNames.metadataNS)
            .flatMap { $0.children("OrganizationDisplayName", namespace: SAMLNames.metadataNS) })
        return metadata
    }

    /// Localised names by primary language subtag (`it-IT` → `it`), whitespace collapsed; the first of a language wins.
    static func byLanguage(_ elements: [XMLElement]) -> [String: String] {
        var names: [String: String] = [:]
        for element in elements {
            let text = (element.text ?? "").split(whereSeparator: \.isWhitespace).joined(separator: " ")
            guard !text.isEmpty else { continue }
            let language = (element.langAttribute ?? "").split(separator: "-").first.map { $0.lowercased() } ?? ""
            if names[language] == nil { names[language] = text }
        }
        return names
    }

    static func certificate(_ base64: String) throws -> X509Certificate {
        guard let der = Data(base64Encoded: base64.filter { !$0.isWhitespace }) else { throw MetadataError(.malformed, "a certificate is not base64") }
        do { return try X509Certificate(derEncoded: [UInt8](der)) } catch { throw MetadataError(.malformed, "a certificate cannot be read: \(error)") }
    }
}
