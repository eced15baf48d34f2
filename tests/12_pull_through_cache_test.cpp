// Chapter 12: given an upstream holding busybox and a registry 2.8.2 mirroring it
// (proxy.remoteurl), when the program pulls busybox through the mirror twice, then the
// upstream's own log shows every blob fetched during the first pull and only a manifest HEAD
// for the second; the mirror answers a tag the upstream lacks with 404 and a push with 405
// UNSUPPORTED; its storage holds the blobs and scheduler-state.json with 7-day deadlines.
// Beyond the program (which is only a client): the upstream stopped, a mirror started before
// its upstream, and entries made to expire by editing the state file and restarting.
// The first case runs on the engine WORKBOOK_ENGINE names, so compose.chapter12 runs it with
// docker-compose.yml's mirror service; the others (tagged [native-only]) need what only the
// native engine gives: a restart followed in the log file, the token server, a config edit.
#include "busybox_image.hpp"
#include "chapter_run.hpp"
#include "protected_registries.hpp"
#include "redis_instance.hpp"
#include "registry_instance.hpp"
#include "test_support.hpp"

#include "wbclient/http/auth.hpp"
#include "wbclient/image/oci_layout.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace harness;
namespace fs = std::filesystem;
using wbclient::Digest;

namespace {

const std::string program = "12_pull_through_cache";
const std::string repository = "library/busybox";

// What the upstream logged after its first `skip` lines, without the harness's own probes.
std::vector<ObservedExchange> upstream_requests(const RegistryInstance& upstream, std::size_t skip) {
    std::vector<ObservedExchange> requests;
    const auto all = upstream.access_log();
    for (std::size_t i = skip; i < all.size(); ++i)
        if (all[i].user_agent != harness_user_agent) requests.push_back(all[i]);
    return requests;
}

std::size_t count(const std::vector<ObservedExchange>& exchanges, const std::string& method, const std::string& uri) {
    return static_cast<std::size_t>(std::count_if(exchanges.begin(), exchanges.end(), [&](const ObservedExchange& e) {
        return e.method == method && e.uri == uri;
    }));
}

nlohmann::json scheduler_state(const RegistryInstance& mirror) {
    return nlohmann::json::parse(test_support::read_existing_file(mirror.storage_root() / "scheduler-state.json"));
}

// 2.8.2 saves its schedule at most every 5 seconds (not at shutdown): true once the file
// lists `key` (or, with listed false, no longer does), false after 15 s.
// The file as it is now: null while it is missing or half-written (2.8.2 rewrites it in place).
nlohmann::json state_now(const RegistryInstance& mirror) {
    std::ifstream in(mirror.storage_root() / "scheduler-state.json");
    const nlohmann::json state = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
    return state.is_object() ? state : nlohmann::json();
}

bool scheduled(const RegistryInstance& mirror, const std::string& key, bool listed = true) {
    return test_support::poll_until([&] {
        const nlohmann::json state = state_now(mirror);
        return state.is_object() && state.contains(key) == listed;
    }, std::chrono::milliseconds(15000));
}

// The mirror stores what it streamed to a client on the side: true once every blob's data file
// is complete, false after 15 s.
bool stored(const RegistryInstance& mirror, const std::vector<wbclient::Descriptor>& blobs) {
    return test_support::poll_until([&] {
        for (const auto& blob : blobs) {
            const fs::path data = mirror.blob_data(blob.digest);
            if (!fs::exists(data) || fs::file_size(data) != blob.size) return false;
        }
        return true;
    }, std::chrono::milliseconds(15000));
}

struct Mirrored {
    Digest manifest;
    std::vector<wbclient::Descriptor> blobs;  // config, layer
};

// Pulls busybox's manifest and blobs through `client` (a mirror), as the program does.
Mirrored pull_through(wbclient::RegistryClient& client) {
    const auto manifest = client.get_manifest(repository, "latest");
    Mirrored mirrored{.manifest = wbclient::digest_of(manifest.bytes), .blobs = manifest.parsed.references()};
    for (const auto& blob : mirrored.blobs) {
        std::string bytes;
        client.fetch_blob(repository, blob, [&](const char* data, std::size_t size) { bytes.append(data, size); });
        REQUIRE(wbclient::digest_of(bytes) == blob.digest);
    }
    return mirrored;
}

long status_of(wbclient::RegistryClient& client, const std::string& method, const std::string& rest, std::string* body = nullptr) {
    const wbclient::Response response = client.http().perform({.method = method, .url = client.url(repository, rest)});
    if (body) *body = response.body;
    return response.status;
}

}  // namespace

TEST_CASE("chapter 12: the first pull through the mirror reaches the upstream, the second only asks about the tag", "[chapter12]") {
    Workspace workspace("chapter12");
    auto upstream = start_registry({.role = "upstream"}, workspace.path());
    wbclient::RegistryClient upstream_client(upstream->host_port());
    const Digest seeded = seed_busybox(upstream_client);
    auto mirror = start_registry(mirror_of(*upstream), workspace.path());
    REQUIRE(mirror->engine() == engine_from_environment());
    const std::size_t skip = upstream->access_log().size();

    const ChapterRun run = run_chapter(program, {"--upstream-log", upstream->log_file().string(), "--mirror-storage",
                                                 mirror->storage_root().string(), mirror->host_port()},
                                       workspace);
    INFO(run.result.out << run.result.err << "client saw:\n" << summarize(run.transcript));
    REQUIRE(run.result.exit_code == 0);
    CHECK(run.result.err.empty());

    const auto manifest = upstream_client.get_manifest(repository, "latest");
    const auto blobs = manifest.parsed.references();
    REQUIRE(blobs.size() == 2);
    const std::string config_uri = "/v2/library/busybox/blobs/" + blobs[0].digest.str();
    const std::string layer_uri = "/v2/library/busybox/blobs/" + blobs[1].digest.str();
    const std::string tag_uri = "/v2/library/busybox/manifests/latest";
    const auto seen = upstream_requests(*upstream, skip);
    INFO("the upstream saw:\n" << summarize(seen));

    SECTION("the upstream's log: every blob fetched during pull 1, nothing but a tag HEAD during pull 2") {
        // Pull 1 fetched the manifest and both blobs; 2.8.2 fetches a blob it lacks twice (the
        // config: GET to serve, GET to store) or once, after a HEAD each.
        CHECK(count(seen, "GET", tag_uri) == 1);
        CHECK(count(seen, "GET", config_uri) >= 1);
        CHECK(count(seen, "GET", layer_uri) >= 1);
        // Each pull asks the upstream for the tag's digest with a HEAD: two pulls, two HEADs.
        REQUIRE(count(seen, "HEAD", tag_uri) == 2);
        std::size_t second_head = 0;
        for (std::size_t i = 0, heads = 0; i < seen.size(); ++i)
            if (seen[i].method == "HEAD" && seen[i].uri == tag_uri && ++heads == 2) second_head = i;
        // After pull 2's HEAD: no blob and no manifest GET reached the upstream.
        for (std::size_t i = second_head; i < seen.size(); ++i) {
            CHECK_FALSE(seen[i].uri.starts_with("/v2/library/busybox/blobs/"));
            CHECK_FALSE((seen[i].method == "GET" && seen[i].uri == tag_uri));
        }
        // Every request the mirror made upstream carries Go's default user agent, not ours.
        for (const auto& request : seen) CHECK(request.user_agent.starts_with("Go-http-client/"));
        // The program printed the same requests it found in the log, each once per its turn.
        CHECK_THAT(run.result.out, Catch::Contains("    HEAD " + tag_uri + " 200  ("));
        CHECK_THAT(run.result.out, Catch::Contains("    GET " + layer_uri + " 200  (" + std::to_string(blobs[1].size) + " bytes"));
    }

    SECTION("the client got the same image twice, every byte verified") {
        CHECK(select(run.transcript, "GET", tag_uri).size() == 2);
        for (const auto& exchange : select(run.transcript, "GET", tag_uri)) CHECK(exchange.status == 200);
        CHECK(select(run.transcript, "GET", layer_uri).size() == 2);
        CHECK(wbclient::verify_oci_layout(workspace.path() / "busybox-from-mirror.oci") == 3);
        CHECK_THAT(run.result.out, Catch::Contains("  manifest " + seeded.str() + ", 3 blobs verified\n"));
    }

    SECTION("a tag the upstream lacks: 404; a push: 405 UNSUPPORTED") {
        const auto missing = select(run.transcript, "GET", "/v2/library/busybox/manifests/no-such-tag");
        REQUIRE(missing.size() == 1);
        CHECK(missing[0].status == 404);
        const auto push = select(run.transcript, "POST", "/v2/library/busybox/blobs/uploads/");
        REQUIRE(push.size() == 1);
        CHECK(push[0].status == 405);
        CHECK_THAT(run.result.out, Catch::Contains("GET manifests/no-such-tag: 404 MANIFEST_UNKNOWN\n"
                                                   "POST blobs/uploads/: 405 UNSUPPORTED"));
        // DELETE is refused the same way.
        wbclient::RegistryClient client(mirror->host_port());
        std::string body;
        CHECK(status_of(client, "DELETE", "manifests/" + seeded.str(), &body) == 405);
        CHECK_THAT(body, Catch::Contains("UNSUPPORTED"));
        // The mirror asked the upstream about the tag, and never passed the push on.
        CHECK(count(seen, "POST", "/v2/library/busybox/blobs/uploads/") == 0);
        CHECK(count(seen, "HEAD", "/v2/library/busybox/manifests/no-such-tag") +
                  count(seen, "GET", "/v2/library/busybox/manifests/no-such-tag") >= 1);
    }

    SECTION("the mirror's storage: the blobs, and a 7-day deadline for each thing it cached") {
        for (const auto& blob : blobs) CHECK(wbclient::digest_of_file(mirror->blob_data(blob.digest)) == blob.digest);
        const nlohmann::json state = scheduler_state(*mirror);
        CHECK(state.size() == 3);
        // The fixed time to live, as the mirror logs it.
        CHECK_THAT(mirror->log(), Catch::Contains("ttl=167h59m59"));
        for (const auto& [digest, type] : {std::pair{seeded, 1}, {blobs[0].digest, 0}, {blobs[1].digest, 0}}) {
            const std::string key = repository + "@" + digest.str();
            REQUIRE(state.contains(key));
            CHECK(state[key].at("EntryType") == type);
            CHECK_THAT(run.result.out, Catch::Contains(key + "\n      expires " + state[key].at("ExpiryData").get<std::string>() +
                                                       ", in 7.0 days\n"));
        }
    }
}

TEST_CASE("chapter 12: with the upstream stopped, the mirror serves what it has and fails what it lacks", "[chapter12][native-only]") {
    Workspace workspace("chapter12-down");
    auto upstream = start_registry({.role = "upstream"}, workspace.path(), "native");
    wbclient::RegistryClient upstream_client(upstream->host_port());
    seed_busybox(upstream_client);
    // A blob the upstream has and the mirror will never have pulled.
    const std::string uncached = "a blob nobody pulled through the mirror";
    upstream_client.push_blob(repository, uncached);
    auto mirror = start_registry(mirror_of(*upstream), workspace.path(), "native");
    wbclient::RegistryClient client(mirror->host_port());
    const Mirrored mirrored = pull_through(client);
    REQUIRE(stored(*mirror, mirrored.blobs));
    upstream->stop();

    CHECK(status_of(client, "GET", "manifests/latest") == 200);
    CHECK(status_of(client, "GET", "manifests/" + mirrored.manifest.str()) == 200);
    for (const auto& blob : mirrored.blobs) CHECK(status_of(client, "GET", "blobs/" + blob.digest.str()) == 200);
    std::string body;
    CHECK(status_of(client, "GET", "blobs/" + wbclient::digest_of(uncached).str(), &body) == 500);
    // Its detail: the failed dial to the upstream, ECONNREFUSED (111) as Go's error value.
    CHECK_THAT(body, Catch::Contains("\"code\":\"UNKNOWN\"") && Catch::Contains("\"URL\":\"" + upstream->url() + "/v2/\"") &&
                         Catch::Contains("\"Syscall\":\"connect\",\"Err\":111"));
    CHECK(status_of(client, "GET", "manifests/not-cached", &body) == 404);
    CHECK_THAT(body, Catch::Contains("MANIFEST_UNKNOWN"));

    // And a mirror cannot even start now: the harness refuses before 2.8.2 would panic.
    CHECK_THROWS_WITH(start_registry(mirror_of(*upstream), workspace.path() / "second", "native"),
                      Catch::Contains("does not answer; registry 2.8.2 would panic at start"));
}

TEST_CASE("chapter 12: the upstream moves the tag: the next pull by tag gets the new manifest, the old stays by digest", "[chapter12][native-only]") {
    Workspace workspace("chapter12-moved");
    auto upstream = start_registry({.role = "upstream"}, workspace.path(), "native");
    wbclient::RegistryClient upstream_client(upstream->host_port());
    seed_busybox(upstream_client);
    auto mirror = start_registry(mirror_of(*upstream), workspace.path(), "native");
    wbclient::RegistryClient client(mirror->host_port());
    const Mirrored before = pull_through(client);

    // The upstream's `latest` moves to another manifest (same blobs, one annotation more).
    const auto old_manifest = upstream_client.get_manifest(repository, "latest");
    nlohmann::json moved = nlohmann::json::parse(old_manifest.bytes);
    moved["annotations"] = {{"org.opencontainers.image.description", "latest, moved"}};
    const std::string moved_bytes = moved.dump();
    const Digest moved_digest = upstream_client.put_manifest(repository, "latest", old_manifest.media_type, moved_bytes);
    REQUIRE(moved_digest != before.manifest);
    const std::size_t skip = upstream->access_log().size();

    // No time to live stands in the way: the HEAD every pull by tag sends sees the new digest,
    // and the mirror fetches the new manifest at once; the next pull only asks again.
    const auto first = client.get_manifest(repository, "latest");
    CHECK(first.digest == moved_digest);
    CHECK(first.bytes == moved_bytes);
    const auto second = client.get_manifest(repository, "latest");
    CHECK(second.digest == moved_digest);
    const std::string tag_uri = "/v2/library/busybox/manifests/latest";
    // A registry logs a request after answering it: wait for the second HEAD's line.
    CHECK(test_support::poll_until([&] { return count(upstream_requests(*upstream, skip), "HEAD", tag_uri) >= 2; },
                                   std::chrono::milliseconds(5000)));
    const auto seen = upstream_requests(*upstream, skip);
    INFO("the upstream saw:\n" << summarize(seen));
    CHECK(count(seen, "HEAD", tag_uri) == 2);
    CHECK(count(seen, "GET", tag_uri) == 1);
    // The manifest it served before is still there by digest, from the mirror's cache.
    CHECK(client.get_manifest(repository, before.manifest.str()).digest == before.manifest);
    CHECK(count(upstream_requests(*upstream, skip), "GET", "/v2/library/busybox/manifests/" + before.manifest.str()) == 0);
}

TEST_CASE("chapter 12: an upstream that needs a login: proxy.username/password work with Bearer tokens, not with Basic", "[chapter12][native-only]") {
    Workspace workspace("chapter12-login");
    const ProtectedRegistries upstreams = start_protected_registries(workspace.path(), "native");
    const auto logged_in = [&](const RegistryInstance& registry) {
        wbclient::RegistryClient client(registry.host_port());
        client.http().set_authorizer(std::make_shared<wbclient::RegistryAuth>(
            wbclient::Credentials{upstreams.user, upstreams.password}, wbclient::HttpClient()));
        return client;
    };
    const auto mirror_logging_in = [&](const RegistryInstance& upstream) {
        RegistrySpec spec = mirror_of(upstream);
        spec.config_patch["proxy"]["username"] = upstreams.user;
        spec.config_patch["proxy"]["password"] = upstreams.password;
        return spec;
    };

    SECTION("Bearer: the mirror fetches a token with the login and serves anyone; without the login, 404") {
        wbclient::RegistryClient seeding = logged_in(*upstreams.token);
        const Digest seeded = seed_busybox(seeding);
        auto mirror = start_registry(mirror_logging_in(*upstreams.token), workspace.path() / "token-login", "native");
        wbclient::RegistryClient anonymous(mirror->host_port());
        CHECK(pull_through(anonymous).manifest == seeded);
        // Without a login the upstream's 401 reaches the client as 404 MANIFEST_UNKNOWN.
        auto without = start_registry(mirror_of(*upstreams.token), workspace.path() / "token-without", "native");
        wbclient::RegistryClient client(without->host_port());
        std::string body;
        CHECK(status_of(client, "GET", "manifests/latest", &body) == 404);
        CHECK_THAT(body, Catch::Contains("MANIFEST_UNKNOWN"));
    }

    SECTION("Basic: 2.8.2's proxy never sends the login, so the upstream refuses it and the client gets 404") {
        wbclient::RegistryClient seeding = logged_in(*upstreams.basic);
        seed_busybox(seeding);
        const std::size_t refused_before = test_support::auth_refusals(*upstreams.basic).size();
        auto mirror = start_registry(mirror_logging_in(*upstreams.basic), workspace.path() / "basic-login", "native");
        wbclient::RegistryClient client(mirror->host_port());
        std::string body;
        CHECK(status_of(client, "GET", "manifests/latest", &body) == 404);
        CHECK_THAT(body, Catch::Contains("MANIFEST_UNKNOWN"));
        // The mirror saw the Basic challenge ...
        CHECK_THAT(mirror->log(), Catch::Contains("[{basic map[realm:registry-workbook]}]"));
        // ... and still asked without credentials: "invalid authorization credential" is the
        // upstream's word for none at all (a wrong password is "authentication failure").
        // The upstream logs its refusal after answering: wait for it.
        REQUIRE(test_support::poll_until([&] { return test_support::auth_refusals(*upstreams.basic).size() > refused_before; },
                                         std::chrono::milliseconds(5000)));
        const auto refused = test_support::auth_refusals(*upstreams.basic);
        for (std::size_t i = refused_before; i < refused.size(); ++i)
            CHECK(refused[i] == "basic authentication challenge for realm \"registry-workbook\": invalid authorization credential");
    }
}

TEST_CASE("chapter 12: a mirror started before its upstream answers panics and exits 2", "[chapter12][native-only]") {
    Workspace workspace("chapter12-panic");
    std::string dead;
    const RunResult result = start_mirror_without_upstream(workspace.path(), dead);
    INFO(result.err);
    CHECK_FALSE(result.timed_out);
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Catch::Contains("panic: Get \"http://" + dead + "/v2/\": dial tcp " + dead +
                                           ": connect: connection refused"));
}

TEST_CASE("chapter 12: an expired entry is deleted (deletes enabled) or kept for ever (disabled)", "[chapter12][native-only]") {
    Workspace workspace("chapter12-expiry");
    auto upstream = start_registry({.role = "upstream"}, workspace.path(), "native");
    wbclient::RegistryClient upstream_client(upstream->host_port());
    seed_busybox(upstream_client);

    SECTION("proxy.ttl: accepted by 2.8.2, and ignored") {
        RegistrySpec spec = mirror_of(*upstream);
        spec.config_patch["proxy"]["ttl"] = "10s";
        auto mirror = start_registry(spec, workspace.path() / "ttl", "native");
        wbclient::RegistryClient client(mirror->host_port());
        const Mirrored mirrored = pull_through(client);
        REQUIRE(scheduled(*mirror, repository + "@" + mirrored.manifest.str()));
        CHECK_THAT(mirror->log(), Catch::Contains("ttl=167h59m59"));
        CHECK_THAT(mirror->log(), !Catch::Contains("ttl=10s") && !Catch::Contains("ttl=9."));
    }
    for (const bool deletes : {true, false}) {
        DYNAMIC_SECTION("storage.delete.enabled: " << deletes) {
            RegistrySpec spec = mirror_of(*upstream);
            spec.config_patch["storage"]["delete"]["enabled"] = deletes;
            auto mirror = start_registry(spec, workspace.path() / (deletes ? "deletes" : "no-deletes"), "native");
            wbclient::RegistryClient client(mirror->host_port());
            const Mirrored mirrored = pull_through(client);
            const wbclient::Descriptor& layer = mirrored.blobs.at(1);
            const std::string key = repository + "@" + layer.digest.str();

            REQUIRE(stored(*mirror, mirrored.blobs));
            REQUIRE(scheduled(*mirror, key));
            // Make the layer's deadline the past, as if seven days had gone by, and restart.
            mirror->stop();
            nlohmann::json state = scheduler_state(*mirror);
            REQUIRE(state.contains(key));
            state[key]["ExpiryData"] = "2000-01-01T00:00:00Z";
            std::ofstream(mirror->storage_root() / "scheduler-state.json", std::ios::trunc) << state.dump();
            const std::size_t log_before = mirror->log().size();
            mirror->start();
            // The scheduler runs its expired entries at start; it saves the state afterwards.
            REQUIRE(scheduled(*mirror, key, false));
            const std::string log = mirror->log().substr(log_before);
            if (deletes) {
                CHECK_FALSE(fs::exists(mirror->blob_data(layer.digest)));
                // Pulled again, it comes from the upstream again, and is scheduled again.
                const std::size_t skip = upstream->access_log().size();
                CHECK(status_of(client, "GET", "blobs/" + layer.digest.str()) == 200);
                // (The upstream logs the GET once it has answered: wait for the line.)
                CHECK(test_support::poll_until([&] {
                    return count(upstream_requests(*upstream, skip), "GET", "/v2/library/busybox/blobs/" + layer.digest.str()) >= 1;
                }, std::chrono::milliseconds(5000)));
                CHECK(scheduled(*mirror, key));
            } else {
                // 2.8.2 cannot delete, says so, forgets the deadline and keeps the blob for ever.
                CHECK_THAT(log, Catch::Contains("Scheduler error returned from OnExpire(" + key + "): operation unsupported"));
                CHECK(wbclient::digest_of_file(mirror->blob_data(layer.digest)) == layer.digest);
                CHECK(status_of(client, "GET", "blobs/" + layer.digest.str()) == 200);
            }
        }
    }
}

TEST_CASE("chapter 12: bad input gets a one-line error and a non-zero exit", "[chapter12][native-only]") {
    Workspace workspace("chapter12-bad");
    auto upstream = start_registry({.role = "upstream"}, workspace.path(), "native");
    wbclient::RegistryClient upstream_client(upstream->host_port());
    seed_busybox(upstream_client);
    auto mirror = start_registry(mirror_of(*upstream), workspace.path(), "native");
    const std::string log = upstream->log_file().string();
    const std::string storage = mirror->storage_root().string();
    const std::string m = mirror->host_port();
    const std::string nobody = "127.0.0.1:" + std::to_string(free_loopback_port());
    const fs::path nowhere = workspace.path() / "nowhere";

    struct Case {
        std::vector<std::string> args;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {{"--mirror-storage", storage, m}, "no upstream log: give --upstream-log FILE or set WORKBOOK_UPSTREAM_LOG"},
        {{"--upstream-log", log, m}, "no mirror storage: give --mirror-storage DIR or set WORKBOOK_MIRROR_STORAGE"},
        {{"--upstream-log", nowhere.string(), "--mirror-storage", storage, m}, nowhere.string() + " is not a file"},
        {{"--upstream-log", log, "--mirror-storage", nowhere.string(), m}, nowhere.string() + " is not a folder"},
        {{"--upstream-log", log, "--mirror-storage", storage, nobody}, "Couldn't connect to server"},
        {{"--upstream-log", log, "--mirror-storage", storage, "Not A Host"}, "'Not A Host' is not a valid registry host"},
        // A registry that is no mirror takes the push the program expects a mirror to refuse.
        {{"--upstream-log", log, "--mirror-storage", storage, upstream->host_port()},
         "the mirror accepted a push (POST blobs/uploads/ 202)"},
    };
    for (const auto& c : cases) {
        const ChapterRun run = run_chapter(program, c.args, workspace,
                                           {{"WORKBOOK_UPSTREAM_LOG", ""}, {"WORKBOOK_MIRROR_STORAGE", ""}});
        INFO(c.args.back() << " (" << c.args.size() << " args): " << run.result.err);
        test_support::check_refused(program, run.result, c.expected);
    }
    // Inputs are checked before a word of output.
    for (std::size_t i = 0; i < 6; ++i)
        CHECK(run_chapter(program, cases[i].args, workspace, {{"WORKBOOK_UPSTREAM_LOG", ""}, {"WORKBOOK_MIRROR_STORAGE", ""}})
                  .result.out.empty());

    for (const std::vector<std::string>& wrong : {std::vector<std::string>{"--verbose"}, {"a", "b"}, {"--upstream-log"}}) {
        std::vector<std::string> argv{chapter_program(program).string()};
        argv.insert(argv.end(), wrong.begin(), wrong.end());
        const RunResult usage = run_program(argv);
        CHECK(usage.exit_code == 1);
        CHECK(is_one_line(usage.err));
        CHECK_THAT(usage.err, Catch::StartsWith("usage: ") && Catch::Contains("[--upstream-log FILE] [--mirror-storage DIR] [mirror]"));
    }
}

TEST_CASE("chapter 12: distribution#2367: a blob two repositories share expires in one; with the inmemory cache the other gets a cut-off body",
          "[chapter12][native-only]") {
    Workspace workspace("chapter12-2367");
    auto upstream = start_registry({.role = "upstream"}, workspace.path(), "native");
    wbclient::RegistryClient upstream_client(upstream->host_port());
    seed_busybox(upstream_client);
    // The same image under a second name: every blob shared, as base layers are on Docker Hub.
    const std::string other = "library/busybox-copy";
    seed_busybox(upstream_client, other);
    auto redis = start_redis(workspace.path(), {}, "native");

    for (const bool with_redis : {false, true}) {
        DYNAMIC_SECTION("storage.cache.blobdescriptor: " << (with_redis ? "redis" : "inmemory")) {
            RegistrySpec spec = mirror_of(*upstream);
            if (with_redis) spec = with_redis_cache(spec, *redis);
            auto mirror = start_registry(spec, workspace.path() / (with_redis ? "redis" : "inmemory"), "native");
            wbclient::RegistryClient client(mirror->host_port());
            // Both repositories pulled through the mirror: one blob file, a link and a
            // deadline in each repository.
            const Mirrored mirrored = pull_through(client);
            const wbclient::Descriptor& layer = mirrored.blobs.at(1);
            for (const auto& blob : client.get_manifest(other, "latest").parsed.references()) {
                std::string bytes;
                client.fetch_blob(other, blob, [&](const char* data, std::size_t size) { bytes.append(data, size); });
                REQUIRE(wbclient::digest_of(bytes) == blob.digest);
            }
            const std::string key = repository + "@" + layer.digest.str();
            REQUIRE(stored(*mirror, mirrored.blobs));
            REQUIRE(scheduled(*mirror, key));
            REQUIRE(scheduled(*mirror, other + "@" + layer.digest.str()));

            // The layer expires in library/busybox only (its deadline made the past, as in the
            // expiry test), and is deleted: the one data file both repositories link to.
            mirror->stop();
            nlohmann::json state = scheduler_state(*mirror);
            state[key]["ExpiryData"] = "2000-01-01T00:00:00Z";
            std::ofstream(mirror->storage_root() / "scheduler-state.json", std::ios::trunc) << state.dump();
            mirror->start();
            REQUIRE(scheduled(*mirror, key, false));
            CHECK_FALSE(fs::exists(mirror->blob_data(layer.digest)));
            CHECK(fs::exists(mirror->storage_root() / "docker/registry/v2/repositories" / other / "_layers/sha256" /
                             std::string(layer.digest.hex()) / "link"));

            const std::string layer_uri = "/v2/" + other + "/blobs/" + layer.digest.str();
            const std::size_t skip = upstream->access_log().size();
            wbclient::Request head{.method = "HEAD", .url = client.url(other, "blobs/" + layer.digest.str())};
            const wbclient::Response headed = client.http().perform(head);
            CHECK(headed.status == 200);
            CHECK(headed.headers.get("Content-Length").value_or("") == std::to_string(layer.size));
            wbclient::Request get{.method = "GET", .url = head.url};
            if (!with_redis) {
                // The mirror still believes it holds the blob: 200 and the full length, then the
                // connection closes with no body: "unexpected EOF" in Docker. Every time, until
                // the mirror restarts, and the upstream is never asked.
                for (int attempt = 0; attempt < 2; ++attempt)
                    CHECK_THROWS_WITH(client.http().perform(get),
                                      Catch::Contains("the server closed the connection before the whole body arrived"));
                const auto seen = upstream_requests(*upstream, skip);
                INFO("the upstream saw:\n" << summarize(seen));
                CHECK(count(seen, "GET", layer_uri) == 0);
                // A restart empties the in-memory cache: then the mirror fetches it again.
                mirror->stop();
                mirror->start();
            }
            const wbclient::Response fetched = client.http().perform(get);
            CHECK(fetched.status == 200);
            CHECK(wbclient::digest_of(fetched.body) == layer.digest);
            CHECK(test_support::poll_until([&] { return count(upstream_requests(*upstream, skip), "GET", layer_uri) >= 1; },
                                           std::chrono::milliseconds(5000)));
        }
    }
}
