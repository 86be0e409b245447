import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OIDC
import RequestDecoding

/// How the OIDC endpoints read parameters and write answers over HTTP.
enum OIDCHTTP {
    /// The query of a GET or the form of a POST (a parameter given twice is refused by taking neither).
    static func parameters(_ request: Request) async throws -> [String: String] {
        if request.method == .post {
            let body = try await request.body.collect(upTo: 256 * 1024)
            return URLEncodedForm.decode(String(buffer: body), dropRepeated: true)
        }
        // RFC 6749 §3.1: parameters must not be included more than once; a repeated one counts as absent.
        return URLEncodedForm.decode(request.uri.query ?? "", dropRepeated: true)
    }

    static func redirect(_ uri: String, _ parameters: [(String, String?)]) -> Response {
        let query = parameters.compactMap { name, value in value.map { "\(name)=\(URLForm.encode($0))" } }
        let location = uri + (uri.contains("?") ? "&" : "?") + query.joined(separator: "&")
        return Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func json(_ object: JSONObject, status: HTTPResponse.Status = .ok, cache: String = "no-store", headers: HTTPFields = [:]) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        fields[.cacheControl] = cache
        if cache == "no-store" { fields[HTTPField.Name("Pragma")!] = "no-cache" }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: try object.jsonData())))
    }

    static func errorJSON(_ error: OIDCError, headers: HTTPFields = [:]) throws -> Response {
        try json(["error": .string(error.code.rawValue), "error_description": .string(error.detail)],
                 status: HTTPResponse.Status(code: error.httpStatus), headers: headers)
    }
}
