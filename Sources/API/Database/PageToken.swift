import Foundation

/// Opaque page tokens: the keyset of the last row of a page, bound to the query it came from.
///
/// A token from another query or one that was tampered with is refused with INVALID_ARGUMENT
/// rather than silently restarting or skipping rows.
enum PageToken {
    static let maximumLength = 1024

    /// Encodes the keyset `values` for the query identified by `scope`.
    static func encode(scope: String, values: [String]) -> String {
        let json = (try? JSONEncoder().encode([scope] + values)) ?? Data()
        return json.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The keyset values of a token, nil for the empty (first-page) token.
    static func decode(_ token: String, scope: String, count: Int) throws -> [String]? {
        if token.isEmpty { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard token.count <= maximumLength, let data = Data(base64Encoded: base64),
            let parts = try? JSONDecoder().decode([String].self, from: data), parts.count == count + 1
        else {
            throw APIError.invalid("page_token", "is not a token this server issued")
        }
        guard parts[0] == scope else {
            throw APIError.invalid("page_token", "belongs to another query; start again without it")
        }
        return Array(parts.dropFirst())
    }

    /// The row offset of an offset-paged listing's token (0 for the first page). Deep pages are
    /// refused past 100,000 rows, since each page reads every row before it.
    static func offset(_ token: String, scope: String) throws -> Int {
        guard let values = try decode(token, scope: scope, count: 1) else { return 0 }
        guard let offset = Int(values[0]), (0...100_000).contains(offset) else {
            throw APIError.invalid("page_token", "is not a token this server issued")
        }
        return offset
    }

    /// The page size to use: 0 means the default; outside 1…maximum is refused.
    static func pageSize(_ requested: Int32, default defaultSize: Int = 50, maximum: Int = 500, field: String = "page_size") throws -> Int {
        if requested == 0 { return defaultSize }
        guard requested > 0, Int(requested) <= maximum else {
            throw APIError.invalid(field, "must be between 1 and \(maximum) (0 means \(defaultSize))")
        }
        return Int(requested)
    }
}
