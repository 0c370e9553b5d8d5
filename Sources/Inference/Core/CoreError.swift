import InferenceCore

/// A failure reported by the native inference core, with its sentence.
public enum CoreError: Error, Equatable, CustomStringConvertible {
    /// The caller's input is unusable (not an image, too large, empty …).
    case invalidInput(String)
    /// A model folder is unusable; the sentence names the file (and the tensor).
    case model(String)
    /// Anything else.
    case internalFailure(String)

    public var description: String {
        switch self {
        case .invalidInput(let message), .model(let message), .internalFailure(let message): message
        }
    }

    /// Runs a core call that fills an error buffer, throwing when it does not answer PV_OK.
    static func check(_ call: (UnsafeMutablePointer<CChar>, Int) -> pv_status) throws(CoreError) {
        var buffer = [CChar](repeating: 0, count: 1024)
        let status = buffer.withUnsafeMutableBufferPointer { call($0.baseAddress!, $0.count) }
        guard status != PV_OK else { return }
        let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch status {
        case PV_ERROR_INVALID_INPUT: throw .invalidInput(message)
        case PV_ERROR_MODEL: throw .model(message)
        default: throw .internalFailure(message)
        }
    }
}
