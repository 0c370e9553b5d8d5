import InferenceCore

/// One face as the native core found it, in pixels of the decoded image.
public struct DetectedFace: Sendable {
    public var x: Float, y: Float, width: Float, height: Float
    /// Left eye, right eye, nose tip, left and right mouth corner (as seen in the image).
    public var landmarks: [(x: Float, y: Float)]
    public var score: Float
    public var blurVariance: Float
    public var descriptor: [Float]
}

/// dlib's face pipeline (HOG or MMOD detector, 5-point alignment, ResNet descriptors).
///
/// Not safe for concurrent use: its ``DynamicBatcher`` is the only caller.
public final class FaceDetector: @unchecked Sendable {
    private let handle: OpaquePointer
    /// E.g. "dlib_hog+resnet128".
    public let name: String
    public let folder: String

    /// Loads the .dat files of face_recognition_models from `folder`.
    public init(folder: String, useCNN: Bool = false, upsample: Int = 0) throws(CoreError) {
        var model: OpaquePointer?
        try CoreError.check { pv_face_model_load(folder, useCNN ? 1 : 0, Int32(upsample), &model, $0, $1) }
        handle = model!
        self.folder = folder
        name = String(cString: pv_face_model_name(handle))
    }

    deinit { pv_face_model_free(handle) }

    /// Faces, largest first (at most 256).
    public func detect(_ image: DecodedImage) throws(CoreError) -> [DetectedFace] {
        var faces = [pv_face](repeating: pv_face(), count: 256)
        var found: Int32 = 0
        try CoreError.check { error, capacity in
            found = pv_face_detect(handle, image.handle, &faces, Int32(faces.count), error, capacity)
            return found < 0 ? PV_ERROR_INTERNAL : PV_OK
        }
        return faces.prefix(Int(min(found, Int32(faces.count)))).map { face in
            var face = face
            let landmarks = withUnsafeBytes(of: &face.landmarks) { Array($0.bindMemory(to: Float.self)) }
            let descriptor = withUnsafeBytes(of: &face.descriptor) { Array($0.bindMemory(to: Float.self)) }
            return DetectedFace(
                x: face.x, y: face.y, width: face.width, height: face.height,
                landmarks: (0..<5).map { (landmarks[2 * $0], landmarks[2 * $0 + 1]) },
                score: face.score, blurVariance: face.blur_variance, descriptor: descriptor)
        }
    }
}
