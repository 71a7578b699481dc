import Foundation
import Logging
import NIOCore
import TuttiAudio
import TuttiControl
import TuttiSources
import TuttiStore
import TuttiTiming

extension TuttiServer {
    /// Creates the data directory and locks it for this process (released when it exits,
    /// however it exits), so that two servers never write one store. Returns the lock's file
    /// descriptor, to close at shutdown.
    func prepareDataDirectory() throws -> Int32? {
        guard let path = configuration.dataDirectory else { return nil }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ServerError.dataDirectory(path: path, reason: error.localizedDescription)
        }
        let lockPath = (path as NSString).appendingPathComponent("lock")
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ServerError.dataDirectory(path: path, reason: "cannot open \(lockPath): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw ServerError.dataDirectory(path: path, reason: "another tutti server is using it")
        }
        return fd
    }

    /// The SQLite store in the data directory, or a memory store without one.
    func openStore() throws -> any StateStore {
        guard let directory = configuration.dataDirectory else {
            logger.notice("no data directory: groups, names and volumes are kept in memory only")
            return MemoryStateStore()
        }
        do {
            return try SQLiteStateStore(path: (directory as NSString).appendingPathComponent("tutti.sqlite"))
        } catch {
            throw ServerError.store(error)
        }
    }

    /// The control API's token: configured, else read from the data directory, else made
    /// (and, in a data directory, stored with mode 0600). A new token is logged once.
    func resolveToken() throws -> String {
        if let token = configuration.token { return token }
        let made = (0..<20).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        guard let directory = configuration.dataDirectory else {
            logger.notice("control API token for this run (clients outside trusted networks need it): \(made)")
            return made
        }
        let path = (directory as NSString).appendingPathComponent("token")
        if let stored = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), stored.count >= 16 {
            return stored
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw ServerError.dataDirectory(path: path, reason: "cannot write the token: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array((made + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw ServerError.dataDirectory(path: path, reason: "cannot write the token: \(String(cString: strerror(errno)))")
        }
        logger.notice("new control API token (clients outside trusted networks need it; kept in \(path)): \(made)")
        return made
    }

    /// Opens every configured source and makes its encoder; on failure closes what was opened.
    func openConfiguredSources() throws -> [(SourceURI, any PCMSource, any AudioEncoder)] {
        var opened: [(SourceURI, any PCMSource, any AudioEncoder)] = []
        do {
            for uri in configuration.sources {
                let source: any PCMSource
                do {
                    source = try SourceFactory.open(uri, allowProcess: true, logger: logger)
                } catch {
                    throw ServerError.sourceFailed(name: uri.name, reason: "\(error)")
                }
                do {
                    opened.append((uri, source, try Self.encoder(for: uri, format: source.format)))
                } catch {
                    source.close()
                    throw error
                }
            }
        } catch {
            opened.forEach { $0.1.close() }
            throw error
        }
        return opened
    }

    /// The encoder a stream's URI asks for, for the format its open source has.
    static func encoder(for uri: SourceURI, format: SampleFormat) throws -> any AudioEncoder {
        // A file's own format is known only once it is open.
        if let problem = StreamEncoders.problem(codec: uri.codec, format: format) {
            throw ServerError.sourceFailed(name: uri.name, reason: problem)
        }
        do {
            return try StreamEncoders.make(codec: uri.codec, format: format)
        } catch {
            throw ServerError.sourceFailed(name: uri.name, reason: "\(error)")
        }
    }

    /// Makes a stream and its reader and registers them with the core.
    func makeStream(
        uri: SourceURI, source: any PCMSource, encoder: any AudioEncoder, core: ServerCore, onFirstChunk: (@Sendable (Nanos) -> Void)? = nil
    ) async -> StreamReader {
        let stream = AudioStream(
            name: uri.name, format: source.format, codecName: encoder.codecName, codecHeader: encoder.header,
            bufferMs: configuration.bufferMs, eventLoop: core.eventLoop)
        let name = uri.name
        let reader = StreamReader(
            source: source, chunkMilliseconds: uri.chunkMilliseconds, stream: stream, codec: uri.codec, encoder: encoder, clock: clock,
            logger: logger, onPlaying: { playing in core.streamStatusChanged(name, playing: playing) }, onFirstChunk: onFirstChunk)
        await core.addStream(stream, reader: reader)
        return reader
    }

    /// Opens and closes streams at run time (Stream.AddStream / RemoveStream, stored streams).
    func makeStreamHost(core: ServerCore) -> StreamHost {
        let bind = configuration.bindAddress
        return StreamHost(
            receiverHost: bind.contains(":") ? "[\(bind)]" : bind,
            open: { [self] text, taken throws(RPCError) in
                let uri: SourceURI
                do {
                    uri = try SourceURI(parsing: text)
                } catch {
                    throw .invalidParams("\(error)")
                }
                guard !taken.contains(uri.name) else { throw .conflict("a stream named '\(uri.name)' exists") }
                if let refusal = StreamPolicy(mediaDirectories: configuration.mediaDirectories).refusal(for: uri) { throw .invalidParams(refusal) }
                let source: any PCMSource
                let encoder: any AudioEncoder
                do {
                    source = try SourceFactory.open(uri, allowProcess: false, logger: logger)
                } catch {
                    throw .invalidParams("stream '\(uri.name)': \(error)")
                }
                do {
                    encoder = try Self.encoder(for: uri, format: source.format)
                } catch {
                    source.close()
                    throw .invalidParams("\(error)")
                }
                var text = text
                // A TCP receiver on port 0: the port it got, so producers (and a restart) find it.
                let query = text.firstIndex(of: "?") ?? text.endIndex
                if let tcp = source as? TCPSource, tcp.mode == .server, text[..<query].hasSuffix(":0") {
                    text = String(text[..<query].dropLast(2)) + ":\(tcp.port)" + text[query...]
                }
                let reader = await makeStream(uri: uri, source: source, encoder: encoder, core: core)
                reader.start()
                logger.info("stream '\(uri.name)' added: \(text)")
                return StreamInfo(id: uri.name, uri: text, origin: .api)
            },
            openCalibration: { [self] id, source, onFirstChunk in
                // A stream of the server's own, outside the model: never listed, never stored.
                let name = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "calibration"
                guard let uri = try? SourceURI(parsing: "tone://?name=\(name)&codec=pcm&chunk_ms=10"),
                      let encoder = try? StreamEncoders.make(codec: "pcm", format: source.format)
                else { return }
                let reader = await makeStream(uri: uri, source: source, encoder: encoder, core: core, onFirstChunk: onFirstChunk)
                reader.start()
            },
            close: { [logger] id in
                core.eventLoop.execute {
                    guard let reader = core.assumeIsolated({ $0.removeStream(id) }) else { return }
                    logger.info("stream '\(id)' removed")
                    Thread.detachNewThread { reader.stop() }
                }
            })
    }

    /// The model from the store: configured streams, stored speakers, groups, pairs, party mode
    /// and streams added through the API (reopened; one that cannot be is dropped, loudly);
    /// the configuration's speakers on a first start. What had to be repaired is stored.
    func restoreModel(store: any StateStore, streamHost: StreamHost) async throws -> (SystemModel, PersistentState) {
        let loaded: (state: PersistentState, firstStart: Bool)
        do {
            loaded = try store.load()
        } catch {
            throw ServerError.store(error)
        }
        let configured = configuration.sources.map { StreamInfo(id: $0.name, uri: $0.text, origin: .configuration) }
        let newID = { UUID().uuidString.lowercased() }
        var model = SystemModel(restoring: loaded.state, configuredStreams: configured, newID: newID)
        for stream in model.streams where stream.origin == .api {
            do {
                _ = try await streamHost.open(stream.uri, Set(model.streams.map(\.id)).subtracting([stream.id]))
            } catch {
                logger.error("stored stream '\(stream.id)' (\(stream.uri)) cannot be opened: \(error); its groups play '\(model.defaultStreamID)'")
                model.dropUnavailableStream(stream.id)
            }
        }
        if loaded.firstStart, !configuration.speakers.isEmpty {
            model.seed(
                configuration.speakers.sorted { $0.key < $1.key }.map { id, settings in
                    SpeakerSeed(id: id, volume: settings.volume, muted: settings.muted, latencyMs: settings.latencyMs, streamID: settings.stream)
                }, newID: newID)
            logger.info("first start: \(configuration.speakers.count) speaker(s) from the configuration file stored; from now on the store is the truth")
        }
        let changes = StoreChange.changes(from: loaded.state, to: model.persistent)
        do {
            try store.save(changes)
        } catch {
            throw ServerError.store(error)
        }
        let problems = model.violations
        if !problems.isEmpty { logger.error("stored state is inconsistent: \(problems.joined(separator: "; "))") }
        return (model, model.persistent)
    }
}

/// What Stream.AddStream may open: pipes, TCP and test signals anywhere; files and FIFOs only
/// inside the configured media directories; never a program (`process://`).
struct StreamPolicy {
    let mediaDirectories: [String]

    /// Why the URI is refused, or nil.
    func refusal(for uri: SourceURI) -> String? {
        switch uri.kind {
        case .process:
            return "process:// streams can only be configured in the server's configuration, not added through the API"
        case .pulse, .alsa:
            // A capture source records the box's inputs (a microphone, too): only its owner adds one.
            return "\(uri.scheme):// (line-in) streams can only be configured in the server's configuration, not added through the API"
        case .tcp, .signal:
            return nil
        case .pipe(let path), .file(let path, _):
            guard !mediaDirectories.isEmpty else {
                return "\(uri.scheme):// streams need a media directory (media_dirs in the configuration) to hold \(path)"
            }
            let resolved = Self.resolve(path)
            let inside = mediaDirectories.contains { directory in
                let root = Self.resolve(directory)
                return resolved == root || resolved.hasPrefix(root.hasSuffix("/") ? root : root + "/")
            }
            return inside ? nil : "\(path) is outside the media directories (\(mediaDirectories.joined(separator: ", ")))"
        }
    }

    /// The path with `.`/`..` and symbolic links resolved (as far as it exists).
    static func resolve(_ path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let existing = url.deletingLastPathComponent().resolvingSymlinksInPath()
        return FileManager.default.fileExists(atPath: url.path)
            ? url.resolvingSymlinksInPath().path : existing.appendingPathComponent(url.lastPathComponent).path
    }
}
