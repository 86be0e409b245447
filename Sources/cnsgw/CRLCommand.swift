import ArgumentParser
import CNSValidation
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The CRL sources of a running gateway, as it last published them.
enum CRLStatusFile {
    struct Document: Codable {
        var writtenAt: Date
        var sources: [CRLStore.SourceStatus]
        /// Absent in documents written before OCSP responders were reported.
        var ocspResponders: [OCSPResponderStatus]?
    }

    static func write(_ status: [CRLStore.SourceStatus], ocsp: [OCSPResponderStatus], to path: String, at now: Date) {
        let doc = Document(writtenAt: now, sources: status, ocspResponders: ocsp)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(doc) else { return }
        let temporary = path + ".tmp"
        if FileManager.default.createFile(atPath: temporary, contents: data) {
            _ = rename(temporary, path)   // atomic: readers see the old or the new document, never half of one
        }
    }
}

struct CRLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crl", abstract: "Revocation sources of the running gateway.",
                                                    subcommands: [Status.self])

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every CRL and OCSP source with its age, next refresh and last error (exit 1 if a CRL is past nextUpdate).")
        @Flag(help: "Print the status document as JSON.") var json = false
        @OptionGroup var data: DataDirectoryOptions

        func run() throws {
            let path = (data.dataDir as NSString).appendingPathComponent("crl-status.json")
            guard let bytes = FileManager.default.contents(atPath: path) else {
                throw UsageError("\(path) does not exist: the gateway has not run yet in this data folder, or has not fetched any CRL")
            }
            if json { print(String(decoding: bytes, as: UTF8.self)); return }
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let doc = try decoder.decode(CRLStatusFile.Document.self, from: bytes)
            let now = Date()
            func age(_ d: Date?) -> String { d.map { "\(Int(now.timeIntervalSince($0)))s ago" } ?? "-" }
            func until(_ d: Date?) -> String { d.map { "in \(Int($0.timeIntervalSince(now)))s" } ?? "-" }
            print("as of \(doc.writtenAt) (\(Int(now.timeIntervalSince(doc.writtenAt)))s ago)")
            var stale = false
            for s in doc.sources {
                let expired = s.nextUpdate.map { $0 < now } ?? false
                stale = stale || expired
                print("\(expired ? "STALE" : "ok   ")  \(s.source)")
                print("       issuer \(s.issuer); \(s.entries.map(String.init) ?? "?") entries; issued \(age(s.thisUpdate)); next update \(until(s.nextUpdate)); fetched \(age(s.lastFetch)); next refresh \(until(s.nextRefresh))")
                if let error = s.lastError { print("       last error: \(error)") }
            }
            if doc.sources.isEmpty { print("no CRL source has been used yet") }
            for r in doc.ocspResponders ?? [] {
                print("\(r.failing ? "ERROR" : "ok   ")  OCSP \(r.responder)")
                print("       \(r.queries) queries, \(r.failures) failed; last answer \(age(r.lastSuccess)) (produced \(age(r.lastThisUpdate)), valid until \(until(r.lastNextUpdate))); last latency \(r.lastLatencyMilliseconds.map { "\($0) ms" } ?? "-")")
                if let error = r.lastError { print("       last error \(age(r.lastErrorAt)): \(error)") }
            }
            if (doc.ocspResponders ?? []).isEmpty { print("no OCSP responder has been asked yet") }
            if stale { throw ExitCode(1) }
        }
    }
}
