// The credential store docker, podman and skopeo share, read by wbclient: docker's config.json
// and the containers auth.json (auths, credHelpers, credsStore, identity tokens, the legacy
// ~/.dockercfg), their search order, the docker-credential-<name> protocol played by a scripted
// helper (tests/credentials/docker-credential-scripted, copied into each test's folder), every
// way a helper can go wrong, and the logging-in authorizer against a scripted registry. No
// secret may appear in any error message, transcript or narration.
#include "scripted_server.hpp"
#include "workbook_paths.hpp"
#include "workspace.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/http/auth.hpp"
#include "wbclient/http/credential_store.hpp"
#include "wbclient/http/stored_credentials_auth.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>

namespace fs = std::filesystem;
using wbclient::CredentialError;
using wbclient::CredentialFile;
using wbclient::CredentialStore;
using wbclient::CredentialStoreOptions;

namespace {

const std::string password = "file-Secret-789";
const std::string helper_secret = "helper-Secret-123";
const std::string identity_secret = "identity-Secret-456";

std::string base64_of(const std::string& user, const std::string& pass) {
    return wbclient::basic_authorization({user, pass}).substr(6);
}

void write(const fs::path& file, const std::string& text) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
}

std::string read(const fs::path& file) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// A test's folder with the scripted helper installed as docker-credential-scripted.
struct Folder {
    harness::Workspace workspace;
    fs::path bin;
    explicit Folder(const std::string& name) : workspace(name), bin(workspace.path() / "bin") {
        fs::create_directories(bin);
        fs::copy_file(fs::path(harness::paths::source_dir) / "tests/credentials/docker-credential-scripted",
                      bin / "docker-credential-scripted");
        fs::permissions(bin / "docker-credential-scripted", fs::perms::owner_all);
    }
    fs::path file(const std::string& relative) const { return workspace.path() / relative; }
    CredentialStoreOptions options(std::vector<CredentialFile> files) const {
        return CredentialStoreOptions{.files = std::move(files),
                                      .helper_directories = {workspace.path() / "nothing-here", bin},
                                      .helper_timeout = std::chrono::milliseconds(2000)};
    }
    std::string calls() const { return read(bin / "calls.log"); }
};

// The error find() throws for `registry`, checked to be one line without any secret.
std::string error_for(const CredentialStore& store, const std::string& registry) {
    try {
        store.find(registry);
    } catch (const CredentialError& error) {
        const std::string message = error.what();
        CHECK(message.find('\n') == std::string::npos);
        for (const auto& secret : {password, helper_secret, identity_secret, base64_of("alice", password)})
            CHECK(message.find(secret) == std::string::npos);
        return message;
    }
    FAIL("no CredentialError for " << registry);
    return "";
}

}  // namespace

TEST_CASE("the search list is the containers tools' order, REGISTRY_AUTH_FILE alone when set",
          "[library][credentials]") {
    using wbclient::credential_search_list;
    const auto paths = [](const std::vector<CredentialFile>& files) {
        std::vector<std::string> shown;
        for (const auto& file : files) shown.push_back(file.path.string() + (file.legacy_format ? " (legacy)" : ""));
        return shown;
    };
    CHECK(paths(credential_search_list({.registry_auth_file = "/a/auth.json", .xdg_runtime_dir = "/run/user/7",
                                        .home = "/home/r", .docker_config = "/d", .uid = 7})) ==
          std::vector<std::string>{"/a/auth.json"});
    CHECK(paths(credential_search_list({.xdg_runtime_dir = "/run/user/7", .home = "/home/r", .uid = 7})) ==
          std::vector<std::string>{"/run/user/7/containers/auth.json", "/home/r/.config/containers/auth.json",
                                   "/home/r/.docker/config.json", "/home/r/.dockercfg (legacy)"});
    // DOCKER_CONFIG replaces ~/.docker (as docker itself reads it), XDG_CONFIG_HOME ~/.config,
    // and without XDG_RUNTIME_DIR the primary file is /run/containers/<uid>/auth.json.
    CHECK(paths(credential_search_list({.xdg_config_home = "/cfg", .home = "/home/r", .docker_config = "/d", .uid = 7})) ==
          std::vector<std::string>{"/run/containers/7/auth.json", "/cfg/containers/auth.json", "/d/config.json",
                                   "/home/r/.dockercfg (legacy)"});
    CHECK(paths(credential_search_list({.uid = 0})) == std::vector<std::string>{"/run/containers/0/auth.json"});
}

TEST_CASE("auths entries: base64 user:password, identity tokens, URL keys, Docker Hub's names, .dockercfg",
          "[library][credentials]") {
    Folder folder("credentials-auths");
    const nlohmann::json config = {
        {"auths",
         {{"plain.example:5000", {{"auth", base64_of("alice", password)}}},
          {"https://url.example:5001/v1/", {{"auth", base64_of("bob", "b:with:colons")}}},
          {"https://index.docker.io/v1/", {{"auth", base64_of("hub-user", password)}}},
          {"token.example", {{"auth", base64_of("carol", "")}, {"identitytoken", identity_secret}}},
          {"ns.example/team/app", {{"auth", base64_of("dave", password)}}},
          {"empty.example", nlohmann::json::object()}}}};
    write(folder.file("config.json"), config.dump());
    const CredentialStore store(folder.options({{folder.file("config.json")}}));

    const auto found = store.find("plain.example:5000");
    REQUIRE(found);
    CHECK(found->credentials.username == "alice");
    CHECK(found->credentials.password == password);
    CHECK(found->source == "auths of " + folder.file("config.json").string());
    // A key written as a URL names its host:port; the password may hold colons.
    REQUIRE(store.find("url.example:5001"));
    CHECK(store.find("url.example:5001")->credentials.password == "b:with:colons");
    CHECK_FALSE(store.find("url.example:5000"));
    // Docker Hub: docker's key serves all of its names.
    for (const char* hub : {"docker.io", "index.docker.io", "registry-1.docker.io"}) {
        INFO(hub);
        REQUIRE(store.find(hub));
        CHECK(store.find(hub)->credentials.username == "hub-user");
    }
    CHECK(wbclient::docker_server_key("registry-1.docker.io") == "https://index.docker.io/v1/");
    CHECK(wbclient::docker_server_key("Plain.Example:5000") == "plain.example:5000");
    // An identity token replaces the password.
    const auto token = store.find("token.example");
    REQUIRE(token);
    CHECK(token->credentials.identity_token == identity_secret);
    CHECK(token->credentials.password.empty());
    // A namespace key is not its registry's; an empty entry (beside a credsStore) is no login.
    CHECK_FALSE(store.find("ns.example"));
    CHECK_FALSE(store.find("empty.example"));
    CHECK_FALSE(store.find("nowhere.example"));

    // The legacy ~/.dockercfg: the auths object alone, keys as API URLs.
    write(folder.file(".dockercfg"), nlohmann::json{{"https://legacy.example:5002/v1/", {{"auth", base64_of("erin", password)}, {"email", "e@x"}}}}.dump());
    const CredentialStore legacy(folder.options({{folder.file(".dockercfg"), true}}));
    REQUIRE(legacy.find("legacy.example:5002"));
    CHECK(legacy.find("legacy.example:5002")->credentials.username == "erin");
    CHECK(legacy.find("legacy.example:5002")->source == "legacy auths of " + folder.file(".dockercfg").string());
}

TEST_CASE("files are read in order: the first that knows the registry wins, helpers before auths",
          "[library][credentials]") {
    Folder folder("credentials-order");
    const fs::path primary = folder.file("runtime/containers/auth.json");
    const fs::path docker = folder.file("home/.docker/config.json");
    write(primary, nlohmann::json{{"auths", {{"both.example", {{"auth", base64_of("from-podman", password)}}}}}}.dump());
    write(docker, nlohmann::json{{"auths",
                                  {{"both.example", {{"auth", base64_of("from-docker", password)}}},
                                   {"docker-only.example", {{"auth", base64_of("docker-user", password)}}},
                                   {"good.example:5000", {{"auth", base64_of("shadowed", password)}}},
                                   {"unknown.example:5000", {{"auth", base64_of("never-used", password)}}}}},
                                 {"credHelpers", {{"good.example:5000", "scripted"}, {"unknown.example:5000", "scripted"}}}}
                      .dump());
    const CredentialStore store(folder.options({{primary}, {folder.file("missing/auth.json")}, {docker}}));
    CHECK(store.find("both.example")->credentials.username == "from-podman");
    CHECK(store.find("docker-only.example")->credentials.username == "docker-user");
    CHECK(folder.calls().empty());  // no helper runs for registries a file answers without one

    // credHelpers beats auths in the same file: the helper alone speaks for its registry.
    const auto helped = store.find("good.example:5000");
    REQUIRE(helped);
    CHECK(helped->credentials.username == "alice");
    CHECK(helped->credentials.password == helper_secret);
    CHECK(helped->source == "docker-credential-scripted (credHelpers of " + docker.string() + ")");
    // Its "credentials not found" is no login, and the auths entry beside it is not used.
    CHECK_FALSE(store.find("unknown.example:5000"));
    CHECK(folder.calls() == "get good.example:5000\nget unknown.example:5000\n");

    // credsStore (docker's native store) answers for every registry of its file, Docker Hub
    // by docker's URL key; a later file is read only when it knows nothing.
    const fs::path with_store = folder.file("store/config.json");
    write(with_store, nlohmann::json{{"auths", {{"good.example:5000", nlohmann::json::object()},
                                                {"other.example", {{"auth", base64_of("ignored", password)}}}}},
                                     {"credsStore", "scripted"}}.dump());
    const CredentialStore stored(folder.options({{with_store}, {primary}}));
    CHECK(stored.find("good.example:5000")->source == "docker-credential-scripted (credsStore of " + with_store.string() + ")");
    CHECK(stored.find("docker.io")->credentials.username == "hub-user");
    CHECK_FALSE(stored.find("other.example"));
    CHECK(stored.find("both.example")->credentials.username == "from-podman");
    const auto token = stored.find("token.example:5000");  // the helper's "<token>" user
    REQUIRE(token);
    CHECK(token->credentials.username.empty());
    CHECK(token->credentials.identity_token == identity_secret);
    CHECK_THAT(folder.calls(), Catch::EndsWith("get good.example:5000\nget https://index.docker.io/v1/\n"
                                               "get other.example\nget both.example\nget token.example:5000\n"));
}

TEST_CASE("a helper that is missing, fails, prints garbage, floods or hangs: one line, no secret",
          "[library][credentials]") {
    Folder folder("credentials-failing");
    const fs::path config = folder.file("config.json");
    nlohmann::json helpers = nlohmann::json::object();
    for (const char* host : {"fails.example:5000", "garbage.example:5000", "empty.example:5000", "flood.example:5000",
                             "hangs.example:5000"})
        helpers[host] = "scripted";
    helpers["missing.example"] = "not-installed";
    helpers["sneaky.example"] = "../bin/scripted";
    write(config, nlohmann::json{{"credHelpers", helpers}}.dump());
    CredentialStoreOptions options = folder.options({{config}});
    options.helper_timeout = std::chrono::milliseconds(500);
    const CredentialStore store(options);

    CHECK(error_for(store, "missing.example") ==
          "the credential helper docker-credential-not-installed is not installed (not in the PATH)");
    CHECK_THAT(error_for(store, "sneaky.example"), Catch::Contains("names no usable credential helper"));
    // It printed the secret on stdout and stderr, then failed: neither is quoted.
    CHECK(error_for(store, "fails.example:5000") ==
          "the credential helper docker-credential-scripted (get fails.example:5000) failed (exit code 3)");
    CHECK_THAT(error_for(store, "garbage.example:5000"), Catch::Contains("printed something that is not the helper protocol's"));
    CHECK_THAT(error_for(store, "empty.example:5000"), Catch::Contains("printed something that is not the helper protocol's"));
    CHECK_THAT(error_for(store, "flood.example:5000"), Catch::Contains("printed far more than a credential; it was stopped"));

    const auto started = std::chrono::steady_clock::now();
    CHECK(error_for(store, "hangs.example:5000") ==
          "the credential helper docker-credential-scripted (get hangs.example:5000) did not answer within 500 ms; "
          "it was stopped");
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    // Killed, not left sleeping: its process is gone.
    const pid_t hanging = std::stoi(read(folder.bin / "hanging.pid"));
    CHECK(::kill(hanging, 0) == -1);

    // Files the store cannot read: named, their content never quoted.
    write(folder.file("broken.json"), "{\"auths\": {\"x\": {\"auth\": \"" + base64_of("alice", password) + "\"");
    CHECK(error_for(CredentialStore(folder.options({{folder.file("broken.json")}})), "x") ==
          "the credential file " + folder.file("broken.json").string() + " is not a JSON object");
    write(folder.file("bad-auth.json"), nlohmann::json{{"auths", {{"x", {{"auth", "!!" + password + "!!"}}}}}}.dump());
    CHECK(error_for(CredentialStore(folder.options({{folder.file("bad-auth.json")}})), "x") ==
          "the auths entry for x in " + folder.file("bad-auth.json").string() +
              " has an 'auth' that is not base64 of user:password");
    write(folder.file("no-colon.json"), nlohmann::json{{"auths", {{"x", {{"auth", base64_of("alice", "").substr(0, 4) + "===="}}}}}}.dump());
    CHECK_THAT(error_for(CredentialStore(folder.options({{folder.file("no-colon.json")}})), "x"),
               Catch::Contains("has an 'auth' that is not base64 of user:password"));
}

namespace {

struct Seen {
    std::mutex mutex;
    std::vector<harness::ScriptedRequest> requests;
};

// A registry that wants `Basic <expected>` on /v2/, or, with a realm, a Bearer token that its
// /token issues for an identity token sent the OAuth2 way.
harness::RequestHandler protected_registry(std::shared_ptr<Seen> seen, std::string expected_basic,
                                           std::shared_ptr<std::string> self) {
    return [=](const harness::ScriptedRequest& request) {
        {
            const std::lock_guard lock(seen->mutex);
            seen->requests.push_back(request);
        }
        const std::string authorization = request.header("Authorization");
        if (request.target.starts_with("/token")) {
            if (request.method == "POST" && request.body.find("grant_type=refresh_token") != std::string::npos &&
                request.body.find("refresh_token=" + identity_secret) != std::string::npos)
                return harness::ScriptedResponse{.headers = {{"Content-Type", "application/json"}},
                                                 .body = R"({"access_token":"granted-token","expires_in":300})"};
            return harness::ScriptedResponse{.status = 401, .body = "{}"};
        }
        if (authorization == "Basic " + expected_basic || authorization == "Bearer granted-token")
            return harness::ScriptedResponse{.headers = {{"Content-Type", "application/json"}}, .body = "{}"};
        const std::string challenge = self->empty() ? "Basic realm=\"scripted\""
                                                    : "Bearer realm=\"http://" + *self + "/token\",service=\"scripted\"";
        return harness::ScriptedResponse{.status = 401, .headers = {{"Www-Authenticate", challenge}},
                                         .body = R"({"errors":[{"code":"UNAUTHORIZED","message":"no"}]})"};
    };
}

}  // namespace

TEST_CASE("the logging-in authorizer reads the store on a registry's first 401 only", "[library][credentials]") {
    Folder folder("credentials-authorizer");
    auto seen = std::make_shared<Seen>();
    harness::ScriptedServer basic(protected_registry(seen, base64_of("alice", password), std::make_shared<std::string>()));
    auto self = std::make_shared<std::string>();
    harness::ScriptedServer bearer(protected_registry(seen, "", self));
    *self = bearer.host_port();
    harness::ScriptedServer open([](const std::string&, const std::string&) {
        return harness::ScriptedResponse{.headers = {{"Content-Type", "application/json"}}, .body = "{}"};
    });

    const fs::path transcript = folder.file("transcript.jsonl");
    wbclient::ClientOptions options;
    options.observers.push_back(wbclient::transcript_writer(transcript.string()));
    std::vector<std::string> narrated;
    const auto login_with = [&](const fs::path& file) {
        auto login = std::make_shared<wbclient::StoredCredentialsAuth>(
            CredentialStore(folder.options({{file}})), options);
        login->set_narrator([&](const std::string& line) { narrated.push_back(line); });
        wbclient::ClientOptions with_login = options;
        with_login.authorizer = login;
        return with_login;
    };

    // An open registry never asks, so the store is never read: not even a broken one fails.
    write(folder.file("broken.json"), "not json");
    wbclient::RegistryClient anonymous(open.host_port(), login_with(folder.file("broken.json")));
    CHECK(anonymous.ping().status == 200);
    CHECK(narrated.empty());
    // ... but a registry that asks makes it fail, in one line.
    wbclient::RegistryClient refused(basic.host_port(), login_with(folder.file("broken.json")));
    CHECK_THROWS_WITH(refused.ping(), "the credential file " + folder.file("broken.json").string() + " is not a JSON object");

    write(folder.file("auth.json"),
          nlohmann::json{{"auths", {{basic.host_port(), {{"auth", base64_of("alice", password)}}},
                                    {bearer.host_port(), {{"identitytoken", identity_secret}}}}}}.dump());
    wbclient::RegistryClient with_basic(basic.host_port(), login_with(folder.file("auth.json")));
    CHECK(with_basic.ping().status == 200);
    CHECK(with_basic.ping().status == 200);
    wbclient::RegistryClient with_token(bearer.host_port(), login_with(folder.file("auth.json")));
    CHECK(with_token.ping().status == 200);
    {
        const std::lock_guard lock(seen->mutex);
        const auto& r = seen->requests;
        REQUIRE(r.size() == 7);  // broken: 1; basic: 401, retried, then straight; bearer: 401, token, retried
        CHECK(r[1].header("Authorization").empty());
        CHECK(r[2].header("Authorization") == "Basic " + base64_of("alice", password));
        CHECK(r[3].header("Authorization") == "Basic " + base64_of("alice", password));
        CHECK(r[5].method == "POST");
        CHECK(r[5].target == "/token");
        CHECK_THAT(r[5].body, Catch::StartsWith("grant_type=refresh_token&service=scripted&client_id=registry-workbook&refresh_token="));
        CHECK(r[5].header("Authorization").empty());
        CHECK(r[6].header("Authorization") == "Bearer granted-token");
    }
    REQUIRE(narrated.size() >= 2);
    CHECK(narrated[0] == basic.host_port() + " wants credentials: using user 'alice' from auths of " +
                             folder.file("auth.json").string());
    CHECK(std::find(narrated.begin(), narrated.end(),
                    bearer.host_port() + " wants credentials: using an identity token from auths of " +
                        folder.file("auth.json").string()) != narrated.end());
    // An identity token is for token servers: a Basic registry is sent nothing made of it.
    write(folder.file("token-only.json"),
          nlohmann::json{{"auths", {{basic.host_port(), {{"identitytoken", identity_secret}}}}}}.dump());
    wbclient::RegistryClient token_for_basic(basic.host_port(), login_with(folder.file("token-only.json")));
    CHECK_THROWS_WITH(token_for_basic.ping(), Catch::Contains("401"));
    CHECK(narrated.back() == "  an identity token is for token servers only: no Basic credentials to send");
    {
        const std::lock_guard lock(seen->mutex);
        REQUIRE(seen->requests.size() == 8);
        CHECK(seen->requests.back().header("Authorization").empty());
    }
    // Neither the narration nor the transcript holds a secret.
    std::string all = read(transcript);
    CHECK(all.find("<redacted>") != std::string::npos);
    for (const auto& line : narrated) all += line + "\n";
    for (const auto& secret : {password, identity_secret, base64_of("alice", password), std::string("granted-token")})
        CHECK(all.find(secret) == std::string::npos);
}
