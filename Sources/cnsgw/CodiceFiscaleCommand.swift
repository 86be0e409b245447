import ArgumentParser
import Foundation
import ItalianIdentity

struct CodiceFiscaleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cf",
        abstract: "Decode and validate a codice fiscale.",
        discussion: "Exit status: 0 valid, 1 not valid, 2 bad invocation."
    )

    @Argument(help: "The codice fiscale (16 characters; omocodia allowed).")
    var code: String

    @Flag(name: .customLong("json"), help: "Print one JSON object.")
    var json = false

    struct Output {
        var valid: Bool
        var reason: String?
        var detail: String
        var code: String
        var omocodiaLevel: Int?
        var baseCode: String?
        var dateOfBirth: String?
        var gender: String?
        var belfioreCode: String?
        var placeOfBirth: String?
        var province: String?

        /// Every key present, absent values as JSON null (a stable shape for scripts).
        var dictionary: [String: Any] {
            let values: [String: Any?] = [
                "valid": valid, "reason": reason, "detail": detail, "code": code, "omocodiaLevel": omocodiaLevel,
                "baseCode": baseCode, "dateOfBirth": dateOfBirth, "gender": gender, "belfioreCode": belfioreCode,
                "placeOfBirth": placeOfBirth, "province": province,
            ]
            return values.mapValues { $0 ?? NSNull() }
        }
    }

    func run() throws {
        let registry = try? BelfioreRegistry.bundled()
        let today = CalendarDate(unixSeconds: Int64(Date().timeIntervalSince1970))
        let out: Output
        switch CodiceFiscale.parse(code, referenceDate: today, registry: registry) {
        case .failure(let e):
            out = Output(valid: false, reason: e.code.rawValue, detail: e.detail, code: code.uppercased())
        case .success(let cf):
            let place = registry.flatMap { $0.place(code: cf.belfioreCode, on: cf.dateOfBirth) ?? $0.latestPlace(code: cf.belfioreCode) }
            out = Output(valid: true, reason: nil,
                         detail: place == nil ? "valid; the Belfiore code \(cf.belfioreCode) is not in the place table" : "valid",
                         code: cf.code, omocodiaLevel: cf.omocodiaLevel, baseCode: cf.baseCode, dateOfBirth: cf.dateOfBirth.description,
                         gender: cf.gender.rawValue, belfioreCode: cf.belfioreCode, placeOfBirth: place?.name, province: place?.province)
        }
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: out.dictionary, options: [.sortedKeys]), as: UTF8.self))
        } else if out.valid {
            print("VALID: \(out.code)")
            print("omocodia:    level \(out.omocodiaLevel!) (base \(out.baseCode!))")
            print("born:        \(out.dateOfBirth!) (\(out.gender!)) in \(out.placeOfBirth ?? "?")\(out.province.map { " (\($0))" } ?? "") [\(out.belfioreCode!)]")
        } else {
            print("NOT VALID (\(out.reason!)): \(out.detail)")
        }
        if !out.valid { throw ExitCode(1) }
    }
}
