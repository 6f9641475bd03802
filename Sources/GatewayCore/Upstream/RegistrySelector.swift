import GatewayUpstreams

/// `ReplicaSelector` over GatewayUpstreams' registry: balancing, passive health and retry budgets live there.
struct RegistrySelector: ReplicaSelector {
    let registry: UpstreamRegistry

    func pick(upstream: String, clientIP: String, affinityCookie: String?, excluding: [String]) -> PickResult {
        guard let group = registry.group(named: upstream) else { return .unknownUpstream }
        let context = BalancerContext(clientIP: clientIP, affinityCookie: affinityCookie)
        let picked: Pick?
        if excluding.isEmpty {
            picked = group.pick(context)
        } else {
            let excludedIndexes = group.replicas.filter { excluding.contains($0.url) }.map(\.index)
            picked = group.pick(context, excluding: excludedIndexes)
        }
        guard let picked else { return .noneAvailable }
        let replica = picked.replica
        return .replica(
            ReplicaChoice(
                host: replica.host, port: replica.port, url: replica.url,
                setAffinityCookie: picked.setAffinityCookie, token: replica, panic: picked.panic))
    }

    func attemptStarted(_ choice: ReplicaChoice) {
        (choice.token as? Replica)?.requestStarted()
    }

    func attemptFinished(_ choice: ReplicaChoice, outcome: AttemptOutcome) {
        guard let replica = choice.token as? Replica else { return }
        let mapped: RequestOutcome
        switch outcome {
        case .success: mapped = .success
        case .connectFailure: mapped = .connectFailure
        case .resetBeforeResponse: mapped = .resetBeforeResponse
        case .badStatus(let code): mapped = .badStatus(code)
        case .timeout: mapped = .timeout
        case .aborted: mapped = .cancelled
        }
        replica.requestFinished(mapped)
    }

    func recordRequest(upstream: String) {
        registry.group(named: upstream)?.retryBudget.recordRequest()
    }

    func allowRetry(upstream: String) -> Bool {
        registry.group(named: upstream)?.retryBudget.allowRetry() ?? false
    }

    func affinityCookieName(upstream: String) -> String? {
        guard let group = registry.group(named: upstream), group.balance == .cookie else { return nil }
        return group.affinityCookieName
    }
}
