// Bearer tokens stay in their scope: a token issued for one repository is never sent with a
// request for another. A scripted registry challenges per repository and plays the token
// server too; the test reads which Authorization each request carried.
#include "scripted_server.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/http/auth.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <mutex>
#include <optional>

using harness::ScriptedRequest;
using harness::ScriptedResponse;

namespace {

struct Seen {
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> requests;  // target, Authorization
};

// /v2/<repo>/tags/list wants "Bearer token-for-<repo>"; /token issues that token for the
// scope it is asked for.
harness::RequestHandler token_registry(std::shared_ptr<Seen> seen, std::shared_ptr<std::string> self) {
    return [seen, self](const ScriptedRequest& request) {
        const std::string authorization = request.header("Authorization");
        {
            const std::lock_guard lock(seen->mutex);
            seen->requests.emplace_back(request.target, authorization);
        }
        if (request.target.starts_with("/token")) {
            const auto at = request.target.find("scope=repository%3A");
            const std::string rest = at == std::string::npos ? "" : request.target.substr(at + std::string("scope=repository%3A").size());
            const std::string repository = rest.substr(0, rest.find("%3A"));
            return ScriptedResponse{.headers = {{"Content-Type", "application/json"}},
                                    .body = R"({"token":"token-for-)" + repository + R"(","expires_in":300})"};
        }
        const std::string repository = request.target.substr(4, request.target.find("/tags/") - 4);
        if (authorization == "Bearer token-for-" + repository)
            return ScriptedResponse{.headers = {{"Content-Type", "application/json"}},
                                    .body = R"({"name":")" + repository + R"(","tags":["latest"]})"};
        return ScriptedResponse{
            .status = 401,
            .headers = {{"Www-Authenticate", "Bearer realm=\"http://" + *self + "/token\",service=\"scripted\","
                                             "scope=\"repository:" + repository + ":pull\""}},
            .body = R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"};
    };
}

}  // namespace

TEST_CASE("Bearer tokens: each repository's requests carry only its own token", "[library][auth]") {
    auto seen = std::make_shared<Seen>();
    auto self = std::make_shared<std::string>();
    harness::ScriptedServer registry(token_registry(seen, self));
    *self = registry.host_port();
    wbclient::RegistryClient client(registry.host_port());
    auto auth = std::make_shared<wbclient::RegistryAuth>(std::nullopt, wbclient::HttpClient());
    client.http().set_authorizer(auth);

    CHECK(wbclient::list_tags(client, "alpha") == std::vector<std::string>{"latest"});
    CHECK(wbclient::list_tags(client, "beta") == std::vector<std::string>{"latest"});
    CHECK(wbclient::list_tags(client, "alpha") == std::vector<std::string>{"latest"});

    const std::lock_guard lock(seen->mutex);
    const auto& r = seen->requests;
    REQUIRE(r.size() == 7);
    // alpha: challenged, a token fetched for alpha, sent again with it.
    CHECK(r[0] == std::pair<std::string, std::string>{"/v2/alpha/tags/list", ""});
    CHECK(r[1].first.starts_with("/token?service=scripted&scope=repository%3Aalpha%3Apull"));
    CHECK(r[2] == std::pair<std::string, std::string>{"/v2/alpha/tags/list", "Bearer token-for-alpha"});
    // beta: the first request carries no token at all, alpha's least of all.
    CHECK(r[3] == std::pair<std::string, std::string>{"/v2/beta/tags/list", ""});
    CHECK(r[4].first.starts_with("/token?service=scripted&scope=repository%3Abeta%3Apull"));
    CHECK(r[5] == std::pair<std::string, std::string>{"/v2/beta/tags/list", "Bearer token-for-beta"});
    // alpha again: its cached token, straight away.
    CHECK(r[6] == std::pair<std::string, std::string>{"/v2/alpha/tags/list", "Bearer token-for-alpha"});
    CHECK(auth->tokens_fetched() == 2);
}
