import InferenceCore

/// An image decoded once per Analyze call (8-bit RGB) and shared by every task that reads it.
public final class DecodedImage: @unchecked Sendable {
    // Immutable after decoding, so sharing it between tasks is safe.
    let handle: OpaquePointer

    /// Decodes JPEG, PNG or WebP bytes; refuses images above `maxPixels` before decoding them.
    public init(bytes: [UInt8], maxPixels: UInt64) throws(CoreError) {
        var image: OpaquePointer?
        try CoreError.check { error, capacity in
            bytes.withUnsafeBufferPointer { pv_image_decode($0.baseAddress, $0.count, maxPixels, &image, error, capacity) }
        }
        handle = image!
    }

    deinit { pv_image_free(handle) }

    /// The core's handle, for tests that call the C API directly.
    public var handleForTests: OpaquePointer { handle }

    public var width: Int { Int(pv_image_width(handle)) }
    public var height: Int { Int(pv_image_height(handle)) }
}
