import Foundation
import KeyMaterial
import OutboundHTTP
internal import COpenSSL

/// A verified OCSP answer about one certificate.
public struct OCSPAnswer: Sendable {
    public enum Status: Sendable, Hashable {
        case good
        case revoked(reason: CRLReason?, at: Date)
        /// The responder does not know the certificate.
        case unknown
    }

    public let status: Status
    public let thisUpdate: Date
    public let nextUpdate: Date?
    public let responder: String
}

/// RFC 6960 client: builds the request (SHA-1 CertID, optional nonce), sends it through an ``HTTPTransport``,
/// and accepts the answer only if it is signed by the issuing CA or by a responder the CA delegated with
/// id-kp-OCSPSigning, matches the nonce, names the certificate and is current.
public struct OCSPClient: Sendable {
    public let transport: any HTTPTransport
    /// Allowed clock difference with the responder.
    public var clockSkew: TimeInterval = 300
    /// Oldest `thisUpdate` accepted when the response has no `nextUpdate`.
    public var maximumAgeWithoutNextUpdate: TimeInterval = 3600

    public init(transport: any HTTPTransport) {
        self.transport = transport
    }

    public func query(certificate: X509Certificate, issuer: X509Certificate, responder: String, nonce: Bool,
                      timeout: TimeInterval, now: Date) async throws(RevocationError) -> OCSPAnswer {
        let exchange = try OCSPExchange(certificate: certificate, issuer: issuer, nonce: nonce)
        let responseBytes: [UInt8]
        do {
            responseBytes = try await transport.post(url: responder, body: exchange.requestDER, contentType: "application/ocsp-request",
                                                     accept: "application/ocsp-response", timeout: timeout, maximumBytes: 1 << 20)
        } catch {
            throw RevocationError(.unreachable, "OCSP responder \(responder): \(error)")
        }
        return try exchange.evaluate(responseBytes, issuer: issuer, responder: responder, nonce: nonce, now: now,
                                     clockSkew: clockSkew, maximumAge: maximumAgeWithoutNextUpdate)
    }
}

/// Owns the C objects of one request/response exchange.
final class OCSPExchange {
    private let request: OpaquePointer
    private let certID: OpaquePointer
    let requestDER: [UInt8]

    init(certificate: X509Certificate, issuer: X509Certificate, nonce: Bool) throws(RevocationError) {
        guard let id = OCSP_cert_to_id(nil, certificate.ref, issuer.ref), let req = OCSP_REQUEST_new() else {
            throw RevocationError(.invalidResponse, "cannot build an OCSP request: \(OpenSSLErrorQueue.drain())")
        }
        guard let idCopy = OCSP_CERTID_dup(id) else { throw RevocationError(.invalidResponse, "cannot copy the CertID") }
        certID = id
        request = req
        OCSP_request_add0_id(req, idCopy)
        if nonce { OCSP_request_add1_nonce(req, nil, -1) }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let len = i2d_OCSP_REQUEST(req, &out)
        guard len > 0, let out else { throw RevocationError(.invalidResponse, "cannot encode the OCSP request") }
        requestDER = Array(UnsafeBufferPointer(start: out, count: Int(len)))
        cnsgw_free(out)
    }

    deinit {
        OCSP_REQUEST_free(request)
        OCSP_CERTID_free(certID)
    }

    func evaluate(_ der: [UInt8], issuer: X509Certificate, responder: String, nonce: Bool, now: Date,
                  clockSkew: TimeInterval, maximumAge: TimeInterval) throws(RevocationError) -> OCSPAnswer {
        defer { OpenSSLErrorQueue.clear() }
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { b in
            var p: UnsafePointer<UInt8>? = b.baseAddress
            return d2i_OCSP_RESPONSE(nil, &p, b.count)
        }
        guard let response = parsed else { throw RevocationError(.invalidResponse, "\(responder) sent something that is not an OCSP response") }
        defer { OCSP_RESPONSE_free(response) }
        let status = OCSP_response_status(response)
        guard status == OCSP_RESPONSE_STATUS_SUCCESSFUL else {
            let name = String(cString: OCSP_response_status_str(Int(status)))
            throw RevocationError(.responderError, "\(responder) answered '\(name)'")
        }
        guard let basic = OCSP_response_get1_basic(response) else {
            throw RevocationError(.invalidResponse, "\(responder) sent no basic OCSP response")
        }
        defer { OCSP_BASICRESP_free(basic) }
        if nonce {
            let check = OCSP_check_nonce(request, basic)
            guard check == 1 else {
                let why = check == -1 ? "has no nonce (turn the anchor's OCSP nonce off if this responder never sends one)" : "has a nonce that does not match"
                throw RevocationError(.invalidResponse, "the response from \(responder) \(why)")
            }
        }
        guard let store = X509_STORE_new(), let certs = cnsgw_sk_X509_new() else {
            throw RevocationError(.invalidResponse, "cannot allocate OCSP verification state")
        }
        defer { X509_STORE_free(store); cnsgw_sk_X509_free(certs) }
        X509_STORE_add_cert(store, issuer.ref)
        X509_STORE_set_flags(store, UInt(X509_V_FLAG_PARTIAL_CHAIN))
        _ = cnsgw_sk_X509_push(certs, issuer.ref)
        guard OCSP_basic_verify(basic, certs, store, 0) == 1 else {
            throw RevocationError(.invalidResponse,
                "the response from \(responder) is not signed by \(issuer.subject) or by a responder it authorised (\(OpenSSLErrorQueue.drain()))")
        }
        var certStatus: Int32 = -1, reason: Int32 = -1
        var revokedAt: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil
        var thisUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil
        var nextUpdate: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>? = nil
        guard OCSP_resp_find_status(basic, certID, &certStatus, &reason, &revokedAt, &thisUpdate, &nextUpdate) == 1 else {
            throw RevocationError(.invalidResponse, "the response from \(responder) does not mention the certificate")
        }
        func date(_ t: UnsafeMutablePointer<ASN1_GENERALIZEDTIME>?) -> Date? {
            var ok: Int32 = 0
            let s = cnsgw_asn1_time_to_unix(t, &ok)
            return ok == 1 ? Date(timeIntervalSince1970: TimeInterval(s)) : nil
        }
        guard let produced = date(thisUpdate) else { throw RevocationError(.invalidResponse, "the response has no thisUpdate") }
        let next = date(nextUpdate)
        if produced > now.addingTimeInterval(clockSkew) {
            throw RevocationError(.invalidResponse, "the response from \(responder) is dated in the future (\(produced))")
        }
        if let next, next < now.addingTimeInterval(-clockSkew) {
            throw RevocationError(.stale, "the response from \(responder) expired at \(next)")
        }
        if next == nil, produced < now.addingTimeInterval(-maximumAge) {
            throw RevocationError(.stale, "the response from \(responder) has no nextUpdate and is older than \(Int(maximumAge)) s")
        }
        let answer: OCSPAnswer.Status
        switch certStatus {
        case V_OCSP_CERTSTATUS_GOOD: answer = .good
        case V_OCSP_CERTSTATUS_REVOKED:
            answer = .revoked(reason: reason >= 0 ? CRLReason(rawValue: UInt8(reason)) : nil, at: date(revokedAt) ?? produced)
        default: answer = .unknown
        }
        return OCSPAnswer(status: answer, thisUpdate: produced, nextUpdate: next, responder: responder)
    }
}
