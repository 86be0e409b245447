import OIDC
import OpenIDFederation
import Testing

/// The seven operators of OpenID Federation 1.0 §6.1, applied and combined.
@Suite struct MetadataPolicyTests {
    func list(_ s: String...) -> JSONValue { .array(s.map(JSONValue.string)) }
    func policy(_ p: JSONObject) throws -> MetadataPolicy { try MetadataPolicy(p, source: "test") }

    @Test func eachOperatorAppliesAsDefined() throws {
        let metadata: JSONObject = ["scope": list("openid", "offline_access", "profile"), "grant_types": list("authorization_code"),
                                    "token_endpoint_auth_method": .string("private_key_jwt"), "contacts": list("a@x.it")]
        let p = try policy([
            "scope": .object(["subset_of": list("openid", "offline_access"), "superset_of": list("openid")]),
            "contacts": .object(["add": list("b@x.it")]),
            "application_type": .object(["default": .string("web")]),
            "token_endpoint_auth_method": .object(["one_of": list("private_key_jwt", "self_signed_tls_client_auth")]),
            "client_name": .object(["value": .string("Comune")]),
            "grant_types": .object(["essential": .bool(true)]),
        ])
        let out = try p.apply(to: metadata, entityType: "openid_relying_party")
        #expect(out["scope"] == list("openid", "offline_access"))
        #expect(out["contacts"] == list("a@x.it", "b@x.it"))
        #expect(out["application_type"] == .string("web"))
        #expect(out["client_name"] == .string("Comune"))
        #expect(out["token_endpoint_auth_method"] == .string("private_key_jwt"))
        #expect(try policy(["logo_uri": .object(["value": .null])]).apply(to: ["logo_uri": .string("x")], entityType: "t")["logo_uri"] == nil)
    }

    @Test func metadataThatBreaksThePolicyIsRefused() throws {
        #expect(throws: FederationError(.policyViolation, "")) {
            try policy(["token_endpoint_auth_method": .object(["one_of": list("private_key_jwt")])]).apply(to: ["token_endpoint_auth_method": .string("client_secret_basic")], entityType: "t")
        }
        #expect(throws: FederationError(.policyViolation, "")) {
            try policy(["scope": .object(["superset_of": list("openid")])]).apply(to: ["scope": list("profile")], entityType: "t")
        }
        #expect(throws: FederationError(.policyViolation, "")) {
            try policy(["jwks": .object(["essential": .bool(true)])]).apply(to: [:], entityType: "t")
        }
        // subset_of that leaves nothing removes the parameter; essential then fails.
        let removal = try policy(["redirect_uris": .object(["subset_of": list("https://a/cb")])])
        #expect(try removal.apply(to: ["redirect_uris": list("https://b/cb")], entityType: "t")["redirect_uris"] == nil)
        #expect(throws: FederationError(.policyViolation, "")) {
            try policy(["redirect_uris": .object(["subset_of": list("https://a/cb"), "essential": .bool(true)])]).apply(to: ["redirect_uris": list("https://b/cb")], entityType: "t")
        }
        // A critical operator this gateway does not know stops the chain; an unknown non-critical one is ignored.
        #expect(throws: FederationError(.policyViolation, "")) { try MetadataPolicy(["x": .object(["regexp": .string(".*")])], critical: ["regexp"], source: "t") }
        #expect(try MetadataPolicy(["x": .object(["regexp": .string(".*")])], source: "t").parameters["x"]?.isEmpty == true)
    }

    @Test func subordinatesMayOnlyNarrowTheirSuperiorsPolicies() throws {
        let superior = try policy(["scope": .object(["subset_of": list("openid", "offline_access", "profile"), "superset_of": list("openid")]),
                                   "contacts": .object(["add": list("ta@x.it")]), "client_name": .object(["value": .string("A")])])
        let narrower = try superior.combined(with: policy(["scope": .object(["subset_of": list("openid", "offline_access", "email")]),
                                                           "contacts": .object(["add": list("int@x.it")])]), source: "int")
        #expect(narrower.parameters["scope"]?["subset_of"] == list("openid", "offline_access"))
        #expect(narrower.parameters["contacts"]?["add"] == list("ta@x.it", "int@x.it"))
        #expect(throws: FederationError(.policyViolation, "")) { try superior.combined(with: policy(["client_name": .object(["value": .string("B")])]), source: "int") }
        #expect(throws: FederationError(.policyViolation, "")) {
            try policy(["x": .object(["one_of": list("a", "b")])]).combined(with: policy(["x": .object(["one_of": list("c")])]), source: "int")
        }
        // superset_of outside subset_of after combination is inconsistent.
        #expect(throws: FederationError(.policyViolation, "")) {
            try superior.combined(with: policy(["scope": .object(["superset_of": list("email")])]), source: "int")
        }
        let essential = try policy(["jwks": .object(["essential": .bool(false)])]).combined(with: policy(["jwks": .object(["essential": .bool(true)])]), source: "int")
        #expect(essential.parameters["jwks"]?["essential"] == .bool(true))
    }
}
