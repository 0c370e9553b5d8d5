import Foundation

/// Face descriptors with known identities, spread like dlib's 128-d descriptors: photos of one
/// person lie about 0.4 apart (0.3–0.6 as pose and light vary from photo to photo), different
/// people about 0.9 apart, and a few look-alike pairs closer (about 0.7). Seeded, so every run
/// sees the same faces.
public struct SyntheticFaces {
    public static let dimensions = 128
    public private(set) var descriptors: [[Float]] = []
    /// The identity of each descriptor; strangers seen once have identities of their own.
    public private(set) var identities: [Int] = []
    private var random: SeededRandom

    /// `people` identities with `facesPerPerson` photos each (a range: people differ), plus
    /// `strangers` faces each of someone seen once.
    public init(people: Int, facesPerPerson: ClosedRange<Int>, strangers: Int, seed: UInt64 = 42) {
        random = SeededRandom(seed: seed)
        var centres: [[Float]] = []
        for person in 0..<(people + strangers) {
            // Every fifth person is a look-alike of the one before.
            if person % 5 == 4, person < people, let previous = centres.last {
                centres.append(previous.map { $0 + Float(random.normal()) * 0.05 })
            } else {
                centres.append((0..<Self.dimensions).map { _ in Float(random.normal()) * 0.044 })
            }
        }
        for person in 0..<people {
            for _ in 0..<Int(random.next() % UInt64(facesPerPerson.count)) + facesPerPerson.lowerBound {
                add(around: centres[person], identity: person)
            }
        }
        for stranger in people..<(people + strangers) {
            add(around: centres[stranger], identity: stranger)
        }
    }

    private mutating func add(around centre: [Float], identity: Int) {
        // Photo-to-photo spread varies: most faces are clean, some are hard (profile, dark).
        let spread = 0.025 * exp(0.25 * random.normal())
        descriptors.append(centre.map { $0 + Float(random.normal() * spread) })
        identities.append(identity)
    }

    /// Pairwise precision and recall of `labels` (nil: not clustered) against the identities.
    public func pairwiseScores(_ labels: [Int?]) -> (precision: Double, recall: Double) {
        var together = 0, togetherAndSame = 0, same = 0
        for i in 0..<labels.count {
            for j in (i + 1)..<labels.count {
                let isSame = identities[i] == identities[j]
                let isTogether = labels[i] != nil && labels[i] == labels[j]
                if isSame { same += 1 }
                if isTogether { together += 1 }
                if isSame && isTogether { togetherAndSame += 1 }
            }
        }
        return (together == 0 ? 1 : Double(togetherAndSame) / Double(together), same == 0 ? 1 : Double(togetherAndSame) / Double(same))
    }
}

/// SplitMix64 with Box–Muller normals: the same numbers on every machine.
public struct SeededRandom {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    public mutating func uniform() -> Double {
        Double(next() >> 11 + 1) / Double(1 << 53)
    }

    public mutating func normal() -> Double {
        (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform())
    }
}
