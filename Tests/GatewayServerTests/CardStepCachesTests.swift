import Foundation
@testable import GatewayServer
import Testing

/// The per-process memories of the card step: requester host names and metric handles.
@Suite struct CardStepCachesTests {
    @Test func hostNamesAreTheRequestersHostsAndStayBounded() {
        let names = RequesterHostNames(capacity: 4)
        #expect(names.name(of: "https://sp.comune.example.it/saml/metadata") == "sp.comune.example.it")
        #expect(names.name(of: "https://sp.comune.example.it/saml/metadata") == "sp.comune.example.it")
        #expect(names.name(of: "https://xn--citt-3na.example.it/sp") == "città.example.it")
        #expect(names.name(of: "urn:example:not-a-host") == "urn:example:not-a-host")
        for n in 0..<20 { #expect(names.name(of: "https://sp\(n).example.it/") == "sp\(n).example.it") }
        #expect(names.remembered <= 4)
    }

    @Test func metricHandlesAreKeptPerLabelAndDimensions() {
        let handles = MetricHandles(capacity: 3)
        let a = handles.counter("cnsgw_logins_total", [("result", "valid"), ("reason", "none")])
        #expect(handles.counter("cnsgw_logins_total", [("result", "valid"), ("reason", "none")]) === a)
        #expect(handles.counter("cnsgw_logins_total", [("result", "refused"), ("reason", "revoked")]) !== a)
        let b = handles.counter("x", [("a", "b"), ("c", "d")])
        #expect(handles.counter("x", [("a", "b"), ("c", "d")]) === b)
        // Past the capacity a handle is made each time and not kept.
        let extra = handles.counter("y", [])
        #expect(handles.counter("y", []) !== extra)
        #expect(handles.timer("t") === handles.timer("t"))
    }
}
