import Foundation

/// How faces are grouped into people: density-based, like DBSCAN (DESIGN §5).
///
/// A face with at least `minFaces` other faces within `maxDistance` (Euclidean, between face
/// descriptors) is a *core* face; core faces within reach of each other form one cluster, and a
/// face near a core face joins that core's cluster. Everything else is noise: it waits until
/// more photos of the same person arrive.
public struct ClusteringSettings: Sendable, Equatable {
    /// Neighbours a face needs to be a core face.
    public var minFaces: Int
    /// Descriptor distance within which two faces are neighbours.
    public var maxDistance: Float
    /// Detections less certain than this are shown but never clustered.
    public var minDetectionScore: Float

    /// dlib's 128-d descriptors tell two people apart at 0.6 (its documented threshold, 99.38 %
    /// on LFW). Clustering chains faces together, so one wrong link merges two people; 0.5
    /// keeps pairwise precision high at the cost of a few more waiting faces. The HOG
    /// detector's score is the sigmoid of its margin (0.5 at its threshold); below 0.6 it finds
    /// patterns on clothes and walls, again and again in similar photos, which would make people.
    public static let dlib = ClusteringSettings(minFaces: 3, maxDistance: 0.5, minDetectionScore: 0.6)

    public init(minFaces: Int, maxDistance: Float, minDetectionScore: Float) {
        self.minFaces = minFaces
        self.maxDistance = maxDistance
        self.minDetectionScore = minDetectionScore
    }
}

/// Full DBSCAN over one owner's face descriptors, in memory.
///
/// Neighbourhoods come from an exact all-pairs scan (blocked, SIMD, one block of rows per core),
/// done twice so that memory stays linear in the number of faces: once to count each face's
/// neighbours, once to link core faces and attach the others to their nearest core.
public struct FaceClustering: Sendable {
    public let settings: ClusteringSettings

    public init(settings: ClusteringSettings) {
        self.settings = settings
    }

    /// One cluster label per face (0, 1, 2 … in order of first appearance), nil for noise.
    public func cluster(_ descriptors: [[Float]]) async -> [Int?] {
        let count = descriptors.count
        guard count > 0 else { return [] }
        let matrix = DescriptorMatrix(descriptors)
        let limit = settings.maxDistance * settings.maxDistance

        let neighbourCounts = await matrix.scanPairs(within: limit, initial: [Int32](repeating: 0, count: count)) { counts, i, j, _ in
            counts[i] += 1
            counts[j] += 1
        } merge: { total, part in
            for index in total.indices { total[index] += part[index] }
        }
        let core = neighbourCounts.map { Int($0) >= settings.minFaces }

        // Core–core links, and for every other face its nearest core neighbour.
        struct Links: Sendable {
            var pairs: [(Int32, Int32)] = []
            var nearestCore: [Int32: (core: Int32, distance: Float)] = [:]
        }
        let links = await matrix.scanPairs(within: limit, initial: Links()) { links, i, j, distance in
            switch (core[i], core[j]) {
            case (true, true): links.pairs.append((Int32(i), Int32(j)))
            case (true, false): Self.offer(&links.nearestCore, face: Int32(j), core: Int32(i), distance: distance)
            case (false, true): Self.offer(&links.nearestCore, face: Int32(i), core: Int32(j), distance: distance)
            case (false, false): break
            }
        } merge: { total, part in
            total.pairs += part.pairs
            for (face, candidate) in part.nearestCore {
                Self.offer(&total.nearestCore, face: face, core: candidate.core, distance: candidate.distance)
            }
        }

        var sets = DisjointSets(count: count)
        for (i, j) in links.pairs { sets.union(Int(i), Int(j)) }
        var labels = [Int?](repeating: nil, count: count)
        var labelOfRoot: [Int: Int] = [:]
        for index in 0..<count where core[index] {
            let root = sets.find(index)
            if labelOfRoot[root] == nil { labelOfRoot[root] = labelOfRoot.count }
            labels[index] = labelOfRoot[root]
        }
        for (face, nearest) in links.nearestCore {
            labels[Int(face)] = labels[Int(nearest.core)]
        }
        return labels
    }

    /// Keeps the nearer core (ties: the lower index, so results do not depend on scan order).
    private static func offer(_ nearest: inout [Int32: (core: Int32, distance: Float)], face: Int32, core: Int32, distance: Float) {
        if let known = nearest[face], known.distance < distance || (known.distance == distance && known.core < core) { return }
        nearest[face] = (core, distance)
    }
}

/// Descriptors as one flat, padded matrix with each row's squared norm, for fast pair scans.
struct DescriptorMatrix: Sendable {
    let rows: Int
    let stride: Int
    let values: [Float]
    let squaredNorms: [Float]

    init(_ descriptors: [[Float]]) {
        rows = descriptors.count
        let width = descriptors.map(\.count).max() ?? 0
        stride = (width + 15) / 16 * 16
        var values = [Float](repeating: 0, count: rows * stride)
        var norms = [Float](repeating: 0, count: rows)
        for (row, descriptor) in descriptors.enumerated() {
            for (column, value) in descriptor.enumerated() {
                values[row * stride + column] = value
            }
            norms[row] = descriptor.reduce(0) { $0 + $1 * $1 }
        }
        self.values = values
        squaredNorms = norms
    }

    /// Calls `visit` for every pair i < j whose squared distance is at most `limit`, spread
    /// over the cores in bands of rows, each band with its own `State`, merged at the end.
    func scanPairs<State: Sendable>(
        within limit: Float, initial: State,
        _ visit: @escaping @Sendable (inout State, Int, Int, Float) -> Void,
        merge: (inout State, State) -> Void
    ) async -> State {
        let bands = max(1, min(rows / 64, ProcessInfo.processInfo.activeProcessorCount * 4))
        let matrix = self
        var total = initial
        await withTaskGroup(of: State.self) { group in
            for band in 0..<bands {
                group.addTask {
                    var state = initial
                    // Rows are dealt round-robin so every band gets long and short rows alike.
                    var i = band
                    while i < matrix.rows {
                        matrix.scanRow(i, within: limit) { j, distance in visit(&state, i, j, distance) }
                        i += bands
                    }
                    return state
                }
            }
            for await part in group { merge(&total, part) }
        }
        return total
    }

    /// Calls `found` for every j > i within `limit` (squared) of row i, with the distance.
    private func scanRow(_ i: Int, within limit: Float, _ found: (Int, Float) -> Void) {
        values.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            let lanes = stride / 16
            let a = UnsafeRawPointer(base + i * stride)
            let normA = squaredNorms[i]
            for j in (i + 1)..<rows {
                let b = UnsafeRawPointer(base + j * stride)
                var sum = SIMD16<Float>()
                for lane in 0..<lanes {
                    let x = a.loadUnaligned(fromByteOffset: lane * 64, as: SIMD16<Float>.self)
                    let y = b.loadUnaligned(fromByteOffset: lane * 64, as: SIMD16<Float>.self)
                    // Not addProduct: a fused multiply-add without FMA in the target is a libm
                    // call per lane, 40 times slower.
                    sum += x * y
                }
                let squared = normA + squaredNorms[j] - 2 * sum.sum()
                if squared <= limit { found(j, max(0, squared).squareRoot()) }
            }
        }
    }
}

/// Union–find with path halving and union by size.
struct DisjointSets {
    private var parent: [Int]
    private var size: [Int]

    init(count: Int) {
        parent = Array(0..<count)
        size = [Int](repeating: 1, count: count)
    }

    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    mutating func union(_ a: Int, _ b: Int) {
        var ra = find(a), rb = find(b)
        if ra == rb { return }
        if size[ra] < size[rb] { swap(&ra, &rb) }
        parent[rb] = ra
        size[ra] += size[rb]
    }
}
