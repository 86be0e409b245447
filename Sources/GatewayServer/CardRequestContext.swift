import Foundation
import Hummingbird
import NIOCore
import NIOSSL
import RequestDecoding

/// Request context that keeps the connection, so a handler can read the TLS peer's certificate chain.
public struct CardRequestContext: OriginAwareContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    public var origin: ClientOrigin

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        origin = ClientOrigin(address: source.channel.remoteAddress?.ipAddress ?? "-")
    }

    public var peerAddress: String { channel.remoteAddress?.ipAddress ?? "-" }

    /// When this connection's TLS handshake completed (nil behind a proxy that terminates TLS).
    public func handshakeCompletedAt() async -> Date? {
        try? await channel.pipeline.handler(type: HandshakeTimeHandler.self).get().completedAt
    }

    /// The chain the browser presented (leaf first), as DER; empty when it sent none.
    public func presentedChain() async -> [[UInt8]] {
        guard let chain = try? await channel.nioSSL_peerValidatedCertificateChain().get() else {
            if let leaf = try? await channel.nioSSL_peerCertificate().get(), let der = try? leaf.toDERBytes() { return [der] }
            return []
        }
        return chain.compactMap { try? $0.toDERBytes() }
    }
}

/// Request context of the public listener: keeps the client's address for the audit log and rate limits.
public struct PublicRequestContext: OriginAwareContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public var origin: ClientOrigin

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        origin = ClientOrigin(address: source.channel.remoteAddress?.ipAddress ?? "-")
    }

    public var peerAddress: String { remoteAddress?.ipAddress ?? "-" }
    /// The browser's address (from a trusted proxy's forwarding header when one stands in front).
    var clientAddress: String { origin.address }
}
