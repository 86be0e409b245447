import GatewayStorage
import StorageConformance
import Testing

@Suite struct InMemoryGatewayStorageTests {
    @Test("the in-memory backend of the in-process tests passes the GatewayStorage conformance suite")
    func conformance() async throws {
        try await StorageConformance.run { InMemoryGatewayStorage() }
    }
}
