import Inference
import Testing

/// dlib faces on a real photo, with the weights of face_recognition_models.
@Suite struct FaceDetectionTests {
    static let detector: FaceDetector? = try? FaceDetector(folder: Paths.defaults.faceModelDirectory ?? "")

    @Test func theAstronautPhotoHasOneFaceWithItsBoxOnTheFace() throws {
        let detector = try #require(Self.detector, "face_recognition_models is installed by scripts/setup.sh")
        let image = try DecodedImage(bytes: Paths.astronaut, maxPixels: 50_000_000)
        #expect(image.width == 512 && image.height == 512)
        let faces = try detector.detect(image)
        #expect(faces.count == 1)
        let face = try #require(faces.first)
        // Eileen Collins' face in skimage's astronaut.png lies around x 170–250, y 60–160.
        #expect(face.x > 140 && face.x < 200 && face.y > 40 && face.y < 100)
        #expect(face.width > 60 && face.width < 130 && face.height > 60 && face.height < 130)
        let centre = (x: face.x + face.width / 2, y: face.y + face.height / 2)
        #expect(centre.x > 190 && centre.x < 240 && centre.y > 80 && centre.y < 140)
        // Landmarks inside the box, eyes above the nose above the mouth.
        for point in face.landmarks {
            #expect(point.x >= face.x - 5 && point.x <= face.x + face.width + 5)
            #expect(point.y >= face.y - 5 && point.y <= face.y + face.height + 5)
        }
        #expect(face.landmarks[0].x < face.landmarks[1].x)
        #expect(face.landmarks[0].y < face.landmarks[2].y && face.landmarks[2].y < face.landmarks[3].y)
        #expect(face.score > 0.5 && face.score <= 1)
        #expect(face.blurVariance > 30)
        let norm = face.descriptor.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(face.descriptor.count == 128 && abs(norm - 1) < 1e-4)
    }
}
