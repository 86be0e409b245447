import CNSValidation
import CodedErrors
import Foundation
import KeyMaterial
import XMLSecurity

/// Why a trusted list was refused.
public struct TrustedListError: CodedError {
    public enum Code: String, Sendable, Hashable {
        /// Not XML, or not an ETSI TS 119 612 list.
        case malformed
        /// The XML signature is missing, does not verify with the configured certificate, or does not cover the list.
        case signature
        /// Past its NextUpdate: a stale list is never applied.
        case stale
    }

    public let code: Code
    public let detail: String
    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
}

/// An ETSI TS 119 612 trusted list (the AgID `TSL-IT.xml`), read only after its signature verified against the
/// certificate the admin configured, and only from the signed element.
public struct TrustedList: Sendable {
    public static let namespace = "http://uri.etsi.org/02231/v2#"
    /// Identity-verification services: the CAs of CNS and CIE authentication certificates (DOMAIN.md §1.1).
    public static let identityVerificationType = "http://uri.etsi.org/TrstSvc/Svctype/IdV"
    /// Statuses under which a service is in force (current ETSI values and the pre-eIDAS ones).
    public static let activeStatuses: Set<String> = [
        "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/recognisedatnationallevel",
        "http://uri.etsi.org/TrstSvc/TrustedList/Svcstatus/granted",
        "http://uri.etsi.org/TrstSvc/Svcstatus/accredited",
        "http://uri.etsi.org/TrstSvc/Svcstatus/undersupervision",
    ]

    public struct Service: Sendable {
        public let providerName: String
        public let serviceName: String
        public let type: String
        public let status: String
        public let certificates: [X509Certificate]
        public var isActive: Bool { TrustedList.activeStatuses.contains(status) }
        /// The status's last path segment (`recognisedatnationallevel`, `withdrawn`, ...).
        public var statusName: String { status.split(separator: "/").last.map(String.init) ?? status }
    }

    public let sequenceNumber: Int
    public let issued: Date
    public let nextUpdate: Date?
    public let operatorName: String
    public let services: [Service]

    /// The identity-verification services in force.
    public var identityVerificationServices: [Service] { services.filter { $0.type == Self.identityVerificationType && $0.isActive } }

    /// Verifies and reads a list. `signer` is the certificate (PEM or DER) the list must be signed with.
    public static func load(_ bytes: [UInt8], signer: [UInt8], now: Date, maximumSize: Int = 32 << 20) throws -> TrustedList {
        let document: ParsedXML
        do { document = try ParsedXML(bytes, maximumSize: maximumSize) } catch let error as XMLSecurityError {
            throw TrustedListError(.malformed, error.detail)
        }
        let root = document.root
        guard root.localName == "TrustServiceStatusList", root.namespaceURI == namespace else {
            throw TrustedListError(.malformed, "the root element is <\(root.localName)>, not an ETSI TrustServiceStatusList")
        }
        do {
            // Trusted lists are signed with XAdES over the whole document, often with inclusive c14n.
            _ = try XMLSignatureVerifier.verify(root, certificate: signer, policy: XMLSignaturePolicy(allowInclusiveCanonicalization: true))
        } catch let error as XMLSecurityError {
            throw TrustedListError(.signature, error.detail)
        }
        let list = try read(root)
        if let nextUpdate = list.nextUpdate, nextUpdate < now {
            throw TrustedListError(.stale, "the list's NextUpdate \(nextUpdate) has passed; fetch the current list")
        }
        return list
    }

    static func read(_ root: XMLElement) throws -> TrustedList {
        let ns = namespace
        guard let scheme = root.child("SchemeInformation", namespace: ns) else { throw TrustedListError(.malformed, "no SchemeInformation") }
        guard let sequence = scheme.child("TSLSequenceNumber", namespace: ns)?.text.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw TrustedListError(.malformed, "no TSLSequenceNumber")
        }
        guard let issued = scheme.child("ListIssueDateTime", namespace: ns)?.text.flatMap(parseDate) else {
            throw TrustedListError(.malformed, "no ListIssueDateTime")
        }
        let nextUpdate = scheme.child("NextUpdate", namespace: ns)?.child("dateTime", namespace: ns)?.text.flatMap(parseDate)
        let operatorName = name(scheme.child("SchemeOperatorName", namespace: ns))
        var services: [Service] = []
        for provider in root.child("TrustServiceProviderList", namespace: ns)?.children("TrustServiceProvider", namespace: ns) ?? [] {
            let providerName = name(provider.child("TSPInformation", namespace: ns)?.child("TSPName", namespace: ns))
            for service in provider.child("TSPServices", namespace: ns)?.children("TSPService", namespace: ns) ?? [] {
                guard let info = service.child("ServiceInformation", namespace: ns) else { continue }
                let certificates = try (info.child("ServiceDigitalIdentity", namespace: ns)?.children("DigitalId", namespace: ns) ?? [])
                    .compactMap { $0.child("X509Certificate", namespace: ns)?.text }
                    .map { base64 -> X509Certificate in
                        guard let der = Data(base64Encoded: base64.filter { !$0.isWhitespace }) else {
                            throw TrustedListError(.malformed, "a service of \(providerName) has a certificate that is not base64")
                        }
                        do { return try X509Certificate(derEncoded: [UInt8](der)) } catch {
                            throw TrustedListError(.malformed, "a service of \(providerName) has an unreadable certificate: \(error)")
                        }
                    }
                services.append(Service(providerName: providerName, serviceName: name(info.child("ServiceName", namespace: ns)),
                                        type: info.child("ServiceTypeIdentifier", namespace: ns)?.text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "",
                                        status: info.child("ServiceStatus", namespace: ns)?.text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "",
                                        certificates: certificates))
            }
        }
        return TrustedList(sequenceNumber: sequence, issued: issued, nextUpdate: nextUpdate, operatorName: operatorName, services: services)
    }

    /// A multilingual name: the English one, else Italian, else the first.
    static func name(_ element: XMLElement?) -> String {
        let names = element?.children("Name", namespace: namespace) ?? []
        let pick = names.first { $0.langAttribute == "en" } ?? names.first { $0.langAttribute == "it" } ?? names.first
        return pick?.text?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let date = formatter.date(from: trimmed) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: trimmed)
    }
}
