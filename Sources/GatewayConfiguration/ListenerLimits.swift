import Foundation

/// Limits that keep a flood of connections or requests from taking the listeners down.
/// Each field's comment names its setting (`limits.*`).
public struct ListenerLimits: Sendable, Hashable {
    /// `header_timeout`: seconds a new connection has to finish its TLS handshake and send its first request's headers.
    public var headerTimeout: TimeInterval = 10
    /// `idle_timeout`: seconds a keep-alive connection may stay idle.
    public var idleTimeout: TimeInterval = 30
    /// `max_connections`, `max_connections_per_address`: open connections per listener, and per client address on one.
    public var maximumConnections = 4096
    public var maximumConnectionsPerAddress = 64
    /// `requests_per_second`, `request_burst`: requests per second (and burst) per client address on the endpoints that create state; 0 turns it off.
    public var requestsPerSecond: Double = 20
    public var requestBurst = 60
    /// `refusal_audits_per_minute`: audit records of refused unauthenticated requests per minute; past it they are counted, not written.
    public var refusalAuditsPerMinute = 120

    public init() {}
}
