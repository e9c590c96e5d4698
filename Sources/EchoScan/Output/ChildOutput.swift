import Foundation

/// A child process's standard output and standard error, read to their ends at once: a child
/// that fills one pipe (64 KiB) while the other is being read would block for ever.
package enum ChildOutput {
    package static func read(output: Pipe, error: Pipe) -> (output: Data, error: Data) {
        let message = HandOff<Data>()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { message.value = error.fileHandleForReading.readDataToEndOfFile() }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        return (data, message.value ?? Data())
    }
}
