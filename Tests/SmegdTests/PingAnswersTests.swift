import Testing

@testable import smegd

/// `PingAnswers` keeps only what a waiting `ping` request will take: nothing is left behind by
/// answers nobody waits for, late answers or requests that gave up.
@Suite struct PingAnswersTests {
    @Test func anAwaitedAnswerIsTakenOnce() {
        var answers = PingAnswers()
        answers.expect(7)
        #expect(answers.take(7) == nil, "not come yet")
        answers.answered(7, rtt: .microseconds(840))
        #expect(answers.take(7) == .microseconds(840))
        #expect(answers.take(7) == nil)
        #expect(answers.waiting == 0 && answers.held == 0)
    }

    @Test func answersNobodyWaitsForAreDropped() {
        var answers = PingAnswers()
        answers.answered(1, rtt: .milliseconds(1))
        answers.expect(2)
        answers.forget(2)
        answers.answered(2, rtt: .milliseconds(1))
        #expect(answers.waiting == 0 && answers.held == 0)
        answers.expect(3)
        answers.answered(3, rtt: .milliseconds(1))
        answers.forget(3)
        #expect(answers.take(3) == nil)
        #expect(answers.waiting == 0 && answers.held == 0)
    }
}
