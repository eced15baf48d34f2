// A Bearer token server, the part of Docker Hub's auth that a registry's auth.token points
// at: it checks Basic credentials against a small table and issues ES256 JWTs granting what
// the table allows of the scopes asked for.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace harness {

/// What a user may do in repositories named `repository` ("*" for every one).
struct TokenGrant {
    std::string repository;
    std::vector<std::string> actions;  ///< "pull", "push", "delete", or "*"
};
struct TokenUser {
    std::string password;
    std::vector<TokenGrant> grants;
};

struct TokenServerConfig {
    std::filesystem::path signing_key;  ///< PEM P-256 private key (make_signing_key)
    std::string issuer = "registry-workbook-token-server";  ///< auth.token.issuer
    std::string service = "registry-workbook";              ///< auth.token.service
    std::map<std::string, TokenUser> users;  ///< by user name; "" grants anonymous requests
    int lifetime_seconds = 300;
};

/// One request the server answered, as a test wants to see it (no password, no token).
struct TokenRequest {
    std::string account;              ///< the Basic user name, "" when anonymous
    std::string service;
    std::vector<std::string> scopes;  ///< the scope parameters, in order
    unsigned status = 0;              ///< 200, or 401 for bad credentials
    nlohmann::json access;            ///< the access claim granted
};

class TokenServer {
public:
    explicit TokenServer(TokenServerConfig config);
    ~TokenServer();
    TokenServer(const TokenServer&) = delete;
    TokenServer& operator=(const TokenServer&) = delete;

    /// "http://127.0.0.1:<port>/token": the registry's auth.token.realm.
    std::string realm() const;
    /// The libtrust key ID of the signing key, as every token's header `kid` carries it.
    const std::string& key_id() const;
    std::vector<TokenRequest> requests() const;
    /// Every token issued so far, so tests can check none leaked anywhere.
    std::vector<std::string> issued_tokens() const;
    /// A token over `claims` signed with this server's key (header alg ES256, kid): for tests
    /// that need one the table would not issue, e.g. an expired one.
    std::string sign(const nlohmann::json& claims) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace harness
