import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Where a Sentinel-managed primary is, and how to reach the sentinels that know.
public struct RedisSentinelConfiguration: Sendable, Equatable {
    /// The name the sentinels monitor (`sentinel monitor NAME …`).
    public var masterName: String
    public var sentinels: [RedisConfiguration.Address]
    /// `AUTH` for the sentinels themselves (`sentinel_password_env`).
    public var sentinelPassword: String?
    /// Password, database and timeouts for the data nodes; its address is ignored (the sentinels supply it).
    public var data: RedisConfiguration

    public init(masterName: String, sentinels: [RedisConfiguration.Address], sentinelPassword: String? = nil,
                data: RedisConfiguration) {
        self.masterName = masterName
        self.sentinels = sentinels
        self.sentinelPassword = sentinelPassword
        self.data = data
    }
}

/// Follows the primary of a Sentinel group:
/// * asks `SENTINEL get-master-addr-by-name` of the sentinels in turn (the first that answers wins) at start,
///   every `pollInterval`, and whenever a data connection finds a non-primary (`ROLE`) or gets `READONLY`;
/// * subscribes to `+switch-master` on every sentinel, so a failover is known the moment it is announced;
/// * on a new address, tells its listeners (the data clients reconnect at once);
/// * **fences** the old primary from the moment a sentinel announces `+selected-slave` for this master (the
///   failover has picked the replica it will promote) until `+switch-master` (or ``fenceLimit``): meanwhile
///   there is no primary, commands fail fast and `store.on_error` decides. Without the fence, writes that reach
///   the old primary between the promotion and its demotion are lost when it resyncs from the new one; for a
///   rate limit that is over-admission.
/// The data connections verify `ROLE` themselves before use, so a stale answer can never cause a write to a
/// demoted primary.
final class RedisSentinelMonitor: Sendable {
    private struct State {
        var primary: RedisConfiguration.Address?
        var listeners: [@Sendable () -> Void] = []
        var timer: RepeatedTask?
        var resolving = false
        var isShutdown = false
        var subscribers: [RedisSubscriber] = []
        var fencedUntil: NIODeadline?
    }

    /// The longest a fence holds without `+switch-master` (an aborted failover): then the sentinels are asked.
    static let fenceLimit: TimeAmount = .seconds(5)

    let configuration: RedisSentinelConfiguration
    private let queryClients: [RedisNodeClient]
    private let sentinelConfigurations: [RedisConfiguration]
    private let state = NIOLockedValueBox(State())
    private let logger: Logger
    private let events: RedisTopologyEvents
    private let eventLoop: any EventLoop
    private let pollInterval: TimeAmount

    init(configuration: RedisSentinelConfiguration, group: any EventLoopGroup, logger: Logger,
         events: RedisTopologyEvents, pollInterval: TimeAmount = .seconds(1)) {
        self.configuration = configuration
        self.logger = logger
        self.events = events
        self.pollInterval = pollInterval
        let eventLoop = group.next()
        self.eventLoop = eventLoop
        var clients: [RedisNodeClient] = []
        var sentinels: [RedisConfiguration] = []
        for address in configuration.sentinels {
            var sentinel = RedisConfiguration(address: address, password: configuration.sentinelPassword,
                                              commandTimeout: max(configuration.data.commandTimeout, .milliseconds(500)))
            sentinel.maximumReconnectDelay = .seconds(1)
            clients.append(RedisNodeClient(configuration: sentinel, group: eventLoop, logger: logger))
            sentinels.append(sentinel)
        }
        self.queryClients = clients
        self.sentinelConfigurations = sentinels
    }

    /// The primary as last reported by a sentinel (nil until one answered, and while fenced).
    var primary: RedisConfiguration.Address? {
        state.withLockedValue { state in
            if let until = state.fencedUntil, until > .now() { return nil }
            return state.primary
        }
    }

    /// `listener` runs (any thread) whenever the primary's address changes.
    func onSwitch(_ listener: @escaping @Sendable () -> Void) {
        state.withLockedValue { $0.listeners.append(listener) }
    }

    func start() {
        for client in queryClients { client.start() }
        let masterName = configuration.masterName
        var subscribers: [RedisSubscriber] = []
        for sentinel in sentinelConfigurations {
            let subscriber = RedisSubscriber(configuration: sentinel, eventLoop: eventLoop, logger: logger) {
                [weak self] channel, payload in
                let parts = String(buffer: payload).split(separator: " ")
                switch channel {
                case "+switch-master":
                    // "<name> <old ip> <old port> <new ip> <new port>"
                    guard parts.count == 5, parts[0] == masterName, let port = Int(parts[4]) else { return }
                    self?.adopt(.tcp(host: String(parts[3]), port: port), source: "+switch-master")
                case "+selected-slave":
                    // "slave <ip:port> <ip> <port> @ <name> <master ip> <master port>"
                    guard parts.count == 8, parts[5] == masterName else { return }
                    self?.fence()
                default:
                    return
                }
            }
            subscribers.append(subscriber)
            subscriber.start()
            subscriber.subscribe("+switch-master")
            subscriber.subscribe("+selected-slave")
            // A sentinel that was down may have missed the announcement: ask again whenever one (re)connects.
            subscriber.onReconnect { [weak self] in self?.resolve() }
        }
        let timer = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: pollInterval) { [weak self] _ in
            self?.resolve()
        }
        state.withLockedValue { state in
            state.timer = timer
            state.subscribers = subscribers
        }
    }

    func shutdown() async {
        let (timer, subscribers) = state.withLockedValue { state in
            state.isShutdown = true
            return (state.timer, state.subscribers)
        }
        timer?.cancel()
        for subscriber in subscribers { await subscriber.shutdown() }
        for client in queryClients { await client.shutdown() }
    }

    /// Asks the sentinels (connected ones first) for the primary; at most one round in flight.
    func resolve() {
        let go = state.withLockedValue { state -> Bool in
            guard !state.isShutdown, !state.resolving else { return false }
            state.resolving = true
            return true
        }
        guard go else { return }
        let ordered = queryClients.filter(\.isConnected) + queryClients.filter { !$0.isConnected }
        ask(ordered[...])
    }

    private func ask(_ clients: ArraySlice<RedisNodeClient>) {
        guard let client = clients.first else {
            state.withLockedValue { $0.resolving = false }
            return
        }
        client.send(["SENTINEL", "get-master-addr-by-name", configuration.masterName], on: eventLoop)
            .whenComplete { result in
                if case .success(let reply) = result, let items = reply.array, items.count == 2,
                    let host = items[0].string, let port = items[1].int
                {
                    self.state.withLockedValue { $0.resolving = false }
                    self.adopt(.tcp(host: host, port: port), source: "sentinel")
                } else {
                    self.ask(clients.dropFirst())
                }
            }
    }

    /// A failover of our master has begun: stop using the old primary now (see the type's documentation).
    private func fence() {
        let listeners = state.withLockedValue { state -> [@Sendable () -> Void] in
            guard !state.isShutdown, state.fencedUntil == nil else { return [] }
            state.fencedUntil = .now() + Self.fenceLimit
            return state.listeners
        }
        guard !listeners.isEmpty else { return }
        logger.warning("redis sentinel failover started: old primary fenced until +switch-master")
        for listener in listeners { listener() }
        eventLoop.scheduleTask(in: Self.fenceLimit) { [weak self] in
            guard let self else { return }
            let expired = self.state.withLockedValue { state -> Bool in
                guard let until = state.fencedUntil, until <= .now() else { return false }
                state.fencedUntil = nil
                return true
            }
            if expired { self.resolve() }
        }
    }

    private func adopt(_ address: RedisConfiguration.Address, source: String) {
        let (changed, first, listeners) = state.withLockedValue { state in
            guard !state.isShutdown else { return (false, false, [@Sendable () -> Void]()) }
            // A fenced client adopts only a different primary (or the answer after the fence expired).
            let wasFenced = state.fencedUntil.map { $0 > .now() } ?? false
            guard state.primary != address || (wasFenced && source == "+switch-master") else {
                return (false, false, [])
            }
            if wasFenced && state.primary == address && source != "+switch-master" { return (false, false, []) }
            state.fencedUntil = nil
            let first = state.primary == nil
            let moved = state.primary != address
            state.primary = address
            return (true, first || !moved, state.listeners)
        }
        guard changed else { return }
        logger.info("redis sentinel primary", metadata: ["address": "\(address)", "source": "\(source)"])
        if !first { events.failover() }
        for listener in listeners { listener() }
    }
}
