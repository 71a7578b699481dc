import Testing
import TuttiTiming
@testable import TuttiSpeaker

/// When a speaker gives its time channel up and goes back to its stream connection.
@Suite struct TimeChannelWatchTests {
    let s = Nanos.nanosPerSecond

    @Test func aChannelThatNeverAnswersIsGivenUpAfterThreeSeconds() {
        let watch = TimeChannelWatch(since: 100 * s)
        #expect(watch.silence(at: 102 * s) == nil)
        #expect(watch.silence(at: 103 * s + 1)?.contains("no replies") == true)
    }

    @Test func aChannelThatStopsAnsweringIsGivenUpAfterFifteenSeconds() {
        var watch = TimeChannelWatch(since: 100 * s)
        watch.lastReply = 100 * s + 5_000_000
        // Once it answered, a few silent seconds (a stall) are not the end of it.
        #expect(watch.silence(at: 110 * s) == nil)
        #expect(watch.silence(at: 115 * s) == nil)
        #expect(watch.silence(at: 116 * s)?.contains("stopped answering") == true)
    }

    @Test func theSpeakerAnnouncesTheChannelOnlyWhenAllowedTo() {
        #expect(SpeakerConfiguration(host: "h", id: "a").hello().capabilities.contains("time-datagrams"))
        #expect(!SpeakerConfiguration(host: "h", id: "a", timeDatagrams: false).hello().capabilities.contains("time-datagrams"))
    }
}
