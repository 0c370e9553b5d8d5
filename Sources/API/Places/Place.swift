import Foundation
import PhotoVaultProto

/// Where a photo was taken, from reverse geocoding its GPS position; empty strings mean unknown.
public struct Place: Sendable, Equatable, Hashable {
    public var city: String
    /// First-level subdivision: state, province, region.
    public var region: String
    /// ISO 3166-1 alpha-2, upper case.
    public var countryCode: String
    /// English short name.
    public var country: String

    public init(city: String = "", region: String = "", countryCode: String = "", country: String = "") {
        self.city = city
        self.region = region
        self.countryCode = countryCode
        self.country = country
    }

    /// No place known.
    public var isUnknown: Bool { countryCode.isEmpty }

    /// "Paris, France", "France", or "" when unknown.
    public var label: String {
        [city, country].filter { !$0.isEmpty }.joined(separator: ", ")
    }

    /// Whether a position may be looked up at all: finite and on the globe. Anything else
    /// (NaN, out of range) never reaches the geocoder.
    public static func isValidPosition(latitude: Double, longitude: Double) -> Bool {
        latitude.isFinite && longitude.isFinite && (-90...90).contains(latitude) && (-180...180).contains(longitude)
    }

    /// The Place message; nil (field unset) when unknown.
    var proto: Photovault_V1_Place? {
        guard !isUnknown else { return nil }
        return .with {
            $0.city = city
            $0.adminRegion = region
            $0.countryCode = countryCode
            $0.countryName = country
        }
    }
}
