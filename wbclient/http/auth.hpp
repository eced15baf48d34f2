// Registry authentication: Www-Authenticate challenges, Basic credentials, Bearer tokens.
#pragma once

#include "wbclient/http/http.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// One challenge of a `Www-Authenticate` header, e.g.
/// `Bearer realm="http://auth/token",service="registry",scope="repository:foo:pull,push"`.
struct Challenge {
    std::string scheme;                             ///< as sent: "Basic", "Bearer", ...
    std::map<std::string, std::string> parameters;  ///< names lower-cased, values unquoted

    /// True if the scheme is `name` (schemes compare case-insensitively).
    bool is(std::string_view name) const;
    /// The parameter's value, or "" when absent.
    std::string parameter(const std::string& name) const;
};

/// Parses one `Www-Authenticate` value into its challenges (RFC 7235: several challenges may
/// share a value; quoted strings may hold commas, spaces and backslash escapes). Throws
/// std::invalid_argument on a value that is not a challenge list.
std::vector<Challenge> parse_challenges(std::string_view value);
/// Every challenge of every `Www-Authenticate` field of a response.
std::vector<Challenge> challenges_of(const Response& response);

/// A user name and password, or an identity token. Never printed, logged or put into an
/// error message (the user name may be).
struct Credentials {
    std::string username;
    std::string password;
    /// An OAuth2 refresh token that `docker login` got from a token server (config.json's
    /// `identitytoken`, or a credential helper's `<token>` user): sent to the token server in
    /// place of a password (fetch_token), useless against Basic authentication.
    std::string identity_token = {};
};
/// `Basic base64(user:password)`, the value of an Authorization header.
std::string basic_authorization(const Credentials& credentials);

/// A Bearer token as the token server issued it.
struct Token {
    std::string value;
    std::string scope;  ///< the scope it was asked for, space-separated as challenged
    std::chrono::steady_clock::time_point expires;
};

/// Asks the challenge's realm for a token: `GET <realm>?service=..&scope=..[&scope=..]&account=..`
/// with Basic credentials (anonymous without), for exactly the challenged scope; with an
/// identity token, the distribution spec's OAuth2 form instead: `POST <realm>` with
/// grant_type=refresh_token, the token, service, scope and client_id. Throws a
/// one-line std::runtime_error (without credentials) when the realm refuses or answers nonsense.
Token fetch_token(HttpClient& http, const Challenge& challenge,
                  const std::optional<Credentials>& credentials);

/// The claims (middle part) of a JWT, decoded but NOT verified: only the registry verifies.
nlohmann::json jwt_claims(std::string_view token);

/// A JWT with `"alg":"none"` and no signature: what a client would need to grant itself
/// access. Registries refuse it (invalid_token); it exists to show exactly that.
std::string unsigned_jwt(const nlohmann::json& claims);

/// `repository:<name>` for `/v2/<name>/...`, `registry:catalog` for the catalog, "" for /v2/:
/// what a request touches, which decides the token it is sent with.
std::string resource_of(std::string_view url);

/// Basic and Bearer authentication for a registry, the way docker does it: nothing is sent
/// until the registry asks; then Basic credentials on every request, or a token per scope,
/// fetched for exactly the scope the registry challenged, cached until it expires, reused for
/// every request on the same resource, and replaced when the registry answers
/// `insufficient_scope` or `invalid_token`. Install it with HttpClient::set_authorizer.
/// Thread-safe: sibling clients on worker threads share one instance and so its tokens
/// (a token fetch holds the lock, so two workers never fetch the same token twice).
class RegistryAuth : public Authorizer {
public:
    /// `token_client` fetches the tokens; give it the same TLS options and observers.
    RegistryAuth(std::optional<Credentials> credentials, HttpClient token_client);

    std::optional<std::string> authorization(const Request& request) override;
    bool unauthorized(const Request& request, const Response& response) override;

    /// Hears one line per decision (challenge seen, token fetched or reused), without secrets.
    void set_narrator(std::function<void(const std::string&)> narrator);
    int tokens_fetched() const;
    int requests_with_cached_token() const;
    /// The claims of the token used for `resource` (see resource_of), or null.
    nlohmann::json claims_for(const std::string& resource) const;

private:
    void narrate(const std::string& line) const;
    const Token* token_for(const std::string& resource);

    mutable std::mutex mutex_;  // guards everything below
    std::optional<Credentials> credentials_;
    HttpClient token_client_;
    std::function<void(const std::string&)> narrator_;
    bool send_basic_ = false;
    std::map<std::string, Token> tokens_;             // by scope, exactly as challenged
    std::map<std::string, std::string> scope_of_;     // resource -> scope of its token
    int tokens_fetched_ = 0;
    int reused_ = 0;
};

}  // namespace wbclient
