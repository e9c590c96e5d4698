import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Log lines on standard error through swift-log ("echoscan: " and the message when standard
/// error is a terminal; timestamped lines for cron logs otherwise).
let logger: Logger = {
    LoggingSystem.bootstrap { label in
        isatty(2) == 1 ? PlainLogHandler() as LogHandler : StreamLogHandler.standardError(label: label)
    }
    return Logger(label: "echoscan")
}()

func log(_ line: String) {
    logger.info("\(line)")
}

/// "echoscan: message", for people at a terminal.
struct PlainLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        FileHandleStream.standardError.write("echoscan: \(event.message)\n")
    }
}
