import Foundation

/// Validation and normalisation of what people type into account forms.
///
/// Every check names the field and says what is wrong, for INVALID_ARGUMENT replies.
enum AccountInput {
    static let maximumEmailLength = 254
    static let minimumPasswordLength = 10
    static let maximumPasswordLength = 1024
    static let maximumNameLength = 100

    /// Trims and lower-cases an e-mail address and checks its shape.
    static func email(_ raw: String, field: String = "email") throws -> String {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard !email.isEmpty else { throw APIError.invalid(field, "is empty") }
        guard email.count <= maximumEmailLength else {
            throw APIError.invalid(field, "is longer than \(maximumEmailLength) characters")
        }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else {
            throw APIError.invalid(field, "is not an e-mail address (expected name@example.com)")
        }
        let local = parts[0], domain = parts[1]
        let localAllowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789.!#$%&'*+/=?^_`{|}~-")
        guard local.unicodeScalars.allSatisfy(localAllowed.contains), !local.hasPrefix("."), !local.hasSuffix("."),
            !local.contains("..")
        else {
            throw APIError.invalid(field, "has characters that an e-mail address cannot have before the @")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let labelAllowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyz0123456789-")
        guard labels.count >= 2,
            labels.allSatisfy({ label in
                (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.unicodeScalars.allSatisfy(labelAllowed.contains)
            })
        else {
            throw APIError.invalid(field, "has no valid domain after the @ (expected name@example.com)")
        }
        return email
    }

    /// Trims a display name and refuses empty, over-long or control-character names.
    static func name(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw APIError.invalid("name", "is empty") }
        guard name.count <= maximumNameLength else {
            throw APIError.invalid("name", "is longer than \(maximumNameLength) characters")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format && $0.value != 0x200D }) else {
            throw APIError.invalid("name", "contains control characters")
        }
        return name
    }

    /// Refuses passwords that are short, huge, or among the passwords people pick first.
    static func newPassword(_ password: String, field: String = "password", email: String? = nil) throws {
        guard password.count >= minimumPasswordLength else {
            throw APIError.invalid(field, "must have at least \(minimumPasswordLength) characters")
        }
        guard password.utf8.count <= maximumPasswordLength else {
            throw APIError.invalid(field, "is longer than \(maximumPasswordLength) bytes")
        }
        guard !password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError.invalid(field, "contains control characters")
        }
        let lowered = password.lowercased()
        if CommonPasswords.contains(lowered) || Set(lowered).count <= 2 || isSequence(lowered) {
            throw APIError.invalid(field, "is too common; choose one that others are unlikely to guess")
        }
        if let email, let local = email.split(separator: "@").first, local.count >= 4, lowered.contains(local) {
            throw APIError.invalid(field, "must not contain your e-mail address")
        }
    }

    /// Checks the length of a password being presented (not chosen), without judging it.
    static func presentedPassword(_ password: String, field: String = "password") throws {
        guard !password.isEmpty else { throw APIError.invalid(field, "is empty") }
        guard password.utf8.count <= maximumPasswordLength else {
            throw APIError.invalid(field, "is longer than \(maximumPasswordLength) bytes")
        }
    }

    /// Runs like "0123456789", "9876543210", "abcdefghij".
    private static func isSequence(_ text: String) -> Bool {
        let scalars = text.unicodeScalars.map(\.value)
        guard scalars.count >= 2 else { return true }
        let steps = Set(zip(scalars, scalars.dropFirst()).map { Int64($1) - Int64($0) })
        return steps.count == 1 && (steps.first.map { abs($0) <= 1 } ?? false)
    }
}
