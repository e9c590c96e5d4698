import CZlib
import Foundation

/// A minimal PNG decoder (8-bit RGB or RGBA, not interlaced) over zlib, enough to look at a
/// screenshot's pixels in a test.
struct PNGImage {
    let width: Int
    let height: Int
    let channels: Int
    let pixels: [UInt8]

    init?(path: String) {
        guard let data = FileManager.default.contents(atPath: path), data.count > 8 else { return nil }
        let bytes = [UInt8](data)
        var offset = 8
        var width = 0, height = 0, channels = 0
        var compressed: [UInt8] = []
        func be32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        while offset + 8 <= bytes.count {
            let length = be32(offset)
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            switch type {
            case "IHDR":
                width = be32(offset + 8)
                height = be32(offset + 12)
                guard body[8] == 8, body[12] == 0 else { return nil }
                channels = body[9] == 6 ? 4 : (body[9] == 2 ? 3 : 0)
                guard channels > 0 else { return nil }
            case "IDAT":
                compressed += body
            default:
                break
            }
            offset += 12 + length
        }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: (stride + 1) * height)
        var size = uLongf(raw.count)
        guard uncompress(&raw, &size, compressed, uLong(compressed.count)) == Z_OK else { return nil }
        var pixels = [UInt8](repeating: 0, count: stride * height)
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            for column in 0..<stride {
                let x = raw[row * (stride + 1) + 1 + column]
                let a = column >= channels ? Int(pixels[row * stride + column - channels]) : 0
                let b = row > 0 ? Int(pixels[(row - 1) * stride + column]) : 0
                let c = (row > 0 && column >= channels) ? Int(pixels[(row - 1) * stride + column - channels]) : 0
                let predicted: Int
                switch filter {
                case 1: predicted = a
                case 2: predicted = b
                case 3: predicted = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: predicted = 0
                }
                pixels[row * stride + column] = UInt8(truncatingIfNeeded: Int(x) + predicted)
            }
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Pixels within `tolerance` of an RGB colour.
    func count(red: Int, green: Int, blue: Int, tolerance: Int = 12) -> Int {
        var total = 0
        for index in Swift.stride(from: 0, to: pixels.count, by: channels)
        where abs(Int(pixels[index]) - red) <= tolerance && abs(Int(pixels[index + 1]) - green) <= tolerance
            && abs(Int(pixels[index + 2]) - blue) <= tolerance {
            total += 1
        }
        return total
    }
}
