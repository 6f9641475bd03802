import Testing

@testable import GatewayCore

@Suite struct PubSubPatternTests {
    @Test func wildcardMatchesAnyRun() {
        #expect(ChannelPattern.matches("public:*", channel: "public:news", user: nil))
        #expect(ChannelPattern.matches("public:*", channel: "public:", user: nil))
        #expect(ChannelPattern.matches("public:*", channel: "public:a:b:c", user: nil))
        #expect(!ChannelPattern.matches("public:*", channel: "private:news", user: nil))
        #expect(!ChannelPattern.matches("public:*", channel: "public", user: nil))
        #expect(ChannelPattern.matches("*", channel: "anything", user: nil))
        #expect(ChannelPattern.matches("a*c*e", channel: "abcde", user: nil))
        #expect(ChannelPattern.matches("a*c*e", channel: "ace", user: nil))
        #expect(!ChannelPattern.matches("a*c*e", channel: "abcd", user: nil))
        #expect(ChannelPattern.matches("*:news", channel: "x:y:news", user: nil))
    }

    @Test func literalPatternsMatchExactly() {
        #expect(ChannelPattern.matches("chat:1", channel: "chat:1", user: nil))
        #expect(!ChannelPattern.matches("chat:1", channel: "chat:10", user: nil))
        #expect(!ChannelPattern.matches("chat:1", channel: "chat:", user: nil))
    }

    @Test func userPlaceholderNeedsThatUser() {
        #expect(ChannelPattern.matches("user:{user}", channel: "user:alice", user: "alice"))
        #expect(!ChannelPattern.matches("user:{user}", channel: "user:bob", user: "alice"))
        #expect(!ChannelPattern.matches("user:{user}", channel: "user:alice", user: nil))
        #expect(!ChannelPattern.matches("user:{user}", channel: "user:", user: ""))
        #expect(ChannelPattern.matches("user:{user}:*", channel: "user:alice:inbox", user: "alice"))
    }

    @Test func wildcardInUserNameIsLiteral() {
        #expect(!ChannelPattern.matches("user:{user}", channel: "user:anything", user: "*"))
        #expect(ChannelPattern.matches("user:{user}", channel: "user:*", user: "*"))
    }

    @Test func anyOfSeveralPatterns() {
        let patterns = ["public:*", "chat:*", "user:{user}"]
        #expect(ChannelPattern.anyMatches(patterns, channel: "chat:9", user: nil))
        #expect(ChannelPattern.anyMatches(patterns, channel: "user:bob", user: "bob"))
        #expect(!ChannelPattern.anyMatches(patterns, channel: "secret:1", user: "bob"))
        #expect(!ChannelPattern.anyMatches([], channel: "chat:9", user: nil))
    }

    @Test func connectQueryChannels() {
        #expect(PubSubQuery.channels("subscribe=public:news,public:b") == ["public:news", "public:b"])
        #expect(PubSubQuery.channels("x=1&subscribe=a%3Ab") == ["a:b"])
        #expect(PubSubQuery.channels(nil) == [])
        #expect(PubSubQuery.channels("subscribe=a,a,,b") == ["a", "b"])
    }
}
