import Foundation

/// One-line text fields (titles, names): trimmed, 1…`maximum` characters, no control characters.
enum TextInput {
    static func line(_ raw: String, field: String, maximum: Int, whenEmpty: String = "is empty") throws -> String {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw APIError.invalid(field, whenEmpty) }
        guard text.count <= maximum else {
            throw APIError.invalid(field, "is \(text.count) characters long; at most \(maximum) are allowed")
        }
        guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError.invalid(field, "contains control characters")
        }
        return text
    }
}
