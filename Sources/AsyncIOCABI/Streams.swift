import AsyncIO

/// A `StreamWriter` the Python file object `swift_aio.open(path, "wb")` writes through. The
/// writer is `~Copyable`: each call moves it into the task that runs it and back.
// @unchecked: `writer` is touched only inside `runBlocking`, whose caller (one Python file
// object, serialised by its own lock) waits for the task; no two calls run at once.
final class WriterBox: @unchecked Sendable {
    var writer: StreamWriter?
    let path: String
    init(_ writer: consuming StreamWriter, path: String) {
        self.writer = consume writer
        self.path = path
    }
}

/// Opens `path` for a streamed write through the handle's workers (bounce buffers of `bufferSize`);
/// `expectedSize` (negative: unknown) reserves the file's blocks at once (see `StreamWriter`).
@_cdecl("swiftaio_writer_open")
public func swiftaio_writer_open(_ pointer: UnsafeMutableRawPointer, _ path: UnsafePointer<CChar>?,
                                 _ bufferSize: Int64, _ expectedSize: Int64, _ code: UnsafeMutablePointer<Int32>?,
                                 _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int64) -> UnsafeMutableRawPointer? {
    let name = string(path)
    do {
        let writer = try StreamWriter(path: name, handle: handle(pointer).handle, bufferSize: Int(bufferSize),
                                      expectedSize: expectedSize >= 0 ? expectedSize : nil)
        return Unmanaged.passRetained(WriterBox(writer, path: name)).toOpaque()
    } catch {
        ErrorOut(code: code, message: message, capacity: capacity).report(error)
        return nil
    }
}

func box(_ pointer: UnsafeMutableRawPointer) -> WriterBox {
    Unmanaged<WriterBox>.fromOpaque(pointer).takeUnretainedValue()
}

/// Appends `count` bytes at `address` (copied into the bounce buffers before it returns).
@_cdecl("swiftaio_writer_write")
public func swiftaio_writer_write(_ pointer: UnsafeMutableRawPointer?, _ address: UnsafeRawPointer?, _ count: Int64,
                                  _ code: UnsafeMutablePointer<Int32>?, _ message: UnsafeMutablePointer<CChar>?,
                                  _ capacity: Int64) -> Int64 {
    guard let pointer else {
        return ErrorOut(code: code, message: message, capacity: capacity).report(code: 9, "write: the file is closed")
    }
    let file = box(pointer)
    let (start, length) = (UInt(bitPattern: address), Int(count))
    do throws(AsyncIOError) {
        try runBlocking { () async throws(AsyncIOError) in
            guard var writer = file.writer.take() else {
                throw .invalid("write", "the file is closed", path: file.path)
            }
            do throws(AsyncIOError) {
                try await writer.write(UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: start), count: length))
            } catch {
                file.writer = consume writer
                throw error
            }
            file.writer = consume writer
        }
        return count
    } catch {
        return ErrorOut(code: code, message: message, capacity: capacity).report(error)
    }
}

/// Writes the tail, cuts the file to the bytes written, fsyncs (`durable` 1) and closes; frees the
/// writer in every case. Returns the file's size.
@_cdecl("swiftaio_writer_close")
public func swiftaio_writer_close(_ pointer: UnsafeMutableRawPointer?, _ durable: Int32,
                                  _ code: UnsafeMutablePointer<Int32>?, _ message: UnsafeMutablePointer<CChar>?,
                                  _ capacity: Int64) -> Int64 {
    guard let pointer else { return 0 }
    let unmanaged = Unmanaged<WriterBox>.fromOpaque(pointer)
    let file = unmanaged.takeUnretainedValue()
    defer { unmanaged.release() }
    do {
        return try runBlocking { () async throws(AsyncIOError) -> Int64 in
            guard let writer = file.writer.take() else { return 0 }
            return try await writer.finish(durable: durable != 0)
        }
    } catch {
        return ErrorOut(code: code, message: message, capacity: capacity).report(error)
    }
}
