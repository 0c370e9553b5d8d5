import ArgumentParser
import Foundation
import SwiftProtobuf

/// How a command's results reach the user: sentences and tables, or one JSON document on stdout.
enum Output {
    /// Set once at start-up from the command line, before parsing, so that usage errors are JSON too.
    nonisolated(unsafe) static var json = false

    static let protoJSON: JSONEncodingOptions = {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        options.alwaysPrintInt64sAsNumbers = true
        return options
    }()

    /// A protobuf message as a JSON value (proto3 JSON mapping, .proto field names, default values left out).
    static func object(_ message: some SwiftProtobuf.Message) -> Any {
        guard let data = try? message.jsonUTF8Data(options: protoJSON),
              let value = try? JSONSerialization.jsonObject(with: data) else { return [String: Any]() }
        return value
    }

    static func objects(_ messages: [some SwiftProtobuf.Message]) -> [Any] { messages.map { object($0) } }

    /// Prints one JSON document on stdout.
    static func printJSON(_ object: [String: Any]) { write(object) }

    private static func write(_ value: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    static func printJSON(_ message: some SwiftProtobuf.Message) { write(object(message)) }

    /// A line on stderr (progress and warnings: never mixed into stdout's results).
    static func note(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Prints the failure (a sentence on stderr; with --json also a JSON document on stdout) and
/// returns the exit status to throw.
func fail(_ error: CLIError) -> ExitCode {
    FileHandle.standardError.write(Data("photovault: \(error)\n".utf8))
    if Output.json {
        var body: [String: Any] = ["message": error.description, "exit_status": Int(error.exitCode)]
        if let status = error.statusName { body["status"] = status }
        Output.printJSON(["error": body])
    }
    return ExitCode(error.exitCode)
}

/// Prints a value as JSON on stdout.
func printJSON(_ object: [String: Any]) {
    Output.printJSON(object)
}

/// Human formats.
enum Format {
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: value < 10 ? "%.1f %@" : "%.0f %@", value, units[unit])
    }

    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let total = Int(seconds.rounded())
        if total >= 3600 { return String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60) }
        return String(format: "%d:%02d", total / 60, total % 60)
    }

    static func date(_ timestamp: Google_Protobuf_Timestamp?) -> String {
        guard let timestamp, timestamp.seconds != 0 || timestamp.nanos != 0 else { return "-" }
        return ISO8601DateFormatter().string(from: timestamp.date)
    }

    /// Enum case names as Swift spells them, in words: `.textIndex` → `text index`.
    static func name(_ value: some SwiftProtobuf.Enum) -> String {
        "\(value)".reduce(into: "") { result, character in
            if character.isUppercase { result += " " }
            result += character.lowercased()
        }
    }

    /// Prints rows as aligned columns.
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }
}

/// Parses a date or a date and time (`2024-06-03`, `2024-06-03T10:00:00Z`) into a timestamp.
func parseTimestamp(_ text: String, option: String, endOfDay: Bool = false) throws -> Google_Protobuf_Timestamp {
    let full = ISO8601DateFormatter()
    if let date = full.date(from: text) { return Google_Protobuf_Timestamp(date: date) }
    let day = ISO8601DateFormatter()
    day.formatOptions = [.withFullDate]
    if let date = day.date(from: text) {
        return Google_Protobuf_Timestamp(date: endOfDay ? date.addingTimeInterval(86_400 - 0.001) : date)
    }
    throw fail(.usage("\(option) must be a date (2024-06-03) or a date and time (2024-06-03T10:00:00Z), not '\(text)'."))
}
