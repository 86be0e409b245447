import Crypto
import CodedErrors
import Foundation
import GatewayStorage
import HexEncoding
import JSONText
import Synchronization

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
        try await writer.append(kind: kind, payload: Self.canonicalJSON(fields), time: now())
    }

    /// Sorted-key JSON, so the same fields always hash the same: one object, keys in the order of their UTF-8 bytes,
    /// each string escaped as RFC 8259 §7 requires (quotation mark, reverse solidus, control characters) and nothing
    /// else, no whitespace. For the gateway's field names (ASCII) these are the bytes `JSONEncoder` writes with
    /// `[.sortedKeys, .withoutEscapingSlashes]`, which made them before.
    ///
    /// Written here rather than with `JSONEncoder`: every login appends a record, and the general Codable encoder with
    /// sorted keys cost about 40 µs of the card step's CPU (a `perf` profile of `bench/card-logins.sh`'s card step),
    /// for a flat map of strings.
    public static func canonicalJSON(_ fields: [String: String]) -> Data {
        var out = [UInt8]()
        out.reserveCapacity(fields.reduce(2) { $0 + $1.key.utf8.count + $1.value.utf8.count + 6 })
        out.append(UInt8(ascii: "{"))
        for (index, entry) in fields.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(entry.key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONText.appendString(entry.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return Data(out)
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
final class AuditGroupWriter: Sendable {
    private struct Waiting {
        let kind: String
        let payload: Data
        let time: Date
        let continuation: CheckedContinuation<Turn, any Error>
    }

    /// What a waiting append is told: its record was stored with others, or the transaction that was running ended
    /// with nothing queued, so it stores its record itself.
    private enum Turn {
        case stored(AuditRecord)
        case storeYourself
    }

    private struct State {
        var queue: [Waiting] = []
        var flushing = false
    }

    private let storage: any GatewayStorage
    /// Under a lock rather than in an actor: every login appends, and an actor would move each append to the
    /// concurrency pool and back before the database is even asked.
    private let state = Mutex(State())
    /// Records per transaction at most (bounds the transaction's size under a burst).
    private let batchLimit = 256

    init(storage: any GatewayStorage) {
        self.storage = storage
    }

    func append(kind: String, payload: Data, time: Date) async throws -> AuditRecord {
        let first = state.withLock { state in
            if state.flushing { return false }
            state.flushing = true
            return true
        }
        if !first {
            let turn = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Turn, any Error>) in
                let running = state.withLock { state in
                    if state.flushing {
                        state.queue.append(Waiting(kind: kind, payload: payload, time: time, continuation: continuation))
                        return true
                    }
                    state.flushing = true
                    return false
                }
                if !running { continuation.resume(returning: .storeYourself) }
            }
            if case .stored(let record) = turn { return record }
        }
        // No transaction running: this append stores itself at once, on its own task (no task is started and woken
        // for it); appends arriving meanwhile wait and are stored together after it.
        let stored: Result<AuditRecord, any Error>
        do { stored = .success(try await store([(kind, payload, time)])[0]) } catch { stored = .failure(error) }
        let queued = state.withLock { state in
            if state.queue.isEmpty { state.flushing = false }
            return state.flushing
        }
        if queued { Task { await flush() } }
        return try stored.get()
    }

    /// Stores what queued up while a transaction ran, a batch per transaction, until nothing waits.
    private func flush() async {
        while true {
            let batch: [Waiting]? = state.withLock { state in
                guard !state.queue.isEmpty else {
                    state.flushing = false
                    return nil
                }
                let batch = Array(state.queue.prefix(batchLimit))
                state.queue.removeFirst(batch.count)
                return batch
            }
            guard let batch else { return }
            do {
                let records = try await store(batch.map { ($0.kind, $0.payload, $0.time) })
                for (waiting, record) in zip(batch, records) { waiting.continuation.resume(returning: .stored(record)) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
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
