import Foundation
import Inference

/// Where the tests find the repository, its fixtures and the models scripts/setup.sh installed.
enum Paths {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let fixtures = "\(root)/Tests/InferenceTests/Fixtures"

    static let defaults: InferenceConfig = {
        // Models are found as photovault-inference finds them by default: in the project's .venv.
        do { return try InferenceConfig.fromEnvironment([:], root: root) } catch { fatalError("\(error)") }
    }()

    static var sitePackages: String {
        let lib = "\(root)/.venv/lib"
        let version = (try? FileManager.default.contentsOfDirectory(atPath: lib))?.first { $0.hasPrefix("python3") } ?? "python3"
        return "\(lib)/\(version)/site-packages"
    }

    static var astronaut: [UInt8] {
        [UInt8](FileManager.default.contents(atPath: "\(sitePackages)/skimage/data/astronaut.png") ?? Data())
    }
}
