import CVips
import Foundation

extension ExifMetadata {
    /// Converts the C record, dropping anything out of range.
    init(_ c: cvips_exif) {
        self.init()
        make = Self.text(c.make)
        model = Self.text(c.model)
        lens = Self.text(c.lens)

        // Each date goes with its own offset tag; OffsetTime is the fallback for all of them.
        let fallbackOffset = Self.offsetMinutes(Self.text(c.offset_time))
        let candidates: [(String?, String?)] = [
            (Self.text(c.date_time_original), Self.text(c.offset_time_original)),
            (Self.text(c.date_time_digitized), Self.text(c.offset_time_digitized)),
            (Self.text(c.date_time), nil),
        ]
        for (dateText, offsetText) in candidates {
            guard let local = dateText.flatMap(Self.wallClockSeconds) else { continue }
            let offset = Self.offsetMinutes(offsetText) ?? fallbackOffset
            takenAt = Date(timeIntervalSince1970: TimeInterval(local - Int64(offset ?? 0) * 60))
            takenAtOffsetMinutes = offset
            break
        }

        if c.has_f_number != 0, c.f_number.isFinite, c.f_number > 0 { fNumber = c.f_number }
        if c.has_exposure_time != 0, c.exposure_time.isFinite, c.exposure_time > 0 {
            exposureTimeSeconds = c.exposure_time
        }
        if c.has_iso != 0, c.iso > 0, c.iso <= Int64(Int32.max) { iso = Int(c.iso) }
        if c.has_focal_length != 0, c.focal_length.isFinite, c.focal_length > 0 {
            focalLengthMM = c.focal_length
        }
        if (1...8).contains(c.orientation) { orientation = Int(c.orientation) }

        if c.has_latitude != 0 {
            let value = Self.upper(c.latitude_ref) == "S" ? -c.latitude : c.latitude
            if value.isFinite, abs(value) <= 90 { latitude = value }
        }
        if c.has_longitude != 0 {
            let value = Self.upper(c.longitude_ref) == "W" ? -c.longitude : c.longitude
            if value.isFinite, abs(value) <= 180 { longitude = value }
        }
        if c.has_altitude != 0 {
            let value = c.altitude_ref == 1 ? -c.altitude : c.altitude
            if value.isFinite { altitudeM = value }
        }
    }

    private static func upper(_ c: CChar) -> Character? {
        guard c > 0 else { return nil }
        return Character(Unicode.Scalar(UInt8(c))).uppercased().first
    }

    /// A NUL-terminated fixed-size C array as a trimmed string; nil when empty.
    static func text<T>(_ tuple: T) -> String? {
        let string = withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let trimmed = string.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// "YYYY:MM:DD HH:MM:SS" as seconds since 1970 of that wall-clock time read as UTC. Dashes
    /// or slashes in the date and a "T" separator are tolerated, as some writers use them;
    /// anything trailing (sub-seconds, a "Z") is ignored.
    static func wallClockSeconds(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        let dateSeparators: Set<UInt8> = [UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "/")]
        guard dateSeparators.contains(b[4]), dateSeparators.contains(b[7]),
              b[10] == UInt8(ascii: " ") || b[10] == UInt8(ascii: "T"),
              b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              year >= 1, (1...12).contains(month), hour <= 23, minute <= 59, second <= 60,
              day >= 1, day <= daysIn(month: month, year: year)
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }

    /// "+HH:MM" / "-HH:MM" (also "+HHMM") as minutes east of UTC, within ±18 hours.
    static func offsetMinutes(_ text: String?) -> Int? {
        guard let text else { return nil }
        let b = Array(text.utf8)
        guard b.count >= 5, b[0] == UInt8(ascii: "+") || b[0] == UInt8(ascii: "-") else { return nil }
        let digits = b.dropFirst().filter { $0 != UInt8(ascii: ":") }
        guard digits.count == 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              b.count == 5 || (b.count == 6 && b[3] == UInt8(ascii: ":"))
        else { return nil }
        let d = digits.map { Int($0 - 0x30) }
        let hours = d[0] * 10 + d[1]
        let minutes = d[2] * 10 + d[3]
        guard hours <= 18, minutes <= 59 else { return nil }
        let total = hours * 60 + minutes
        return b[0] == UInt8(ascii: "-") ? -total : total
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm),
    /// which avoids Calendar and its locale and time-zone state.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
