import Foundation
import Testing

@testable import GatewayConfig

@Suite struct IncludeTests {
    let mainFile = """
        upstreams:
          app:
            replicas: [http://127.0.0.1:9001]
        routes:
          - { name: main, match: { path: / }, upstream: app }
        include: [routes.d/*.yaml, extra/none-*.yaml]
        """

    @Test func includedFilesMergeInSortedOrderAfterTheMainFile() throws {
        let temp = TempConfig()
        defer { temp.remove() }
        let main = temp.write("gateway.yaml", mainFile)
        let b = temp.write("routes.d/b.yaml", """
            routes:
              - { name: b, match: { path: /b }, upstream: second }
            """)
        let a = temp.write("routes.d/a.yaml", """
            upstreams:
              second:
                replicas: [http://127.0.0.1:9002]
            routes:
              - { name: a, match: { path: /a }, upstream: app }
            """)
        temp.write("routes.d/ignored.yml", "this: is not matched")
        let config = try ConfigLoader.load(path: main, environment: [:])
        #expect(config.routes.map(\.name) == ["main", "a", "b"])
        #expect(config.upstreams.map(\.name) == ["app", "second"])
        #expect(config.sourceFiles == [main, a, b])
        #expect(config.routes[2].location?.file == b)
    }

    @Test func duplicateNamesAcrossFilesNameBothFiles() throws {
        let temp = TempConfig()
        defer { temp.remove() }
        let main = temp.write("gateway.yaml", mainFile)
        let dup = temp.write("routes.d/dup.yaml", """
            upstreams:
              app:
                replicas: [http://127.0.0.1:9003]
            routes:
              - { name: main, match: { path: /x }, upstream: app }
            """)
        do {
            _ = try ConfigLoader.load(path: main, environment: [:])
            Issue.record("expected errors")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.description) == [
                "\(dup):2:3: duplicate upstream name 'app' (first defined at \(main):2:3)",
                "\(dup):5:13: duplicate route name 'main' (first defined at \(main):5:13)",
            ])
        }
    }

    @Test func includedFilesMayHoldOnlyRoutesAndUpstreams() throws {
        let temp = TempConfig()
        defer { temp.remove() }
        let main = temp.write("gateway.yaml", mainFile)
        let bad = temp.write("routes.d/bad.yaml", """
            server:
              listen: :1
            rotues: []
            include: other.yaml
            """)
        do {
            _ = try ConfigLoader.load(path: main, environment: [:])
            Issue.record("expected errors")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.map(\.description) == [
                "\(bad):1:1: 'server' is not allowed in an included file (only 'routes' and 'upstreams'); move it to the main config",
                "\(bad):3:1: unknown key 'rotues' in an included file (did you mean 'routes'?) (only 'routes' and 'upstreams' are allowed)",
                "\(bad):4:1: 'include' is not allowed in an included file (only 'routes' and 'upstreams'); move it to the main config",
            ])
        }
    }

    @Test func errorsInIncludedFilesCarryTheirFileAndPosition() throws {
        let temp = TempConfig()
        defer { temp.remove() }
        let main = temp.write("gateway.yaml", mainFile)
        let broken = temp.write("routes.d/x.yaml", "routes:\n  - { name: x, match: { path: /x }, upstream: ap }\n")
        do {
            _ = try ConfigLoader.load(path: main, environment: [:])
            Issue.record("expected errors")
        } catch let errors as ConfigErrors {
            #expect(errors.description == "\(broken):2:47: route 'x': unknown upstream 'ap' (did you mean 'app'?)")
        }
    }

    @Test func aPlainIncludeNameMustExist() {
        let lines = errorLines("include:\n  - routes.d/*.yaml\n  - missing.yaml\n")
        #expect(lines == ["/cfg/gateway.yaml:3:5: included file 'missing.yaml' not found (relative to this file's directory)"])
    }

    @Test func environmentOverridesTheRedisURL() throws {
        let yaml = "store:\n  redis: redis://127.0.0.1:6379/0\n"
        let overridden = try ConfigLoader.load(
            yaml: yaml, path: "/cfg/g.yaml", environment: ["GATEWAY_REDIS_URL": "redis://10.0.0.5:6380/2"])
        #expect(overridden.store.redisURL == "redis://10.0.0.5:6380/2")
        let empty = try ConfigLoader.load(yaml: yaml, path: "/cfg/g.yaml", environment: ["GATEWAY_REDIS_URL": ""])
        #expect(empty.store.redisURL == "redis://127.0.0.1:6379/0")
        let fromNothing = try ConfigLoader.load(yaml: "", path: "/cfg/g.yaml", environment: ["GATEWAY_REDIS_URL": "unix:///run/redis.sock"])
        #expect(fromNothing.store.redisURL == "unix:///run/redis.sock")
        #expect(throws: ConfigErrors.self) {
            try ConfigLoader.load(yaml: yaml, path: "/cfg/g.yaml", environment: ["GATEWAY_REDIS_URL": "localhost"])
        }
    }
}
