import Foundation
import KeyMaterial

/// RFC 5280 rules OpenSSL's verifier leaves to the caller, checked on a path it accepted (leaf first).
enum RFC5280Supplement {
    static func problem(path: [X509Certificate], at time: Date) -> (FailureReason, String)? {
        // Validity has one-second granularity: a time inside the last second of notAfter is still within it.
        let time = Date(timeIntervalSince1970: time.timeIntervalSince1970.rounded(.down))
        for (depth, cert) in path.enumerated() {
            let which = depth == 0 ? "the certificate" : "the CA certificate at depth \(depth) (\(cert.subject))"
            // §4.1.2.5: the validity period includes both notBefore and notAfter.
            if time < cert.notBefore { return (.notYetValid, "\(which) is not valid before \(cert.notBefore)") }
            if time > cert.notAfter { return (.expired, "\(which) expired at \(cert.notAfter)") }
            // §4.1.2.2: a positive integer of at most 20 octets.
            if cert.serialIsNegative || cert.serialNumber.isEmpty || cert.serialNumber.count > 20 {
                return (.malformed, "\(which) has a serial number that is not a positive integer of at most 20 octets")
            }
            // §4.2.1.12: an EKU extension lists at least one purpose.
            if let eku = cert.extendedKeyUsage, eku.isEmpty { return (.extendedKeyUsage, "\(which) has an empty extended key usage") }
            if let critical = cert.criticality["nameConstraints"] {
                // §4.2.1.10: only in CA certificates, and always critical.
                if depth == 0 && !cert.isCA { return (.nameConstraints, "\(which) is an end entity with a name constraints extension") }
                if !critical { return (.nameConstraints, "\(which) has a non-critical name constraints extension") }
            }
            // §4.2.1.11: policy constraints MUST be critical.
            if cert.criticality["policyConstraints"] == false { return (.policy, "\(which) has a non-critical policy constraints extension") }
        }
        return nil
    }
}
