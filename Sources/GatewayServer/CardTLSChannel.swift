import CTLSResumption
import Foundation
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import NIOTLS

/// TLS for the card listener: asks the browser for a client certificate and records the chain it presents.
///
/// Hummingbird's own `TLSChannel` passes only the metadata-less verification callback, so no chain is kept
/// (STACK.md §2). Here the callback accepts whatever was presented — the TLS layer is not where the decision is
/// made — and returns it as the "validated" chain, so handlers read it with `nioSSL_peerValidatedCertificateChain`.
/// The gateway's `CNSVerifier` then decides, and a refusal becomes a page the citizen can read instead of a TLS alert.
///
/// No TLS session resumption: a resumed session skips the certificate request, so a card removed from the reader
/// could still log in. The connections share one SSL context with BoringSSL's session tickets (TLS 1.2 and 1.3) and
/// session cache turned off, so no session is ever offered or kept (``CardTLSContextFactory``).
public struct CardTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    let base: Base
    let contexts: CardTLSContextFactory

    public init(_ base: Base, contexts: CardTLSContextFactory) throws {
        self.base = base
        self.contexts = contexts
        _ = try contexts.context()   // a bad configuration stops start-up, not the first login
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // Small TLS records (handshake flights, short pages) must not wait for Nagle's algorithm.
            try channel.syncOptions?.setOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            let handler = NIOSSLServerHandler(
                context: try contexts.context(),
                configuration: .init(),
                customVerificationCallbackWithMetadata: { certificates, promise in
                    promise.succeed(.certificateVerified(VerificationMetadata(NIOSSL.ValidatedCertificateChain(certificates))))
                })
            try channel.pipeline.syncOperations.addHandler(handler)
            try channel.pipeline.syncOperations.addHandler(HandshakeTimeHandler())
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    public func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension CardTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    public var responder: HTTPChannelHandler.Responder { base.responder }
}

/// Records when the connection's TLS handshake (the card's signature) completed, so a login that must be fresh can
/// tell a connection opened before it started (kept alive by the browser) from a new one.
final class HandshakeTimeHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny
    private let completed = NIOLockedValueBox<Date?>(nil)

    var completedAt: Date? { completed.withLockedValue { $0 } }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { completed.withLockedValue { $0 = Date() } }
        context.fireUserInboundEventTriggered(event)
    }
}

/// Makes the card listener's SSL context from the current configuration. The TLS layer trusts nothing (the gateway's
/// verifier decides), so no trust roots are loaded — that would cost milliseconds per connection — except, when the
/// admin turned on CA names in the certificate request, the trusted CAs, whose names are then sent;
/// ``updateCertificateAuthorities(_:)`` follows trust-store changes.
///
/// The context has session resumption turned off (no tickets, no session cache: `cnsgw_tls_disable_resumption`) and is
/// shared by every connection until the configuration or the trusted CAs change. swift-nio-ssl offers no switch for
/// this, so the `SSL_CTX` is read from the context's stored property by reflection; should a swift-nio-ssl version
/// keep it elsewhere, every connection gets a context of its own instead, whose empty cache and new ticket key make
/// resumption impossible too (slower: a context per handshake, and two useless tickets sent).
public final class CardTLSContextFactory: Sendable {
    private struct State {
        var configuration: TLSConfiguration?
        var authorities: [NIOSSLCertificate] = []
        /// Bumped by every change, so a context built from an older configuration is not kept.
        var generation = 0
        var shared: NIOSSLContext?
    }
    private let state = NIOLockedValueBox(State())

    public init() {}

    /// The listener's configuration (certificate, key, versions, client-certificate request).
    func replaceConfiguration(_ configuration: TLSConfiguration) {
        state.withLockedValue { $0.configuration = configuration; $0.generation += 1; $0.shared = nil }
    }

    /// The trusted CAs, whose names the certificate request carries when that is turned on.
    public func updateCertificateAuthorities(_ derCertificates: [[UInt8]]) {
        let certificates = derCertificates.compactMap { try? NIOSSLCertificate(bytes: $0, format: .der) }
        state.withLockedValue { $0.authorities = certificates; $0.generation += 1; $0.shared = nil }
    }

    /// True when connections share one context with resumption turned off; false when each gets its own.
    public func sharesOneContext() throws -> Bool {
        _ = try context()
        return state.withLockedValue { $0.shared != nil }
    }

    /// The context for a new connection.
    func context() throws -> NIOSSLContext {
        if let shared = state.withLockedValue({ $0.shared }) { return shared }
        let (configuration, generation) = try state.withLockedValue { s -> (TLSConfiguration, Int) in
            guard var c = s.configuration else { throw NIOSSLError.failedToLoadCertificate }
            c.trustRoots = .certificates(c.sendCANameList ? s.authorities : [])
            c.additionalTrustRoots = []
            return (c, s.generation)
        }
        let context = try NIOSSLContext(configuration: configuration)
        guard Self.turnOffResumption(context) else { return context }
        state.withLockedValue { if $0.generation == generation { $0.shared = context } }
        return context
    }

    /// Turns off tickets and the session cache on `context`'s `SSL_CTX`; false when it cannot be reached.
    static func turnOffResumption(_ context: NIOSSLContext) -> Bool {
        guard let child = Mirror(reflecting: context).children.first(where: { $0.label == "sslContext" }),
              let sslContext = child.value as? OpaquePointer else { return false }
        return withExtendedLifetime(context) { cnsgw_tls_disable_resumption(UnsafeMutableRawPointer(sslContext)) == 1 }
    }
}
