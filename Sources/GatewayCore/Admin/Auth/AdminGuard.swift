import Foundation
import NIOCore
import NIOHTTP1

/// What stands in front of every admin endpoint: a cross-origin check for state-changing requests, and
/// `server.admin_auth` when configured.
enum AdminGuard {
    /// A browser page from another origin must not be able to reload, drain or publish through a browser that
    /// can reach the admin listener (CSRF): a non-GET request whose `Origin` is not this listener is refused.
    /// Clients that send no `Origin` (curl, scripts) are not affected.
    static func crossOriginRefusal(_ head: HTTPRequestHead) -> AdminResponse? {
        guard head.method != .GET, head.method != .HEAD, let origin = head.headers.first(name: "origin") else {
            return nil
        }
        let host = head.headers.first(name: "host") ?? ""
        if origin == "http://\(host)" || origin == "https://\(host)" { return nil }
        return .problem(.forbidden, "Cross-origin admin requests are refused (Origin \(origin) is not this listener).")
    }

    /// Runs `handle` when the request is authenticated; answers 401 (with a login form for the page in token
    /// mode), or 429 when bcrypt checks are saturated.
    static func admit(
        _ request: AdminRequest, head: HTTPRequestHead, authenticator: AdminAuthenticator, on eventLoop: any EventLoop,
        handle: @escaping @Sendable () -> EventLoopFuture<AdminResponse>
    ) -> EventLoopFuture<AdminResponse> {
        if authenticator.usesToken, request.method == .POST, request.path == "/login" {
            return eventLoop.makeSucceededFuture(login(request, authenticator: authenticator))
        }
        return authenticator.authenticate(request.headers, on: eventLoop).flatMap { decision in
            switch decision {
            case .allowed: return handle()
            case .busy:
                var response = AdminResponse.problem(.tooManyRequests, "Too many password checks are running; retry.")
                response.headers.append(("Retry-After", "1"))
                return eventLoop.makeSucceededFuture(response)
            case .denied:
                return eventLoop.makeSucceededFuture(unauthorized(request, head: head, authenticator: authenticator))
            }
        }
    }

    static func unauthorized(_ request: AdminRequest, head: HTTPRequestHead, authenticator: AdminAuthenticator)
        -> AdminResponse
    {
        let wantsPage =
            authenticator.usesToken && request.method == .GET && request.path == "/"
            && (head.headers.first(name: "accept") ?? "").contains("text/html")
        var response =
            wantsPage
            ? AdminResponse(status: .unauthorized, contentType: "text/html; charset=utf-8", body: loginPage(failed: false))
            : AdminResponse.problem(.unauthorized, "The admin listener requires credentials (server.admin_auth).")
        response.headers.append(("WWW-Authenticate", authenticator.challenge))
        if wantsPage { response.headers.append(contentsOf: DashboardPage.securityHeaders) }
        return response
    }

    /// `POST /login` with a form field `token`: sets the `gateway_admin` cookie (HttpOnly, SameSite=Strict) so
    /// the dashboard page and its event stream, which cannot send an `Authorization` header, are let in.
    static func login(_ request: AdminRequest, authenticator: AdminAuthenticator) -> AdminResponse {
        let form = AdminHandler.parseQuery(String(buffer: request.body))
        guard let token = form["token"], authenticator.acceptsToken(token) else {
            var response = AdminResponse(
                status: .unauthorized, contentType: "text/html; charset=utf-8", body: loginPage(failed: true))
            response.headers.append(("WWW-Authenticate", authenticator.challenge))
            response.headers.append(contentsOf: DashboardPage.securityHeaders)
            return response
        }
        let encoded = token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token
        return AdminResponse(
            status: .seeOther, contentType: "text/plain; charset=utf-8", body: "",
            headers: [
                ("Location", "/"),
                ("Set-Cookie", "\(AdminAuthenticator.cookieName)=\(encoded); Path=/; HttpOnly; SameSite=Strict"),
            ])
    }

    static func loginPage(failed: Bool) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>gateway admin: sign in</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>body{font:15px system-ui,sans-serif;background:#0f172a;color:#e2e8f0;display:grid;place-items:center;
        height:100vh;margin:0}form{background:#1e293b;padding:28px;border-radius:10px;min-width:320px}
        input{width:100%;box-sizing:border-box;padding:8px;margin:10px 0;border-radius:6px;border:1px solid #475569;
        background:#0f172a;color:inherit}button{padding:8px 16px;border:0;border-radius:6px;background:#3b82f6;color:#fff}
        .bad{color:#f87171}</style></head><body><form method="post" action="/login">
        <h2>gateway admin</h2><label for="token">Admin token (server.admin_auth.token_env)</label>
        <input id="token" name="token" type="password" autocomplete="current-password" autofocus>
        \(failed ? "<p class=\"bad\">That token is not right.</p>" : "")<button type="submit">Sign in</button></form></body></html>
        """
    }
}
