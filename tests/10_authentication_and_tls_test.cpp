// Chapter 10: given an open registry holding my-busybox:latest and protected registries (htpasswd,
// auth.token with the harness's token server, TLS with a private CA), when the program runs,
// then each protected registry first answered 401 with the challenge the facts file describes,
// the program logged in only when asked (Basic on every request after that; one token per
// challenged scope, fetched for exactly that scope, reused, replaced on insufficient_scope), a
// self-made token was refused with invalid_token, TLS was verified against the CA file given,
// both scheme mistakes gave a clear error, and no password or token appears in any artifact
// of the run. The program finds its credentials where `podman login` leaves them (an auth.json
// named by REGISTRY_AUTH_FILE); one whose credential helper fails, prints garbage or hangs ends
// in one line without the helper's secret. After a real `podman login` to the htpasswd and token
// registries, chapters 01 and 05 run against them (the same after `docker login` is in
// compose_docker_cli_test, where a daemon runs). In the compose run, `docker login` and
// `docker push` work against the same htpasswd registry.
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "protected_registries.hpp"
#include "registry_instance.hpp"
#include "stored_login.hpp"
#include "test_support.hpp"
#include "tls_material.hpp"
#include "token_server.hpp"
#include "workbook_paths.hpp"

#include "wbclient/http/auth.hpp"
#include "wbclient/distribution/registry_client.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>

using namespace harness;
namespace fs = std::filesystem;

namespace {

const std::string program = "10_authentication_and_tls";
const std::string password = "s3cret-Horse-battery-77";  // the one every user has here

// Auth and TLS files go INSIDE the storage folder, the one folder the compose engine binds
// into the container (at /var/lib/registry); the registry's data lives under docker/ beside
// them and it ignores other folders there. Both engines keep storage at <workdir>/<role>/storage,
// so the files can be written before the registry starts.
struct ProtectedRegistryFiles {
    fs::path workdir;
    fs::path on_host(const std::string& relative) const { return workdir / "registry/storage" / relative; }
    // The same file as the registry process sees it.
    std::string in_registry(const std::string& relative) const {
        return engine_from_environment() == "compose" ? "/var/lib/registry/" + relative
                                                      : on_host(relative).string();
    }
};

std::string read_file(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// `htpasswd -Bbn user password`: the bcrypt entry, the only kind registry 2.8 accepts.
void write_htpasswd(const fs::path& file, const std::vector<std::string>& users) {
    fs::create_directories(file.parent_path());
    std::ofstream out(file);
    for (const auto& user : users) {
        const RunResult made = run_program({"htpasswd", "-Bbn", user, password});
        REQUIRE(made.exit_code == 0);  // Debian package apache2-utils
        out << made.out.substr(0, made.out.find('\n')) << "\n";
    }
}

struct Open {
    std::unique_ptr<RegistryInstance> registry;
    std::string digest;
};
Open open_registry(const Workspace& workspace) {
    Open open{start_registry({.role = "registry"}, workspace.path() / "open"), ""};
    wbclient::RegistryClient client(open.registry->host_port());
    seed_busybox(client, "my-busybox", "latest");  // as chapter 01 leaves it
    open.digest = client.get_manifest("my-busybox", "latest").digest.str();
    return open;
}

// What `podman login` to each of `hosts` as `user` leaves: a containers auth.json, named by
// REGISTRY_AUTH_FILE. It lives in `folder`, a workspace of its own, since every file of the
// chapter's workspace is searched for secrets afterwards.
std::map<std::string, std::string> logged_in(const Workspace& folder, const std::string& user,
                                             const std::vector<std::string>& hosts,
                                             const std::string& secret = password) {
    nlohmann::json auths = nlohmann::json::object();
    for (const auto& host : hosts) auths[host] = {{"auth", wbclient::basic_authorization({user, secret}).substr(6)}};
    const fs::path file = folder.path() / "auth.json";
    std::ofstream(file) << nlohmann::json{{"auths", auths}}.dump();
    return {{"REGISTRY_AUTH_FILE", file.string()}};
}

std::vector<ObservedExchange> to(const std::vector<ObservedExchange>& exchanges, const std::string& host) {
    std::vector<ObservedExchange> kept;
    for (const auto& e : exchanges)
        if (e.host == host) kept.push_back(e);
    return kept;
}

std::string header(const ObservedExchange& e, const std::string& name) {
    for (const auto& [field, value] : e.request_headers)
        if (field == name) return value;
    return "";
}

// "repository:a:push,pull" -> "repository:a:pull,push": registry 2.8 writes a scope's actions in
// either order (a Go map), so comparisons sort them. The client asks for them as challenged.
std::string normalised(const std::string& scope) {
    const auto last = scope.rfind(':');
    if (last == std::string::npos) return scope;
    std::vector<std::string> actions;
    std::istringstream list(scope.substr(last + 1));
    for (std::string action; std::getline(list, action, ',');) actions.push_back(action);
    std::sort(actions.begin(), actions.end());
    std::string joined;
    for (const auto& action : actions) joined += (joined.empty() ? "" : ",") + action;
    return scope.substr(0, last + 1) + joined;
}

// Why the registry refused requests with 401, counted (test_support::auth_refusals).
std::multiset<std::string> refusals(const RegistryInstance& registry) {
    const auto why = test_support::auth_refusals(registry);
    return {why.begin(), why.end()};
}

// Every artifact of the run: the program's output, the registries' logs, and every file in the
// workspace (transcripts, configs, logs, storage). None may hold a secret.
void check_no_secret_anywhere(const Workspace& workspace, const RunResult& result,
                              const std::vector<const RegistryInstance*>& registries,
                              std::vector<std::string> secrets) {
    secrets.push_back(password);
    secrets.push_back(wbclient::basic_authorization({"alice", password}).substr(6));
    std::vector<std::pair<std::string, std::string>> artifacts{{"stdout", result.out}, {"stderr", result.err}};
    for (const auto* registry : registries) artifacts.emplace_back("log of " + registry->host_port(), registry->log());
    for (const auto& entry : fs::recursive_directory_iterator(workspace.path()))
        if (entry.is_regular_file()) artifacts.emplace_back(entry.path().string(), read_file(entry.path()));
    REQUIRE(artifacts.size() > 5);
    for (const auto& [name, text] : artifacts)
        for (const auto& secret : secrets) {
            INFO(name);
            CHECK(text.find(secret) == std::string::npos);
        }
}

}  // namespace

TEST_CASE("chapter 10: with no arguments, the open registry needs no login and HTTPS to it fails clearly",
          "[chapter10]") {
    Workspace workspace("chapter10-open");
    const Open open = open_registry(workspace);
    const ChapterRun run = run_chapter(program, {}, workspace, {{"WORKBOOK_REGISTRY", open.registry->host_port()}});
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK(run.result.err.empty());
    const std::string host = open.registry->host_port();
    CHECK_THAT(run.result.out, Catch::Contains("GET http://" + host + "/v2/ -> 200\n  no authentication"));
    CHECK_THAT(run.result.out, Catch::Contains("Speaking HTTPS to it instead:\n  GET https://" + host +
                                               "/v2/: SSL connect error"));
    CHECK_THAT(run.result.out, Catch::Contains("https://" + host + " does not speak TLS") &&
                                   Catch::Contains("use http://" + host + "\n"));
    // The client's view: one plain GET /v2/ answered 200 with no challenge, two HTTPS attempts unanswered.
    REQUIRE(run.transcript.size() == 3);
    CHECK(run.transcript[0].status == 200);
    CHECK_FALSE(run.transcript[0].response_header("Www-Authenticate"));
    CHECK(run.transcript[1].status == 0);
    CHECK(run.transcript[2].status == 0);
}

TEST_CASE("chapter 10: htpasswd: 401 with a Basic challenge, then credentials on every request", "[chapter10]") {
    Workspace workspace("chapter10-basic");
    const Open open = open_registry(workspace);
    const ProtectedRegistryFiles files{workspace.path() / "basic"};
    write_htpasswd(files.on_host("auth/htpasswd"), {"alice", "bob"});
    const nlohmann::json patch = {
        {"auth", {{"htpasswd", {{"realm", "registry-workbook"}, {"path", files.in_registry("auth/htpasswd")}}}}}};
    auto basic = start_registry({.role = "registry", .config_patch = patch}, files.workdir);
    const std::string host = basic->host_port();

    const Workspace login("chapter10-basic-login");
    auto environment = logged_in(login, "alice", {host});
    environment["WORKBOOK_REGISTRY"] = open.registry->host_port();
    environment["WORKBOOK_AUTH_REGISTRY"] = host;
    const ChapterRun run = run_chapter(program, {}, workspace, environment);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK_THAT(run.result.out, Catch::Contains("GET http://" + host + "/v2/ -> 401\n  challenge: Basic realm=\"registry-workbook\""));
    CHECK_THAT(run.result.out, Catch::Contains("Credentials for " + host + ": user 'alice', from auths of " +
                                               (login.path() / "auth.json").string() + "\n"));
    CHECK_THAT(run.result.out, Catch::Contains("sending Basic credentials of user 'alice' from now on"));
    CHECK_THAT(run.result.out, Catch::Contains("With a wrong password: GET http://" + host +
                                               "/v2/: 401 Unauthorized, UNAUTHORIZED (authentication required)"));

    // The client's side: asked first without credentials; once challenged, Basic on every request.
    const auto exchanges = to(run.transcript, host);
    INFO(summarize(exchanges));
    REQUIRE(exchanges.size() > 6);
    CHECK(exchanges[0].status == 401);
    CHECK(exchanges[0].response_header("Www-Authenticate") == "Basic realm=\"registry-workbook\"");
    CHECK(header(exchanges[0], "Authorization").empty());
    CHECK(exchanges[1].status == 401);  // the copy's first request, still without credentials
    CHECK(header(exchanges[1], "Authorization").empty());
    CHECK(exchanges[2].uri == exchanges[1].uri);  // ... sent again with them
    // The copy, then the wrong password's two tries.
    for (std::size_t i = 2; i + 2 < exchanges.size(); ++i) {
        CHECK(header(exchanges[i], "Authorization") == "<redacted>");
        CHECK(exchanges[i].status != 401);
    }
    CHECK(exchanges[exchanges.size() - 2].status == 401);
    CHECK(header(exchanges.back(), "Authorization") == "<redacted>");
    CHECK(exchanges.back().status == 401);

    // The registry's side: the image arrived, and the log shows the refusals.
    const auto refused = refusals(*basic);
    CHECK(refused.count("basic authentication challenge for realm \"registry-workbook\": invalid authorization credential") == 4);  // no credentials: two /v2/, the copy's first, ours
    CHECK(refused.count("basic authentication challenge for realm \"registry-workbook\": authentication failure") == 1);
    CHECK_FALSE(select(basic->access_log(), "PUT", "/v2/my-busybox/manifests/latest").empty());
    wbclient::RegistryClient reader(host);
    reader.http().set_authorizer(std::make_shared<wbclient::RegistryAuth>(wbclient::Credentials{"bob", password},
                                                                           wbclient::HttpClient()));
    CHECK(reader.get_manifest("my-busybox", "latest").digest.str() == open.digest);
    // Without credentials, nothing: the registry ignores the auth/ folder beside its docker/ data.
    wbclient::RegistryClient anonymous(host);
    CHECK_THROWS_WITH(anonymous.get_manifest("my-busybox", "latest"), Catch::Contains("401"));
    CHECK(fs::is_directory(basic->storage_root() / "docker/registry/v2/repositories/my-busybox"));

    RunResult docker_login;
    if (basic->engine() == "compose") {
        // docker login and push against the same registry, with a throwaway DOCKER_CONFIG so
        // nothing is left in ~/.docker; the password goes in on stdin, never on a command line.
        const fs::path docker_config = workspace.path() / "docker-config";
        fs::create_directories(docker_config);
        const auto docker = [&](const std::string& command) {
            return run_program({"sh", "-c", command}, {.environment = {{"DOCKER_CONFIG", docker_config.string()},
                                                                        {"LOGIN_PASSWORD", password}},
                                                       .timeout = std::chrono::seconds(180),
                                                       .merge_output = true});
        };
        const std::string source = open.registry->host_port() + "/my-busybox:latest";
        const std::string target = host + "/docker-busybox:latest";
        struct RemoveImages {
            std::function<RunResult(const std::string&)> docker;
            std::string images;
            ~RemoveImages() { docker("docker image rm -f " + images); }
        } remove_images{docker, source + " " + target};
        REQUIRE(docker("docker pull " + source).exit_code == 0);
        REQUIRE(docker("docker tag " + source + " " + target).exit_code == 0);
        const RunResult refused = docker("docker push " + target);
        CHECK(refused.exit_code != 0);
        CHECK_THAT(refused.out, Catch::Contains("no basic auth credentials"));
        docker_login = docker("printf %s \"$LOGIN_PASSWORD\" | docker login -u alice --password-stdin " + host);
        INFO(docker_login.out);
        REQUIRE(docker_login.exit_code == 0);
        CHECK_THAT(docker_login.out, Catch::Contains("Login Succeeded"));
        // Without a credential helper docker keeps the password, merely base64-encoded.
        const auto stored = nlohmann::json::parse(read_file(docker_config / "config.json"));
        CHECK(stored["auths"][host]["auth"] == wbclient::basic_authorization({"alice", password}).substr(6));
        const RunResult pushed = docker("docker push " + target);
        INFO(pushed.out);
        REQUIRE(pushed.exit_code == 0);
        CHECK_THAT(pushed.out, Catch::Contains(": Pushed"));
        const auto by_docker = select(basic->access_log(), "PUT", "/v2/docker-busybox/manifests/latest");
        REQUIRE(by_docker.size() == 1);
        CHECK(by_docker.front().status == 201);
        CHECK_THAT(by_docker.front().user_agent, Catch::StartsWith("docker/"));
        // The same image (config) as the open registry's: docker pushed what it pulled, its
        // layer compressed anew, since docker keeps layers uncompressed (chapter 05).
        wbclient::RegistryClient open_reader(open.registry->host_port());
        CHECK(reader.get_manifest("docker-busybox", "latest").parsed.config->digest ==
              open_reader.get_manifest("my-busybox", "latest").parsed.config->digest);
        REQUIRE(docker("docker logout " + host).exit_code == 0);
        CHECK_FALSE(nlohmann::json::parse(read_file(docker_config / "config.json"))["auths"].contains(host));
    }

    // After `docker logout`, no artifact holds the password or its base64, docker's included.
    check_no_secret_anywhere(workspace, docker_login, {open.registry.get(), basic.get()}, {});
    check_no_secret_anywhere(workspace, run.result, {open.registry.get(), basic.get()}, {});
}

TEST_CASE("chapter 10: Bearer tokens for exactly the challenged scope, cached, renewed on insufficient_scope",
          "[chapter10]") {
    Workspace workspace("chapter10-token");
    const Open open = open_registry(workspace);
    const ProtectedRegistryFiles files{workspace.path() / "token"};
    const SigningKey key = make_signing_key(files.on_host("auth"));
    TokenServer tokens({.signing_key = key.private_key,
                        .users = {{"alice", {password, {{"*", {"pull", "push"}}}}},
                                  {"bob", {password, {{"my-busybox", {"pull"}}}}}}});
    const nlohmann::json patch = {{"auth",
                                   {{"token",
                                     {{"realm", tokens.realm()},
                                      {"service", "registry-workbook"},
                                      {"issuer", "registry-workbook-token-server"},
                                      {"rootcertbundle", files.in_registry("auth/token-signing.crt")}}}}}};
    auto token_registry = start_registry({.role = "registry", .config_patch = patch}, files.workdir);
    const std::string host = token_registry->host_port();

    const Workspace login("chapter10-token-login");
    auto environment = logged_in(login, "alice", {host});
    environment["WORKBOOK_REGISTRY"] = open.registry->host_port();
    environment["WORKBOOK_TOKEN_REGISTRY"] = host;
    const ChapterRun run = run_chapter(program, {}, workspace, environment);
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK_THAT(run.result.out, Catch::Contains("GET http://" + host + "/v2/ -> 401\n  challenge: Bearer realm=\"" +
                                               tokens.realm() + "\" service=\"registry-workbook\"\n"));

    // Every 401 of the registry carried a Bearer challenge; the token server was asked for
    // exactly the scopes challenged, each once (the wrong password's request aside).
    const auto exchanges = to(run.transcript, host);
    INFO(summarize(exchanges));
    std::set<std::string> challenged;
    bool saw_insufficient_scope = false, saw_invalid_token = false;
    for (const auto& e : exchanges) {
        if (e.status != 401) continue;
        const auto challenges = wbclient::parse_challenges(e.response_header("Www-Authenticate").value_or(""));
        REQUIRE(challenges.size() == 1);
        CHECK(challenges[0].is("Bearer"));
        CHECK(challenges[0].parameter("realm") == tokens.realm());
        CHECK(challenges[0].parameter("service") == "registry-workbook");
        const std::string error = challenges[0].parameter("error");
        saw_insufficient_scope |= error == "insufficient_scope";
        saw_invalid_token |= error == "invalid_token";
        // /v2/ asks for a token with no scope; the program never logs in just for that.
        if (e.uri == "/v2/") CHECK(challenges[0].parameter("scope").empty());
        else if (error != "invalid_token") challenged.insert(normalised(challenges[0].parameter("scope")));
    }
    CHECK(saw_insufficient_scope);
    CHECK(saw_invalid_token);
    CHECK(challenged.count("repository:my-busybox:pull") == 1);
    CHECK(challenged.count("repository:my-busybox:pull,push") == 1);
    const auto asked = tokens.requests();
    std::multiset<std::string> granted_for;
    for (const auto& request : asked)
        if (request.status == 200) {
            CHECK(request.account == "alice");
            CHECK(request.service == "registry-workbook");
            CHECK(request.scopes.size() <= 1);
            granted_for.insert(request.scopes.empty() ? "" : normalised(request.scopes[0]));
        }
    CHECK(std::set<std::string>(granted_for.begin(), granted_for.end()) == challenged);
    CHECK(granted_for.size() == challenged.size());  // never the same scope twice: cached
    REQUIRE_FALSE(asked.empty());
    CHECK(asked.back().status == 401);  // the wrong password, refused by the token server
    CHECK(asked.back().account == "alice");

    // insufficient_scope: a pull token sent with the first upload request, then a pull,push one.
    const auto posts = select(exchanges, "POST", "/v2/my-busybox/blobs/uploads/");
    REQUIRE(posts.size() >= 2);
    CHECK(posts[0].status == 401);
    CHECK(header(posts[0], "Authorization") == "<redacted>");
    const auto refusal = wbclient::parse_challenges(posts[0].response_header("Www-Authenticate").value_or(""));
    REQUIRE(refusal.size() == 1);
    CHECK(normalised(refusal[0].parameter("scope")) == "repository:my-busybox:pull,push");
    CHECK(refusal[0].parameter("error") == "insufficient_scope");
    CHECK(posts[1].status == 202);
    CHECK_THAT(run.result.out, Catch::Contains("2 token(s) fetched, ") &&
                                   Catch::Contains(" request(s) sent with a cached token"));
    CHECK_THAT(run.result.out, Catch::Contains("grants [{\"actions\":[\"pull\",\"push\"],\"name\":\"my-busybox\",") ||
                                   Catch::Contains("grants [{\"actions\":[\"push\",\"pull\"],\"name\":\"my-busybox\","));
    // The token's other claims, as the chapter's table describes them.
    CHECK_THAT(run.result.out, Catch::Contains("issued by registry-workbook-token-server for registry-workbook to alice, "
                                               "valid from iat-10 s to iat+300 s"));
    CHECK_THAT(run.result.out, Catch::Contains("A self-made token: 401, Bearer") && Catch::Contains("error=\"invalid_token\""));
    CHECK_THAT(run.result.out, Catch::Contains("With a wrong password: the token server " + tokens.realm() +
                                               " refused the credentials of user 'alice': 401"));

    // The registry's side: why it refused, in its own words.
    const auto refused = refusals(*token_registry);
    CHECK(refused.count("invalid token") == 1);
    CHECK(refused.count("insufficient scope") == 1);
    CHECK(refused.count("authorization token required") == 4);  // /v2/ twice, the first HEAD, bob's first GET
    // The image arrived; bob may pull it with a token of his own.
    CHECK_FALSE(select(token_registry->access_log(), "PUT", "/v2/my-busybox/manifests/latest").empty());
    wbclient::RegistryClient reader(host);
    auto bob = std::make_shared<wbclient::RegistryAuth>(wbclient::Credentials{"bob", password}, wbclient::HttpClient());
    reader.http().set_authorizer(bob);
    CHECK(reader.get_manifest("my-busybox", "latest").digest.str() == open.digest);
    CHECK(bob->claims_for("repository:my-busybox")["access"] ==
          nlohmann::json::parse(R"([{"type":"repository","name":"my-busybox","actions":["pull"]}])"));
    // ... but not push: his token lacks it, and asking again gets the same.
    CHECK_THROWS_WITH(reader.push_blob("my-busybox", std::string("bob was here")), Catch::Contains("401"));

    std::vector<std::string> secrets = tokens.issued_tokens();
    REQUIRE(secrets.size() >= 3);
    for (const auto& token : tokens.issued_tokens()) secrets.push_back(token.substr(token.rfind('.') + 1));
    check_no_secret_anywhere(workspace, run.result, {open.registry.get(), token_registry.get()}, secrets);
}

TEST_CASE("chapter 10: TLS with a private CA: verified by default, trusted through a CA file", "[chapter10]") {
    Workspace workspace("chapter10-tls");
    const Open open = open_registry(workspace);
    const ProtectedRegistryFiles files{workspace.path() / "tls"};
    const TlsMaterial tls = make_tls_material(files.on_host("tls"));
    const nlohmann::json patch = {{"http",
                                   {{"tls",
                                     {{"certificate", files.in_registry("tls/server.crt")},
                                      {"key", files.in_registry("tls/server.key")}}}}}};
    auto registry = start_registry({.role = "registry", .config_patch = patch}, files.workdir);
    const std::string host = registry->host_port();

    const ChapterRun run = run_chapter(program, {}, workspace,
                                       {{"WORKBOOK_REGISTRY", open.registry->host_port()},
                                        {"WORKBOOK_TLS_REGISTRY", "https://" + host},
                                        {"WORKBOOK_CA_FILE", tls.ca_certificate.string()}});
    INFO(run.result.out << run.result.err);
    REQUIRE(run.result.exit_code == 0);
    CHECK_THAT(run.result.out, Catch::Contains("Without its CA:\n  https://" + host +
                                               " has a certificate this client does not trust"));
    CHECK_THAT(run.result.out, Catch::Contains("Speaking plain HTTP to it:\n  http://" + host +
                                               " speaks HTTPS only (it answered: 400 \"Client sent an HTTP "
                                               "request to an HTTPS server.\"); use https://" + host));
    CHECK_THAT(run.result.out, Catch::Contains("GET https://" + host + "/v2/ -> 200\n  no authentication"));

    const auto exchanges = to(run.transcript, host);
    INFO(summarize(exchanges));
    // Refused before any HTTP: no status. Then plain HTTP: 400. Then HTTPS for everything else.
    REQUIRE(exchanges.size() > 4);
    CHECK(exchanges[0].status == 0);
    CHECK(exchanges[1].status == 400);
    CHECK(exchanges[2].status == 200);
    // The transcript names the protocol libcurl reports: none where no answer came, HTTP/1.0
    // for Go's canned answer to plain HTTP on a TLS port, and HTTP/2 (negotiated by ALPN) for
    // every answer over TLS. The curl -v printout takes its status line from the same field.
    CHECK(exchanges[0].http_version.empty());
    CHECK(exchanges[1].http_version == "HTTP/1.0");
    for (std::size_t i = 2; i < exchanges.size(); ++i) {
        INFO(exchanges[i].method << " " << exchanges[i].uri);
        CHECK(exchanges[i].http_version == "HTTP/2");
        // What HTTP/2 does on the wire, whatever libcurl says: header names in lower case.
        for (const auto& [name, value] : exchanges[i].response_headers)
            CHECK(std::none_of(name.begin(), name.end(), [](unsigned char c) { return std::isupper(c); }));
    }
    CHECK_FALSE(select(registry->access_log(), "PUT", "/v2/my-busybox/manifests/latest").empty());
    wbclient::RegistryClient reader("https://" + host);
    reader.http().set_tls_options({.ca_file = tls.ca_certificate.string()});
    CHECK(reader.get_manifest("my-busybox", "latest").digest.str() == open.digest);
    // And the verification is real: another CA's certificate does not do.
    const TlsMaterial other = make_tls_material(workspace.path() / "other-ca");
    wbclient::RegistryClient fooled("https://" + host);
    fooled.http().set_tls_options({.ca_file = other.ca_certificate.string()});
    CHECK_THROWS_WITH(fooled.ping(), Catch::Contains("SSL peer certificate"));
}

TEST_CASE("chapter 10: bad input fails in one line, without secrets, and leaves nothing behind", "[chapter10]") {
    Workspace workspace("chapter10-bad");
    const Open open = open_registry(workspace);
    const ProtectedRegistryFiles files{workspace.path() / "basic"};
    write_htpasswd(files.on_host("auth/htpasswd"), {"alice"});
    const nlohmann::json patch = {
        {"auth", {{"htpasswd", {{"realm", "registry-workbook"}, {"path", files.in_registry("auth/htpasswd")}}}}}};
    auto basic = start_registry({.role = "registry", .config_patch = patch}, files.workdir);

    const std::string open_host = open.registry->host_port();
    struct Case {
        std::vector<std::string> args;
        std::map<std::string, std::string> environment;
        std::string expected;
    };
    const Workspace login("chapter10-bad-login");
    auto with_credentials = logged_in(login, "alice", {basic->host_port()}, "not-" + password);
    with_credentials["WORKBOOK_AUTH_REGISTRY"] = basic->host_port();
    // A store that knows nothing of the registry: an auth file that does not exist.
    const std::map<std::string, std::string> not_logged_in{
        {"WORKBOOK_AUTH_REGISTRY", basic->host_port()}, {"REGISTRY_AUTH_FILE", (login.path() / "none.json").string()}};
    const std::vector<Case> cases{
        {{"a", "b"}, {}, "usage: 10_authentication_and_tls [registry]"},
        {{open_host}, not_logged_in, "no credentials stored for " + basic->host_port() + ": log in first (docker login or podman login)"},
        {{open_host}, with_credentials, ": 401 Unauthorized"},
        {{"127.0.0.1:1"}, {}, "Couldn't connect to server"},
    };
    for (const Case& c : cases) {
        const ChapterRun run = run_chapter(program, c.args, workspace, c.environment);
        INFO(c.expected << ": " << run.result.out << run.result.err);
        test_support::check_refused("10_authentication_and_tls", run.result, c.expected);
        CHECK(run.result.err.find(password) == std::string::npos);
    }

    // A credential helper (docker-credential-<name>, found in PATH) that fails, prints garbage
    // or hangs: one line naming it, exit 1, and the secret it printed nowhere in the output.
    const fs::path bin = login.path() / "bin";
    fs::create_directories(bin);
    fs::copy_file(fs::path(paths::source_dir) / "tests/credentials/docker-credential-scripted",
                  bin / "docker-credential-scripted");
    std::ofstream(login.path() / "helped.json")
        << nlohmann::json{{"credHelpers", {{basic->host_port(), "scripted"}}}}.dump();
    const std::string asked = "the credential helper docker-credential-scripted (get " + basic->host_port() + ")";
    for (const auto& [as, expected] : std::vector<std::pair<std::string, std::string>>{
             {"fails.example:5000", asked + " failed (exit code 3)"},
             {"garbage.example:5000", asked + " printed something that is not the helper protocol's"},
             {"hangs.example:5000", asked + " did not answer within 10000 ms; it was stopped"}}) {
        const ChapterRun run = run_chapter(program, {open_host}, workspace,
                                           {{"WORKBOOK_AUTH_REGISTRY", basic->host_port()},
                                            {"REGISTRY_AUTH_FILE", (login.path() / "helped.json").string()},
                                            {"PATH", bin.string() + ":" + std::getenv("PATH")},
                                            {"SCRIPTED_HELPER_AS", as}});
        INFO(as << ": " << run.result.out << run.result.err);
        test_support::check_refused("10_authentication_and_tls", run.result, expected);
        CHECK(run.result.out.find("helper-Secret-123") == std::string::npos);
        CHECK(run.result.err.find("helper-Secret-123") == std::string::npos);
    }
    CHECK(test_support::read_existing_file(bin / "calls.log") ==
          "get " + basic->host_port() + "\nget " + basic->host_port() + "\nget " + basic->host_port() + "\n");
    // Nothing half-written: the protected registry holds no repository at all.
    CHECK_FALSE(fs::exists(basic->storage_root() / "docker/registry/v2/repositories"));
}

TEST_CASE("chapter 10: after `podman login` to the htpasswd and token registries, chapters 01 and 05 run "
          "against them with nothing else",
          "[chapter10]") {
    Workspace workspace("chapter10-podman-login");
    const Open open = open_registry(workspace);
    ProtectedRegistries registries = start_protected_registries(workspace.path() / "protected");
    fs::remove(registries.auth_file);  // the harness's own login file: podman writes ours
    // podman's files (HOME, XDG_RUNTIME_DIR) in a folder of their own, outside the workspace
    // whose every file is searched for the password below.
    const Workspace login("chapter10-podman-home");
    const auto environment = stored_login::isolated_environment(login.path());
    const fs::path auth_file = login.path() / "run/containers/auth.json";
    auto with_password = environment;
    with_password["LOGIN_PASSWORD"] = registries.password;
    const auto podman = [&](const std::string& command) {
        return run_program({"sh", "-c", command},
                           {.environment = with_password, .timeout = std::chrono::seconds(60), .merge_output = true});
    };

    std::string outputs;
    for (const RegistryInstance* registry : {registries.basic.get(), registries.token.get()}) {
        const std::string host = registry->host_port();
        // The password on stdin, never on a command line; plain HTTP, so no TLS verification.
        const RunResult logged_in = podman("printf %s \"$LOGIN_PASSWORD\" | podman login --tls-verify=false -u " +
                                           registries.user + " --password-stdin " + host);
        INFO(logged_in.out);
        REQUIRE(logged_in.exit_code == 0);
        CHECK_THAT(logged_in.out, Catch::Contains("Login Succeeded!"));
        outputs += logged_in.out;
        // podman's primary file, as containers-auth.json(5) says: base64 of user:password.
        const auto stored = nlohmann::json::parse(read_file(auth_file));
        CHECK(stored["auths"][host]["auth"] ==
              wbclient::basic_authorization({registries.user, registries.password}).substr(6));

        outputs += stored_login::run_chapters_01_and_05(workspace, open.registry->host_port(), *registry,
                                                        environment, auth_file);
    }
    // Bearer: the programs asked the token server, as alice, with what podman stored.
    bool as_alice = false;
    for (const auto& request : registries.tokens->requests()) as_alice |= request.status == 200 && request.account == "alice";
    CHECK(as_alice);

    REQUIRE(podman("podman logout --all").exit_code == 0);
    CHECK_FALSE(nlohmann::json::parse(read_file(auth_file))["auths"].contains(registries.basic->host_port()));
    RunResult everything;
    everything.out = outputs;
    check_no_secret_anywhere(workspace, everything,
                             {open.registry.get(), registries.basic.get(), registries.token.get()},
                             {registries.password, wbclient::basic_authorization({registries.user, registries.password}).substr(6)});
}
