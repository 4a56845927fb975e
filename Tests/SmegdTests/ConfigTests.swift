import Foundation
import Testing

@testable import smegd

@Suite struct ConfigTests {
    @Test func emptyFileGivesDefaults() throws {
        #expect(try ConfigLoader.parse("", source: "t.yaml") == DaemonConfig())
        #expect(try ConfigLoader.parse("# only a comment\n", source: "t.yaml") == DaemonConfig())
    }

    @Test func readsEveryKindOfValue() throws {
        let text = """
            stateDir: /srv/smeg
            gossipPort: 40000
            logLevel: debug
            syncInterval: 250ms
            heartbeatInterval: 2s
            fanout: 4
            wireguardBackend: userspace
            controlPlaneOnly: true
            metricsListen: off
            """
        let config = try ConfigLoader.parse(text, source: "t.yaml")
        #expect(config.stateDir == "/srv/smeg")
        #expect(config.gossipPort == 40000)
        #expect(config.logLevel == .debug)
        #expect(config.syncInterval == .milliseconds(250))
        #expect(config.heartbeatInterval == .seconds(2))
        #expect(config.fanout == 4)
        #expect(config.wireguardBackend == .userspace)
        #expect(config.controlPlaneOnly)
        #expect(config.metricsListen == nil)
    }

    @Test func unknownKeyNamesKeyAndLine() {
        let text = "fanout: 3\nfanuot: 4\n"
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(text, source: "t.yaml") }
        do {
            _ = try ConfigLoader.parse(text, source: "t.yaml")
        } catch let error as ConfigError {
            #expect(error.line == 2)
            #expect(error.description.hasPrefix("t.yaml:2: unknown key 'fanuot'"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test(arguments: [
        ("fanout: 0", "fanout"), ("fanout: many", "fanout"), ("gossipPort: 70000", "gossipPort"),
        ("syncInterval: 5", "syncInterval"), ("syncInterval: -1s", "syncInterval"),
        ("logLevel: loud", "logLevel"), ("mtu: 576", "mtu"), ("controlPlaneOnly: yes", "controlPlaneOnly"),
        ("stateDir: relative/dir", "stateDir"), ("metricsListen: 0.0.0.0:9469", "metricsListen"),
        ("heartbeatInterval: 1e9s", "heartbeatInterval"),
    ])
    func badValueNamesTheKey(line: String, key: String) throws {
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.parse("\n" + line, source: "f") }
        #expect(error.line == 2)
        #expect(error.message.contains("key '\(key)': expected"))
    }

    @Test func structureErrorsAreReported() throws {
        for text in ["- a\n- b\n", "fanout: [1, 2]\n", "fanout: 3\nfanout: 4\n", "a: b: c\n", "fanout: 3\n  bad"] {
            #expect(throws: ConfigError.self, "\(text)") { try ConfigLoader.parse(text, source: "f") }
        }
    }

    @Test func overridesUseTheSameRules() throws {
        var config = DaemonConfig()
        try ConfigLoader.applyOverride("fanout=5", to: &config)
        #expect(config.fanout == 5)
        #expect(throws: ConfigError.self) { try ConfigLoader.applyOverride("fanout", to: &config) }
        #expect(throws: ConfigError.self) { try ConfigLoader.applyOverride("nope=1", to: &config) }
    }

    @Test func printedConfigurationReadsBackUnchanged() throws {
        var config = DaemonConfig()
        config.syncInterval = .milliseconds(150)
        config.metricsListen = nil
        config.socketGroup = "smeg"
        let reread = try ConfigLoader.parse(ConfigPrinter.yaml(config), source: "printed")
        #expect(reread == config)
    }

    @Test func missingDefaultFileIsFineButNamedFileIsRequired() throws {
        let path = "/nonexistent-\(UInt64.random(in: 0...UInt64.max))/smegd.yaml"
        #expect(try ConfigLoader.load(path: path, required: false) == DaemonConfig())
        #expect(throws: ConfigError.self) { try ConfigLoader.load(path: path, required: true) }
    }

    @Test func everyKeyIsDocumentedWithItsDefault() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../docs/configuration.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let defaults = Dictionary(uniqueKeysWithValues: ConfigPrinter.values(DaemonConfig()))
        for key in ConfigKey.all {
            #expect(text.contains("| `\(key.name)` |"), "\(key.name) is not documented")
            let shown = defaults[key.name]!.replacingOccurrences(of: "\"", with: "")
            #expect(text.contains("`\(shown)`"), "default of \(key.name) (\(shown)) is not documented")
        }
    }

    @Test(arguments: [("200ms", 200_000_000), ("1s", 1_000_000_000), ("1.5s", 1_500_000_000), ("2m", 120_000_000_000)])
    func durationsParse(text: String, nanoseconds: Int64) {
        #expect(DurationText.parse(text) == .nanoseconds(nanoseconds))
    }

    @Test(arguments: ["", "s", "1", "1x", "ms", "+1s", "1 s", "１s", "nan s"])
    func nonsenseDurationsAreRejected(text: String) {
        #expect(DurationText.parse(text) == nil)
    }
}
