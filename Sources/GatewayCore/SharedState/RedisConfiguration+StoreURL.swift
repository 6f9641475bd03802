import GatewayConfig
import GatewayRedis
import NIOCore

extension RedisConfiguration {
    /// `store.redis` → connection settings, parsed by `GatewayConfig.RedisURL`: the very parser `gateway check` (and
    /// config loading) uses, so a URL that passes `check` cannot fail at start, nor the other way round.
    init(storeURL: String, commandTimeout: TimeAmount) throws(ValueParseError) {
        let url = try RedisURL.parse(storeURL)
        let address: RedisConfiguration.Address
        switch url.address {
        case .tcp(let host, let port): address = .tcp(host: host, port: port)
        case .unix(let path): address = .unix(path: path)
        }
        self.init(
            address: address, username: url.username, password: url.password, database: url.database,
            commandTimeout: commandTimeout)
    }
}
