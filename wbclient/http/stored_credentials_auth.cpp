#include "wbclient/http/stored_credentials_auth.hpp"

#include "wbclient/http/url.hpp"

namespace wbclient {

StoredCredentialsAuth::StoredCredentialsAuth(CredentialStore store, ClientOptions token_options)
    : store_(std::move(store)), token_options_(std::move(token_options)) {
    token_options_.authorizer.reset();  // a token server gets Basic from fetch_token, never from us
}

void StoredCredentialsAuth::set_narrator(std::function<void(const std::string&)> narrator) {
    const std::lock_guard lock(mutex_);
    narrator_ = std::move(narrator);
}

std::shared_ptr<RegistryAuth> StoredCredentialsAuth::for_host(const std::string& host, bool create) {
    const std::lock_guard lock(mutex_);
    if (const auto known = by_host_.find(host); known != by_host_.end()) return known->second;
    if (!create) return nullptr;
    // Looked up once per host, under the lock: two workers never run the same helper twice.
    const std::optional<StoredCredentials> found = store_.find(host);
    if (narrator_)
        narrator_(found ? host + " wants credentials: using " +
                              (found->credentials.username.empty() ? std::string("an identity token")
                                                                   : "user '" + found->credentials.username + "'") +
                              " from " + found->source
                        : host + " wants credentials: the credential store has none for it, trying without");
    auto auth = std::make_shared<RegistryAuth>(found ? std::optional<Credentials>(found->credentials) : std::nullopt,
                                               HttpClient(token_options_));
    if (narrator_) auth->set_narrator(narrator_);
    by_host_.emplace(host, auth);
    return auth;
}

std::optional<std::string> StoredCredentialsAuth::authorization(const Request& request) {
    {
        // Most registries never ask: their requests cost no URL parsing here.
        const std::lock_guard lock(mutex_);
        if (by_host_.empty()) return std::nullopt;
    }
    const auto auth = for_host(Url(request.url).authority(), false);
    return auth ? auth->authorization(request) : std::nullopt;
}

bool StoredCredentialsAuth::unauthorized(const Request& request, const Response& response) {
    return for_host(Url(request.url).authority(), true)->unauthorized(request, response);
}

}  // namespace wbclient
