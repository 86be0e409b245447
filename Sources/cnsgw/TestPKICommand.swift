import ArgumentParser
import CNSTestPKI
import CNSValidation
import Foundation
import ItalianIdentity
import KeyMaterial

struct TestPKICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "testpki",
        abstract: "A test PKI of CNS-profile cards for development and conformance suites (test keys only).",
        subcommands: [Init.self, Card.self, Revoke.self, BigCRL.self]
    )

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a \"CA Cittadini\"-style root, an OCSP signer, a CRL and README.txt in DIR.")

        @Argument(help: "Folder for the PKI (created if missing).") var directory: String
        @Option(help: "The CA's common name.") var caName = "Regione Demo - CA Cittadini"
        @Option(help: "URL where crl.der will be served (written into cards).") var crlURL = "http://127.0.0.1:8080/crl.der"
        @Option(help: "URL of the OCSP responder (written into cards).") var ocspURL = "http://127.0.0.1:8081"

        func run() throws {
            do {
                let pki = try TestPKI.initialize(at: directory, caName: caName, crlURL: crlURL, ocspURL: ocspURL)
                print("test PKI created in \(pki.directory): CA \(pki.ca.subject)")
                print("read \(pki.path("README.txt")) to serve its CRL and OCSP responder")
            } catch let e as TestPKIError { throw UsageError(e.description) }
        }
    }

    struct Card: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a CNS-profile card: PEM certificate and key, PKCS#12, chain.")

        @Argument(help: "Folder of a PKI made by `testpki init`.") var directory: String
        @Option(name: .customLong("cf"), help: "The citizen's codice fiscale.") var codiceFiscale: String
        @Option(help: "Given name.") var givenName: String
        @Option(help: "Surname.") var surname: String
        @Flag(help: "Revoke the card at once (CRL and OCSP database updated).") var revoked = false
        @Flag(help: "Make the card already expired.") var expired = false
        @Option(help: "Key type: rsa1024 (CNS v1.0 cards), rsa2048, p256.") var key = "rsa2048"
        @Flag(help: "Accept a codice fiscale that does not validate (to test refusals).") var allowInvalidCF = false

        func run() throws {
            guard let kind = PrivateKey.Kind(rawValue: key), kind != .rsa4096 else { throw UsageError("--key must be rsa1024, rsa2048 or p256") }
            if !allowInvalidCF, case .failure(let e) = CodiceFiscale.parse(codiceFiscale, referenceDate: CalendarDate(unixSeconds: Int64(Date().timeIntervalSince1970))) {
                throw UsageError("--cf: \(e.detail) (use --allow-invalid-cf to issue it anyway)")
            }
            do {
                var pki = try TestPKI.open(at: directory)
                let card = try pki.issueCard(codiceFiscale: codiceFiscale, givenName: givenName, surname: surname, key: kind,
                                             revoked: revoked, expired: expired)
                print("card \(card.certificate.subject)")
                print("serial      \(card.certificate.serialHex)")
                print("certificate \(card.certificatePath)")
                print("key         \(card.keyPath)")
                print("chain       \(card.chainPath)")
                print("pkcs12      \(card.pkcs12Path) (password \(TestPKI.pkcs12Password))")
            } catch let e as TestPKIError { throw UsageError(e.description) }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an issued card by serial (hex) and republish the CRL.")
        @Argument(help: "Folder of a PKI made by `testpki init`.") var directory: String
        @Argument(help: "The card's serial number in hex.") var serial: String

        func run() throws {
            do {
                var pki = try TestPKI.open(at: directory)
                try pki.revoke(serialHex: serial.uppercased())
                print("revoked \(serial.uppercased()); CRL number \(pki.state.crlNumber)")
            } catch let e as TestPKIError { throw UsageError(e.description) }
        }
    }

    struct BigCRL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "big-crl",
            abstract: "Write a CRL of N synthetic entries (plus the PKI's revoked cards), signed by the PKI's CA: for load tests and benchmarks.")
        @Argument(help: "Folder of a PKI made by `testpki init`.") var directory: String
        @Option(help: "Number of synthetic entries.") var entries: Int
        @Option(help: "Output file (DER).") var out: String
        @Option(help: "Validity in hours.") var hours: Double = 24

        func run() throws {
            do {
                let pki = try TestPKI.open(at: directory)
                let now = Date()
                let listed = pki.state.cards.compactMap { c in c.revokedAt.map { TestCRLEntry(serial: hexBytes(c.serialHex), revokedAt: $0, reason: .keyCompromise) } }
                let size = try TestCRLBuilder(issuer: pki.ca, issuerKey: pki.caKey, thisUpdate: now.addingTimeInterval(-60),
                                              nextUpdate: now.addingTimeInterval(hours * 3600), crlNumber: UInt64(now.timeIntervalSince1970))
                    .writeSynthetic(count: entries, listed: listed, to: out)
                print("wrote \(out): \(entries + listed.count) entries, \(size) bytes")
            } catch let e as TestPKIError { throw UsageError(e.description) }
        }

        func hexBytes(_ hex: String) -> [UInt8] {
            stride(from: 0, to: hex.count, by: 2).map { i in
                let s = hex.index(hex.startIndex, offsetBy: i)
                return UInt8(hex[s..<hex.index(s, offsetBy: 2)], radix: 16)!
            }
        }
    }
}
