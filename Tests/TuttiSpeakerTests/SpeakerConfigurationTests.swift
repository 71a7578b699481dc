import Testing
@testable import TuttiSpeaker
import TuttiWire

@Suite struct SpeakerConfigurationTests {
    @Test(arguments: [
        ("kitchen.local", "kitchen.local", 1704),
        ("10.0.0.2:1800", "10.0.0.2", 1800),
        ("[::1]:1704", "::1", 1704),
        ("[fe80::1]", "fe80::1", 1704),
        ("::1", "::1", 1704),
    ])
    func serverAddressesParse(text: String, host: String, port: Int) throws {
        let parsed = try #require(SpeakerConfiguration.parseServer(text))
        #expect(parsed.host == host)
        #expect(parsed.port == port)
    }

    @Test(arguments: ["", ":1704", "host:0", "host:70000", "host:abc", "[::1", "[::1]x"])
    func badServerAddressesAreRefused(text: String) {
        #expect(SpeakerConfiguration.parseServer(text) == nil)
    }

    @Test func theServersLatencyIsTakenToTheMicrosecondAndNeverOverflows() {
        #expect(SpeakerSession.latencyMicroseconds(ServerSettings(latency: 180)) == 180_000)
        #expect(SpeakerSession.latencyMicroseconds(ServerSettings(latency: 180, latencyMicroseconds: 180_460)) == 180_460)
        // A server's nonsense is bounded (±60 s), not multiplied into an overflow.
        #expect(SpeakerSession.latencyMicroseconds(ServerSettings(latency: .max)) == 60_000_000)
        #expect(SpeakerSession.latencyMicroseconds(ServerSettings(latency: .min, latencyMicroseconds: .min)) == -60_000_000)
    }

    @Test func helloIsStableAndDistinctPerSpeaker() {
        let a = SpeakerConfiguration(host: "h", id: "den", instance: 2).hello()
        let again = SpeakerConfiguration(host: "h", id: "den", instance: 2).hello()
        let b = SpeakerConfiguration(host: "h", id: "patio").hello()
        #expect(a == again)
        #expect(a.mac != b.mac)
        #expect(a.mac.hasPrefix("02:"))
        #expect(a.clientID == "den#2")
        #expect(a.protocolVersion == 2)
    }

    @Test func volumeCurve() {
        #expect(PlaybackEngine.gain(volume: 100) == 1)
        #expect(PlaybackEngine.gain(volume: 0) == 0)
        #expect(abs(PlaybackEngine.gain(volume: 50) - 0.0316) < 0.001)  // −30 dB
        #expect(PlaybackEngine.gain(volume: 90) > PlaybackEngine.gain(volume: 80))
        // A trim lowers the level by its dB, under any volume.
        #expect(abs(PlaybackEngine.gain(volume: 100, trimDB: -6) - 0.5012) < 0.001)
        #expect(abs(PlaybackEngine.gain(volume: 50, trimDB: -6) / PlaybackEngine.gain(volume: 50) - 0.5012) < 0.001)
        #expect(PlaybackEngine.gain(volume: 0, trimDB: -6) == 0)
        #expect(PlaybackEngine.gain(volume: 100, trimDB: 6) == 1)  // never a boost
    }

    @Test func theServersTrimIsBounded() {
        #expect(SpeakerSession.trimDB(ServerSettings()) == 0)
        #expect(SpeakerSession.trimDB(ServerSettings(trimDB: -3.5)) == -3.5)
        #expect(SpeakerSession.trimDB(ServerSettings(trimDB: 12)) == 0)
        #expect(SpeakerSession.trimDB(ServerSettings(trimDB: -1e9)) == -60)
        #expect(SpeakerSession.trimDB(ServerSettings(trimDB: .nan)) == 0)
    }
}
