/// Why a caption from an OpenAI-compatible vision endpoint could not be had.
///
/// Every sentence is safe to show and to log: it never contains the API key, not even when the
/// endpoint echoes the key back in its own error message.
public enum VisionChatError: Error, CustomStringConvertible, Equatable {
    /// The endpoint could not be reached, timed out, was overloaded (5xx, 429) or the request was
    /// cancelled: worth retrying later (gRPC UNAVAILABLE).
    case unreachable(String)
    /// The endpoint turned the request down (400, 401, 403, 404, …) or the settings cannot make a
    /// request at all: a configuration problem that retrying will not fix (gRPC FAILED_PRECONDITION).
    case refused(String)
    /// The endpoint answered with success but not with a chat completion holding some text
    /// (gRPC UNAVAILABLE).
    case malformed(String)

    public var description: String {
        switch self {
        case .unreachable(let sentence), .refused(let sentence), .malformed(let sentence):
            sentence
        }
    }
}
