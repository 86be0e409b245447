import Foundation
import KeyMaterial
import OutboundHTTP
import Synchronization

/// Holds every CRL the gateway relies on, keyed by source and issuer, and keeps them current.
///
/// - A CRL is downloaded once, when a source is first needed (single-flight: concurrent logins wait for the same
///   download), then refreshed in the background before its `nextUpdate` with conditional GETs. Logins only look up.
/// - With a cache folder, each CRL is persisted (DER plus validators) and reloaded at start, so a restart does not
///   download again. A download replaces the cached copy only after it parsed and its signature verified.
public actor CRLStore {
    /// Settings of the store.
    public struct Configuration: Sendable {
        public var cacheDirectory: String?
        public var limits: CRLLimits
        public var timeout: TimeInterval
        /// Refresh this fraction of the validity window before `nextUpdate` (at least a minute before).
        public var refreshFraction: Double
        /// Wait before retrying a failed download.
        public var retryInterval: TimeInterval

        public init(cacheDirectory: String? = nil, limits: CRLLimits = CRLLimits(), timeout: TimeInterval = 30,
                    refreshFraction: Double = 0.2, retryInterval: TimeInterval = 60) {
            self.cacheDirectory = cacheDirectory
            self.limits = limits
            self.timeout = timeout
            self.refreshFraction = refreshFraction
            self.retryInterval = retryInterval
        }
    }

    /// What an admin sees of one source (`cnsgw crl status`).
    public struct SourceStatus: Sendable, Codable {
        public let source: String
        public let issuer: String
        public let thisUpdate: Date?
        public let nextUpdate: Date?
        public let entries: Int?
        public let lastFetch: Date?
        public let nextRefresh: Date?
        public let lastError: String?
    }

    private struct Slot {
        let source: String
        let issuer: X509Certificate
        var crl: CertificateRevocationList?
        var etag: String?
        var lastModified: String?
        var fetchedAt: Date?
        var lastError: String?
        var failedAt: Date?
        var loading: Task<LoadOutcome, Never>?
    }

    enum LoadOutcome: Sendable {
        case loaded(CertificateRevocationList, etag: String?, lastModified: String?)
        case notModified
        case failed(CRLError)
    }

    private let configuration: Configuration
    private let transport: any HTTPTransport
    private let now: @Sendable () -> Date
    private var slots: [String: Slot] = [:] {
        didSet { publishHeld() }
    }
    /// The CRL each source holds with no download running, and when it is next due: what a login needs, read under a
    /// lock on the login's own thread (``crl(source:issuer:network:)``'s fast path) instead of a trip to the actor
    /// and back for every login. Rebuilt from `slots` whenever they change (downloads and first uses: rare).
    private let held = Mutex<[String: Held]>([:])

    private struct Held: Sendable {
        let crl: CertificateRevocationList
        /// When the CRL is due for a refresh (nil: never, e.g. a file source).
        let refreshAt: Date?
    }

    public init(configuration: Configuration, transport: any HTTPTransport, now: @escaping @Sendable () -> Date = { Date() }) {
        self.configuration = configuration
        self.transport = transport
        self.now = now
        if let dir = configuration.cacheDirectory {
            try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }

    /// The CRL for `source` (an http(s) URL or a file path) issued by `issuer`: from memory, else from the cache
    /// folder, else downloaded (only when `network` is true). A stale CRL is returned as is: the caller decides.
    public nonisolated func crl(source: String, issuer: X509Certificate, network: Bool) async -> Result<CertificateRevocationList, CRLError> {
        let key = Self.key(source, issuer)
        if let held = held.withLock({ $0[key] }), !network || (held.refreshAt.map { $0 > now() } ?? true) {
            return .success(held.crl)
        }
        return await lookUp(key: key, source: source, issuer: issuer, network: network)
    }

    /// ``crl(source:issuer:network:)`` when the held copy is missing, due, or being downloaded.
    private func lookUp(key: String, source: String, issuer: X509Certificate, network: Bool) async -> Result<CertificateRevocationList, CRLError> {
        if slots[key] == nil { slots[key] = Slot(source: source, issuer: issuer) }
        guard let slot = slots[key] else { return .failure(CRLError(.fetchFailed, "unknown source")) }
        if !Self.isRemote(source) {
            if let crl = slot.crl { return .success(crl) }
            return await load(key, network: false)
        }
        if slot.loading != nil { return await load(key, network: network) }
        var held = slot.crl
        if held == nil { held = await loadCached(key) }
        // Due (or never fetched) and not in a retry back-off: fetch now, once for all waiting logins. Otherwise
        // answer from what is held, so an unreachable server is not asked again on every login.
        let current = slots[key] ?? slot
        if network, let due = loginFetch(current), due <= now() {
            return await load(key, network: true)
        }
        if let held { return .success(held) }
        let why = current.lastError.map { "the last download failed (\($0)); next attempt after \(nextRefresh(current).map { "\($0)" } ?? "?")" }
        return .failure(CRLError(.fetchFailed, "no CRL from \(source): " + (why ?? (network ? "not fetched" : "no cached copy and the network is off"))))
    }

    /// Refreshes every source whose CRL is due (or whose last attempt failed long enough ago). Returns how many
    /// sources were attempted.
    @discardableResult
    public func refreshDue() async -> Int {
        let current = now()
        var attempted = 0
        for (key, slot) in slots where Self.isRemote(slot.source) && slot.loading == nil {
            if let due = nextRefresh(slot), due <= current {
                attempted += 1
                _ = await load(key, network: true)
            }
        }
        return attempted
    }

    /// Runs ``refreshDue()`` every `interval` seconds until the task is cancelled.
    public func runBackgroundRefresh(interval: TimeInterval = 30) async {
        while !Task.isCancelled {
            await refreshDue()
            try? await Task.sleep(nanoseconds: UInt64(interval * 1_000_000_000))
        }
    }

    /// Every known source with its freshness.
    public func status() -> [SourceStatus] {
        slots.values.sorted { $0.source < $1.source }.map { s in
            SourceStatus(source: s.source, issuer: s.issuer.subject, thisUpdate: s.crl?.thisUpdate, nextUpdate: s.crl?.nextUpdate,
                         entries: s.crl?.entries.count, lastFetch: s.fetchedAt, nextRefresh: nextRefresh(s), lastError: s.lastError)
        }
    }

    private func publishHeld() {
        var ready: [String: Held] = [:]
        for (key, slot) in slots {
            guard let crl = slot.crl, slot.loading == nil else { continue }
            ready[key] = Held(crl: crl, refreshAt: loginFetch(slot))
        }
        held.withLock { $0 = ready }
    }

    private func nextRefresh(_ slot: Slot) -> Date? {
        guard Self.isRemote(slot.source) else { return nil }
        if let failedAt = slot.failedAt { return failedAt.addingTimeInterval(configuration.retryInterval) }
        guard let crl = slot.crl, let next = crl.nextUpdate else { return slot.crl == nil ? now() : nil }
        let window = next.timeIntervalSince(crl.thisUpdate)
        return next.addingTimeInterval(-max(60, window * configuration.refreshFraction))
    }

    /// When a login with the network fetches the CRL itself (``crl(source:issuer:network:)``): at the refresh point,
    /// and once it was asked at or after that point with nothing newer to be had (304, or a CA that publishes late),
    /// again only after the retry interval. Meanwhile logins use the copy held, and the background refresh
    /// (``refreshDue()``) keeps asking at its own pace: a login never waits on a download the last one just made.
    private func loginFetch(_ slot: Slot) -> Date? {
        guard let due = nextRefresh(slot) else { return nil }
        if slot.failedAt == nil, let fetchedAt = slot.fetchedAt, fetchedAt >= due { return fetchedAt.addingTimeInterval(configuration.retryInterval) }
        return due
    }

    private func load(_ key: String, network: Bool) async -> Result<CertificateRevocationList, CRLError> {
        guard var slot = slots[key] else { return .failure(CRLError(.fetchFailed, "unknown source")) }
        let task: Task<LoadOutcome, Never>
        if let running = slot.loading {
            task = running
        } else {
            let (source, issuer, etag, lastModified) = (slot.source, slot.issuer, slot.etag, slot.lastModified)
            let (config, transport) = (configuration, self.transport)
            let target = cachePath(key)
            let conditional = slot.crl != nil
            task = Task.detached {
                await Self.fetch(source: source, issuer: issuer, etag: conditional ? etag : nil,
                                 lastModified: conditional ? lastModified : nil, cachePath: target,
                                 configuration: config, transport: transport)
            }
            slot.loading = task
            slots[key] = slot
        }
        let outcome = await task.value
        guard var updated = slots[key] else { return .failure(CRLError(.fetchFailed, "source removed")) }
        updated.loading = nil
        defer { slots[key] = updated }
        switch outcome {
        case .loaded(let crl, let etag, let lastModified):
            (updated.crl, updated.etag, updated.lastModified) = (crl, etag, lastModified)
            (updated.fetchedAt, updated.lastError, updated.failedAt) = (now(), nil, nil)
            if let path = cachePath(key) { Self.writeMeta(path: path, source: updated.source, etag: etag, lastModified: lastModified, fetchedAt: now()) }
            return .success(crl)
        case .notModified:
            (updated.fetchedAt, updated.lastError, updated.failedAt) = (now(), nil, nil)
            if let crl = updated.crl { return .success(crl) }
            return .failure(CRLError(.fetchFailed, "\(updated.source) answered 304 but no copy is held"))
        case .failed(let error):
            (updated.lastError, updated.failedAt) = (error.detail, now())
            if let crl = updated.crl { return .success(crl) }   // keep the last good copy
            return .failure(error)
        }
    }

    private func cachePath(_ key: String) -> String? {
        guard let dir = configuration.cacheDirectory else { return nil }
        return (dir as NSString).appendingPathComponent(Digest.hex(Digest.sha256(Array(key.utf8))) + ".crl")
    }

    private func loadCached(_ key: String) async -> CertificateRevocationList? {
        guard let path = cachePath(key), FileManager.default.fileExists(atPath: path), var slot = slots[key] else { return nil }
        let (issuer, limits) = (slot.issuer, configuration.limits)
        let parsed = await Task.detached { try? CertificateRevocationList.load(contentsOf: path, issuer: issuer, limits: limits) }.value
        guard let parsed else { return nil }
        let meta = Self.readMeta(path: path)
        (slot.crl, slot.etag, slot.lastModified, slot.fetchedAt) = (parsed, meta?.etag, meta?.lastModified, meta?.fetchedAt)
        slots[key] = slot
        return parsed
    }

    // MARK: off-actor work

    static func fetch(source: String, issuer: X509Certificate, etag: String?, lastModified: String?, cachePath: String?,
                      configuration: Configuration, transport: any HTTPTransport) async -> LoadOutcome {
        if !isRemote(source) {
            let path = source.hasPrefix("file://") ? String(source.dropFirst(7)) : source
            do { return .loaded(try CertificateRevocationList.load(contentsOf: path, issuer: issuer, limits: configuration.limits), etag: nil, lastModified: nil) }
            catch { return .failed(CRLError(error.code, "\(path): \(error.detail)")) }
        }
        let fetched: HTTPFetch
        do {
            fetched = try await transport.get(url: source, ifNoneMatch: etag, ifModifiedSince: lastModified,
                                              timeout: configuration.timeout, maximumBytes: configuration.limits.maximumBytes)
        } catch {
            return .failed(CRLError(.fetchFailed, "cannot download \(source): \(error)"))
        }
        guard case .body(let bytes, let newETag, let newLastModified) = fetched else { return .notModified }
        let target = cachePath ?? NSTemporaryDirectory() + "cnsgw-\(UUID().uuidString).crl"
        let temporary = target + ".download"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            return .failed(CRLError(.unreadable, "cannot write \(temporary)"))
        }
        do {
            let crl = try CertificateRevocationList.load(contentsOf: temporary, issuer: issuer, limits: configuration.limits)
            if cachePath != nil {
                _ = try? FileManager.default.removeItem(atPath: target)
                try? FileManager.default.moveItem(atPath: temporary, toPath: target)
            }
            return .loaded(crl, etag: newETag, lastModified: newLastModified)
        } catch {
            return .failed(CRLError(error.code, "\(source): \(error.detail)"))
        }
    }

    struct Meta: Codable {
        var source: String
        var etag: String?
        var lastModified: String?
        var fetchedAt: Date
    }

    static func writeMeta(path: String, source: String, etag: String?, lastModified: String?, fetchedAt: Date) {
        let data = try? JSONEncoder().encode(Meta(source: source, etag: etag, lastModified: lastModified, fetchedAt: fetchedAt))
        _ = FileManager.default.createFile(atPath: path + ".json", contents: data)
    }

    static func readMeta(path: String) -> Meta? {
        FileManager.default.contents(atPath: path + ".json").flatMap { try? JSONDecoder().decode(Meta.self, from: $0) }
    }

    static func key(_ source: String, _ issuer: X509Certificate) -> String { source + "|" + Digest.hex(issuer.sha256Fingerprint) }

    static func isRemote(_ source: String) -> Bool {
        let lower = source.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }
}
