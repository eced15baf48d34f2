// Logging in with what the reader's `docker login` or `podman login` stored: an Authorizer
// that, the first time a registry answers 401, looks its credentials up in the credential
// store and from then on authenticates to it as RegistryAuth does (Basic, or Bearer tokens).
// Registries that never ask are never looked up, so no helper runs for an open registry.
#pragma once

#include "wbclient/http/auth.hpp"
#include "wbclient/http/credential_store.hpp"
#include "wbclient/http/http.hpp"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace wbclient {

/// One RegistryAuth per registry host, made on that host's first 401 from the credential
/// store's answer for it (anonymous when the store knows nothing: a token server may still
/// grant an anonymous pull). A store that cannot be read (CredentialError) fails the request
/// that needed it. Thread-safe, like RegistryAuth: siblings on worker threads share it.
class StoredCredentialsAuth : public Authorizer {
public:
    /// `token_options` set up each registry's token client (TLS, observers); their own
    /// authorizer, if any, is not used.
    StoredCredentialsAuth(CredentialStore store, ClientOptions token_options);

    std::optional<std::string> authorization(const Request& request) override;
    bool unauthorized(const Request& request, const Response& response) override;

    /// Hears one line when a registry's credentials are looked up (the user and where they
    /// came from, never a secret), then RegistryAuth's own lines.
    void set_narrator(std::function<void(const std::string&)> narrator);

private:
    std::shared_ptr<RegistryAuth> for_host(const std::string& host, bool create);

    std::mutex mutex_;  // guards everything below
    CredentialStore store_;
    ClientOptions token_options_;
    std::function<void(const std::string&)> narrator_;
    std::map<std::string, std::shared_ptr<RegistryAuth>> by_host_;
};

}  // namespace wbclient
