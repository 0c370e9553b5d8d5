import Foundation
import GRPCCore
import PhotoVaultProto
import Testing
import TestImages
@testable import API

@Suite("Places")
struct PlaceTests {
    @Test func knownCoordinatesFindTheirNearestGeoNamesPlaceAndTheSeaFindsNone() async throws {
        try await withTestAPI { api in
            let places = api.services.places
            let notreDame = try #require(try await places.nearest(latitude: 48.8530, longitude: 2.3499))
            #expect(notreDame == Place(city: "Paris", region: "Ile-de-France", countryCode: "FR", country: "France"))
            // The Eiffel Tower: GeoNames' point for Neuilly-sur-Seine (3.4 km) is nearer than Paris's
            // (4.0 km), but Paris gives its name to its département and wins; Neuilly's own centre,
            // 6.5 km from Paris's point, and Versailles, 17 km away, keep their own names.
            let eiffel = try #require(try await places.nearest(latitude: 48.8584, longitude: 2.2945))
            #expect(eiffel.city == "Paris" && eiffel.countryCode == "FR" && eiffel.country == "France")
            #expect(try await places.nearest(latitude: 48.8846, longitude: 2.2697)?.city == "Neuilly-sur-Seine")
            #expect(try await places.nearest(latitude: 48.8049, longitude: 2.1204)?.city == "Versailles")
            #expect(try await places.nearest(latitude: 35.6586, longitude: 139.7454)?.city == "Tokyo")
            #expect(try await places.nearest(latitude: 40.6892, longitude: -74.0445)?.country == "United States")
            #expect(try await places.nearest(latitude: 64.1466, longitude: -21.9426)?.city == "Reykjavik")
            // Mid-Atlantic: 504 km from the nearest place.
            #expect(try await places.nearest(latitude: 0, longitude: -30) == nil)
            for (latitude, longitude) in [(Double.nan, 2.0), (48.0, .nan), (95.0, 2.0), (48.0, 200.0), (.infinity, 0.0)] {
                #expect(try await places.nearest(latitude: latitude, longitude: longitude) == nil)
            }
        }
    }

    @Test func anUploadedPhotoGetsItsPlaceAndOneAtSeaOrWithoutGPSGetsNone() async throws {
        let fixtures = try Fixtures()
        let paris = try placedJPEG(fixtures, taken: "2024:06:03 09:00:00", latitude: 48.8530, longitude: 2.3499)
        let sea = try placedJPEG(fixtures, taken: "2024:06:03 09:00:00", latitude: 0, longitude: -30)
        let plain = try placedJPEG(fixtures, taken: nil)
        try await withTestAPI { api in
            let token = try await api.register("owner@example.com").accessToken
            let image = try await api.upload(paris, token: token).image
            #expect(image.hasPlace && image.place.city == "Paris" && image.place.adminRegion == "Ile-de-France")
            #expect(image.place.countryCode == "FR" && image.place.countryName == "France")
            #expect(try await api.image(image.id, token: token).place.city == "Paris")
            // Its words are indexed again with the place: a search for the city finds it.
            try await api.eventually("the place indexed") {
                let found = try await api.search.search(.with { $0.query = "paris" }, metadata: TestAPI.bearer(token))
                return found.hits.map(\.image.id) == [image.id]
            }
            let atSea = try await api.upload(sea, token: token).image
            #expect(atSea.hasGps && !atSea.hasPlace)
            let noGPS = try await api.upload(plain, token: token).image
            #expect(!noGPS.hasGps && !noGPS.hasPlace)
        }
    }

    @Test func photosStoredBeforeThePlacesWereLoadedAreLookedUpLaterAndBadPositionsNever() async throws {
        let fixtures = try Fixtures()
        let paris = try placedJPEG(fixtures, taken: "2024:06:03 09:00:00", latitude: 48.8530, longitude: 2.3499)
        // The test runs the look-ups itself; a background pass in between would take its rows.
        try await withTestAPI(configure: { $0.backgroundPlaceLookups = false }) { api in
            let token = try await api.register("owner@example.com").accessToken
            let owner = try await api.userID(token)
            // As if the server had no places yet: the upload leaves the place pending.
            try await api.database.execute("DELETE FROM places_source")
            let image = try await api.upload(paris, token: token).image
            #expect(!image.hasPlace)
            _ = try await api.watchUntilProcessed([image.id], token: token)
            // A row whose position is not on the globe (written by something other than our EXIF reader).
            let odd = try #require(try await api.seedImages(owner: owner, count: 1).first)
            try await api.database.execute("UPDATE images SET latitude = 'NaN', longitude = 2 WHERE id = \(odd)")
            #expect(try await api.services.places.backfill() == 0)

            try await api.database.execute("INSERT INTO places_source (source, row_count) VALUES ('geonames-cities1000', 1)")
            #expect(try await api.services.places.backfill() == 2)
            #expect(try await api.image(image.id, token: token).place.city == "Paris")
            let oddPlace = try await api.database.row(
                "SELECT place_country_code, place_resolved_at IS NOT NULL FROM images WHERE id = \(odd)", { try $0.decode((String, Bool).self) })
            #expect(oddPlace?.0 == "" && oddPlace?.1 == true)
            #expect(try await api.services.places.backfill() == 0)
        }
    }

    @Test func theCSVReaderKeepsQuotedCommasAndSkipsBrokenLines() throws {
        let csv = """
            lat,lon,name,admin1,admin2,cc
            47.25368,8.85654,"Rueti / Dorfzentrum, Suedl. Teil",Zurich,Bezirk Hinwil,CH
            12.58472,-81.70056,San Andres,"Archipielago de San Andres, Providencia y Santa Catalina",,CO
            not,a,line
            99,0,Nowhere,,,XX
            """
        let rows = try PlaceDirectory.parse(Data(csv.utf8))
        #expect(rows.map(\.name) == ["Rueti / Dorfzentrum, Suedl. Teil", "San Andres"])
        #expect(rows[1].admin1 == "Archipielago de San Andres, Providencia y Santa Catalina" && rows[1].countryCode == "CO")
        #expect(throws: PlaceLoadError.self) { try PlaceDirectory.parse(Data("name,lat\n".utf8)) }
    }
}
