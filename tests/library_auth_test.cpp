// Bearer tokens stay in their scope: a token issued for one repository is never sent with a
// request for another. A scripted registry challenges per repository and plays the token
// server too; the test reads which Authorization each request carried.
#include "scripted_server.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/http/auth.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

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

TEST_CASE("Www-Authenticate values parse as RFC 7235 says, the awkward ones too", "[library][auth]") {
    using wbclient::parse_challenges;
    // The registry's own: a comma inside the quoted scope, error= last.
    auto c = parse_challenges(R"(Bearer realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull,push",error="insufficient_scope")");
    REQUIRE(c.size() == 1);
    CHECK(c[0].is("bearer"));
    CHECK(c[0].parameter("scope") == "repository:a/b:pull,push");
    CHECK(c[0].parameter("error") == "insufficient_scope");
    // Two challenges in one value, spaces around '=', upper-case names, unquoted tokens, escapes.
    c = parse_challenges(R"(Basic realm="a \"quoted\" realm", charset=UTF-8 , BEARER REALM = "https://auth/t" ,Service=reg)");
    REQUIRE(c.size() == 2);
    CHECK(c[0].is("Basic"));
    CHECK(c[0].parameter("realm") == "a \"quoted\" realm");
    CHECK(c[0].parameter("charset") == "UTF-8");
    CHECK(c[1].is("Bearer"));
    CHECK(c[1].parameter("realm") == "https://auth/t");
    CHECK(c[1].parameter("service") == "reg");
    // Space-separated scopes (a mount asks for two repositories), and token68.
    c = parse_challenges(R"(Bearer scope="repository:b:pull,push repository:a:pull", Negotiate abc==)");
    REQUIRE(c.size() == 2);
    CHECK(c[0].parameter("scope") == "repository:b:pull,push repository:a:pull");
    CHECK(c[1].parameter("token68") == "abc==");
    CHECK(parse_challenges("").empty());
    CHECK_THROWS_AS(parse_challenges(R"(Bearer realm="unterminated)"), std::invalid_argument);
    CHECK_THROWS_AS(parse_challenges(R"(="no scheme")"), std::invalid_argument);
    // Which resource a request touches decides the token it is sent with.
    CHECK(wbclient::resource_of("http://h:1/v2/a/b/blobs/uploads/x?_state=y") == "repository:a/b");
    CHECK(wbclient::resource_of("http://h:1/v2/a/manifests/latest") == "repository:a");
    CHECK(wbclient::resource_of("https://h/v2/_catalog?n=2") == "registry:catalog");
    CHECK(wbclient::resource_of("http://h:1/v2/").empty());
    CHECK(wbclient::jwt_claims(wbclient::unsigned_jwt({{"sub", "x"}})) == nlohmann::json{{"sub", "x"}});
}
