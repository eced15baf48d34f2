// Chapter 10: a registry that asks who you are: the 401 challenge, Basic, Bearer tokens, TLS.
//
// Usage: 10_authentication_and_tls [registry]
//   e.g. podman login 127.0.0.1:5010 (or docker login), then
//        WORKBOOK_TOKEN_REGISTRY=127.0.0.1:5010 10_authentication_and_tls localhost:5000
// The open registry (argument or WORKBOOK_REGISTRY) holds my-busybox:latest, as chapter 01
// leaves it; each protected registry named in the environment gets a copy of it:
//   WORKBOOK_AUTH_REGISTRY  htpasswd (Basic)      WORKBOOK_TOKEN_REGISTRY  auth.token (Bearer)
//   WORKBOOK_TLS_REGISTRY   https://host:port, trusted through WORKBOOK_CA_FILE
// with the credentials `docker login` or `podman login` stored for it, found where those tools
// look (REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json, ...,
// and their credential helpers): never a password on a command line or in a variable.
#include "wbclient/http/auth.hpp"
#include "wbclient/http/credential_store.hpp"
#include "program_options.hpp"
#include "wbclient/transfer/image_transfer.hpp"
#include "wbclient/model/reference.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/http/url.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>

using namespace wbclient;

namespace {

// This program logs in itself, step by step, so its clients start without the automatic login
// every other chapter's clients have (workbook::client_options): they must see each 401.
wbclient::ClientOptions plain_options() { return workbook::client_options_without_login(); }

// Tokens come from the realm, a server of its own: the same TLS trust, the same transcript.
HttpClient token_client() {
    wbclient::ClientOptions options = plain_options();
    options.tls = workbook::tls_options();
    return HttpClient(options);
}

// GET /v2/ without credentials: the registry's answer says whether, and how, to log in.
void ask(RegistryClient& registry) {
    //! [challenge]
    const Response answer = ping_checking_scheme(registry);
    std::cout << "GET " << registry.base_url() << "/v2/ -> " << answer.status << "\n";
    for (const Challenge& challenge : challenges_of(answer)) {
        std::cout << "  challenge: " << challenge.scheme;
        for (const auto& [name, value] : challenge.parameters) std::cout << " " << name << "=\"" << value << "\"";
        std::cout << "\n";
    }
    //! [challenge]
    if (answer.status == 200) std::cout << "  no authentication: anyone may pull, push and delete here\n";
    if (answer.status == 401 && challenges_of(answer).empty())
        throw std::runtime_error(registry.base_url() + " answered 401 without a Www-Authenticate challenge: "
                                 "it does not say how to log in");
}

// Logs in the way docker does (only when asked), copies the image in, and tells the story.
std::shared_ptr<RegistryAuth> copy_in(RegistryClient& open, const Reference& image, RegistryClient& registry,
                                      const std::optional<Credentials>& credentials) {
    //! [log_in]
    auto auth = std::make_shared<RegistryAuth>(credentials, token_client());
    auth->set_narrator([](const std::string& line) { std::cout << "  " << line << "\n"; });
    registry.http().set_authorizer(auth);
    //! [log_in]
    int requests = 0;
    registry.http().add_observer([&](const Exchange&) { ++requests; });
    std::cout << "Copying " << image.str() << " in as my-busybox:latest\n";
    const Digest digest = copy_image(open, image, registry, Reference::parse(
        Url(registry.base_url()).authority() + "/my-busybox:latest"), [](const BlobEvent& e) {
            std::cout << "  blob " << e.blob.digest.str() << ": " << to_string(e.action) << "\n";
        });
    std::cout << "  done: manifest " << digest.str() << ", " << requests << " requests, "
              << auth->tokens_fetched() << " token(s) fetched, " << auth->requests_with_cached_token()
              << " request(s) sent with a cached token\n";
    return auth;
}

// The same registry with the password changed: what a typo looks like.
void wrong_password(const std::string& registry, Credentials credentials) {
    credentials.password += "-typo";
    RegistryClient client(registry, plain_options());
    client.http().set_authorizer(std::make_shared<RegistryAuth>(credentials, token_client()));
    try {
        client.ping();
        std::cout << "With a wrong password: let in?!\n";
    } catch (const std::exception& refused) {
        std::cout << "With a wrong password: " << refused.what() << "\n";
    }
}

// What the reader's `docker login` or `podman login` stored for this registry, and where.
//! [stored_credentials]
std::optional<Credentials> stored_credentials(const std::string& registry) {
    const std::string host = Url(registry_base_url(registry)).authority();
    const std::optional<StoredCredentials> found = workbook::credential_store().find(host);
    if (found)
        std::cout << "Credentials for " << host << ": user '" << found->credentials.username << "', from "
                  << found->source << "\n";
    else
        std::cout << "Credentials for " << host << ": none stored\n";
    return found ? std::optional<Credentials>(found->credentials) : std::nullopt;
}
//! [stored_credentials]

}  // namespace

int main(int argc, char* argv[]) try {
    if (argc > 2) throw std::invalid_argument("usage: 10_authentication_and_tls [registry]");
    RegistryClient open(argc > 1 ? argv[1] : workbook::default_registry(), plain_options());
    const Reference image = Reference::parse(Url(open.base_url()).authority() + "/my-busybox:latest");

    std::cout << "== The open registry\n";
    ask(open);
    //! [https_to_http]
    RegistryClient wrong_scheme("https://" + image.registry, plain_options());
    try {
        wrong_scheme.ping();
    } catch (const std::exception& error) {
        std::cout << "Speaking HTTPS to it instead:\n  " << error.what() << "\n";
    }
    //! [https_to_http]
    try {
        ping_checking_scheme(wrong_scheme);
    } catch (const std::exception& explained) {
        std::cout << "  what wbclient::ping_checking_scheme makes of it:\n  " << explained.what() << "\n";
    }

    if (const std::string basic = workbook::environment_value("WORKBOOK_AUTH_REGISTRY"); !basic.empty()) {
        std::cout << "\n== htpasswd: Basic authentication\n";
        RegistryClient registry(basic, plain_options());
        ask(registry);
        const std::optional<Credentials> credentials = stored_credentials(basic);
        if (!credentials)
            throw std::invalid_argument("no credentials stored for " + Url(registry.base_url()).authority() +
                                        ": log in first (docker login or podman login)");
        copy_in(open, image, registry, credentials);
        wrong_password(basic, *credentials);
    }

    if (const std::string token = workbook::environment_value("WORKBOOK_TOKEN_REGISTRY"); !token.empty()) {
        std::cout << "\n== auth.token: Bearer tokens from a token server\n";
        RegistryClient registry(token, plain_options());
        ask(registry);
        const std::optional<Credentials> credentials = stored_credentials(token);
        const auto auth = copy_in(open, image, registry, credentials);
        const nlohmann::json claims = auth->claims_for("repository:my-busybox");
        std::cout << "  the token for repository:my-busybox grants " << claims["access"].dump() << "\n"
                  << "  issued by " << claims.value("iss", "?") << " for " << claims.value("aud", "?") << " to "
                  << claims.value("sub", "?") << ", valid from iat" << claims.value("nbf", 0L) - claims.value("iat", 0L)
                  << " s to iat+" << claims.value("exp", 0L) - claims.value("iat", 0L) << " s\n";
        //! [forged_token]
        // A token we make ourselves, granting everything, unsigned: the registry must refuse it.
        HttpClient raw(plain_options());
        Request forged{.method = "GET", .url = registry.url("my-busybox", "tags/list")};
        const nlohmann::json everything = {{"type", "repository"}, {"name", "my-busybox"}, {"actions", {"*"}}};
        forged.headers.add("Authorization", "Bearer " + unsigned_jwt({{"access", {everything}}}));
        const Response refused = raw.perform(forged);
        //! [forged_token]
        std::cout << "A self-made token: " << refused.status << ", "
                  << refused.headers.get("Www-Authenticate").value_or("(no challenge)") << "\n";
        if (credentials) wrong_password(token, *credentials);
    }

    if (const std::string tls = workbook::environment_value("WORKBOOK_TLS_REGISTRY"); !tls.empty()) {
        std::cout << "\n== TLS: a registry serving HTTPS with a certificate from a private CA\n";
        const std::string host = Url(registry_base_url(tls)).authority();
        RegistryClient untrusting("https://" + host, plain_options());  // the system's CAs only
        try {
            ping_checking_scheme(untrusting);
        } catch (const std::exception& error) {
            std::cout << "Without its CA:\n  " << error.what() << "\n";
        }
        RegistryClient plain("http://" + host, plain_options());
        try {
            ping_checking_scheme(plain);
        } catch (const std::exception& error) {
            std::cout << "Speaking plain HTTP to it:\n  " << error.what() << "\n";
        }
        //! [ca_file]
        RegistryClient registry("https://" + host, plain_options());
        registry.http().set_tls_options(workbook::tls_options());  // WORKBOOK_CA_FILE
        //! [ca_file]
        ask(registry);
        copy_in(open, image, registry, std::nullopt);  // it asks for none
    }
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "10_authentication_and_tls: " << error.what() << "\n";
    return EXIT_FAILURE;
}
