import Crypto
import CodedErrors
import Foundation
import GatewayStorage
import HexEncoding

/// The append-only, hash-chained audit log: every login attempt and every admin change.
///
/// Each record's hash is SHA-256 over the previous record's hash and this record's sequence, time, kind and
/// payload, so changing, removing or reordering any record breaks every hash after it (`cnsgw audit verify`).
/// Appends read the chain head and write in one storage transaction, so several writers (or instances) never fork
/// the chain. Concurrent appends through one `AuditLog` are committed together (group commit): each caller still
/// returns only once its own record is stored, so nothing acknowledged is ever lost.
public struct AuditLog: Sendable {
    public let storage: any GatewayStorage
    public let now: @Sendable () -> Date
    private let writer: AuditGroupWriter

    public init(storage: any GatewayStorage, now: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.now = now
        self.writer = AuditGroupWriter(storage: storage)
    }

    /// Appends an event; `fields` become the record's canonical JSON payload.
    @discardableResult
    public func append(kind: String, fields: [String: String]) async throws -> AuditRecord {
        try await writer.append(kind: kind, payload: try Self.canonicalJSON(fields), time: now())
    }

    /// Sorted-key JSON, so the same fields always hash the same.
    public static func canonicalJSON(_ fields: [String: String]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(fields)
    }

    public static func hash(previous: String, sequence: Int64, time: Date, kind: String, payload: Data) -> String {
        var hasher = SHA256()
        hasher.update(data: Data(previous.utf8))
        hasher.update(data: Data("|\(sequence)|\(time.storageMilliseconds)|\(kind)|".utf8))
        hasher.update(data: payload)
        return Hex.encode(hasher.finalize())
    }

    /// The result of checking a chain.
    public enum Verification: Sendable, Equatable {
        /// Every record links to the one before; `firstSequence` > 1 when retention removed older records.
        case intact(records: Int, firstSequence: Int64?)
        case broken(sequence: Int64, reason: String)
    }

    /// Checks that `records` (in sequence order) form an unbroken chain.
    public static func verify(_ records: [AuditRecord]) -> Verification {
        var previous: AuditRecord?
        for r in records {
            if let p = previous {
                guard r.sequence == p.sequence + 1 else { return .broken(sequence: r.sequence, reason: "sequence jumps from \(p.sequence) to \(r.sequence): records were removed") }
                guard r.previousHash == p.hash else { return .broken(sequence: r.sequence, reason: "it does not link to record \(p.sequence)") }
            } else if r.sequence == 1 && !r.previousHash.isEmpty {
                return .broken(sequence: 1, reason: "the first record claims a predecessor")
            }
            guard hash(previous: r.previousHash, sequence: r.sequence, time: r.time, kind: r.kind, payload: r.payload) == r.hash else {
                return .broken(sequence: r.sequence, reason: "its content does not match its hash: it was altered")
            }
            previous = r
        }
        return .intact(records: records.count, firstSequence: records.first?.sequence)
    }

    /// Export formats of `cnsgw audit export`.
    public enum ExportFormat: String, Sendable, CaseIterable {
        case jsonl, csv
    }

    /// Records as JSON lines (one object each, fields flattened under `fields`) or CSV (fields as a JSON column).
    public static func export(_ records: [AuditRecord], format: ExportFormat) -> String {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        switch format {
        case .jsonl:
            return records.map { r in
                let fields = (try? JSONSerialization.jsonObject(with: r.payload)) ?? [:]
                let object: [String: Any] = ["sequence": r.sequence, "time": iso.string(from: r.time), "kind": r.kind, "fields": fields,
                                             "previousHash": r.previousHash, "hash": r.hash]
                let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
                return String(decoding: data, as: UTF8.self) + "\n"
            }.joined()
        case .csv:
            func quote(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
            return "sequence,time,kind,fields,previous_hash,hash\n" + records.map { r in
                [String(r.sequence), iso.string(from: r.time), quote(r.kind), quote(String(decoding: r.payload, as: UTF8.self)),
                 r.previousHash, r.hash].joined(separator: ",") + "\n"
            }.joined()
        }
    }
}

/// Group commit for the audit log: appends that arrive while a transaction is running wait for the next one, which
/// stores them all, chained in arrival order. Under load one transaction carries many records; alone, a record is
/// stored at once.
actor AuditGroupWriter {
    private struct Waiting {
        let kind: String
        let payload: Data
        let time: Date
        let continuation: CheckedContinuation<AuditRecord, any Error>
    }

    private let storage: any GatewayStorage
    private var queue: [Waiting] = []
    private var flushing = false
    /// Records per transaction at most (bounds the transaction's size under a burst).
    private let batchLimit = 256

    init(storage: any GatewayStorage) {
        self.storage = storage
    }

    func append(kind: String, payload: Data, time: Date) async throws -> AuditRecord {
        guard !flushing else {
            return try await withCheckedThrowingContinuation { continuation in
                queue.append(Waiting(kind: kind, payload: payload, time: time, continuation: continuation))
            }
        }
        // No transaction running: this append stores itself at once, on its own task (no task is started and woken
        // for it); appends arriving meanwhile wait and are stored together after it.
        flushing = true
        let stored: Result<AuditRecord, any Error>
        do { stored = .success(try await store([(kind, payload, time)])[0]) } catch { stored = .failure(error) }
        if queue.isEmpty { flushing = false } else { Task { await flush() } }
        return try stored.get()
    }

    private func flush() async {
        while !queue.isEmpty {
            let batch = Array(queue.prefix(batchLimit))
            queue.removeFirst(batch.count)
            do {
                let records = try await store(batch.map { ($0.kind, $0.payload, $0.time) })
                for (waiting, record) in zip(batch, records) { waiting.continuation.resume(returning: record) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
        flushing = false
    }

    /// Stores `entries` in one transaction, chained after the log's head in order.
    private func store(_ entries: [(String, Data, Date)]) async throws -> [AuditRecord] {
        try await storage.appendAudit { head in
            var previous = head
            return entries.map { kind, payload, time in
                let sequence = (previous?.sequence ?? 0) + 1
                let at = max(time, previous?.time ?? .distantPast)
                let previousHash = previous?.hash ?? ""
                let record = AuditRecord(sequence: sequence, time: at, kind: kind, payload: payload, previousHash: previousHash,
                                         hash: AuditLog.hash(previous: previousHash, sequence: sequence, time: at, kind: kind, payload: payload))
                previous = record
                return record
            }
        }
    }
}
