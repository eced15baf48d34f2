// Chapter 13: given a registry 2.8.2 that sends its notifications to the harness's receiver
// (notifications.endpoints), serves Prometheus metrics and health on its debug address and has
// a file health check, when the program pushes, pulls, HEADs, mounts and deletes, then the
// receiver got one event per thing done with the right action, repository, tag, digest, size,
// media type, fromRepository and user agent, within a bounded time; the request counters moved
// by exactly the requests the registry served; and the maintenance file took /v2/ to 503 and
// back, as seen from outside. Beyond the program: the receiver down, failing, hung; the
// registry restarted with events queued; the storage driver check.
// The first case runs on the engine WORKBOOK_ENGINE names: compose.chapter13 runs it with
// docker-compose.yml's registry-host-network service, since a container on the project's
// network cannot reach the receiver on this machine's loopback. The others, tagged
// [native-only], stop and restart the registry or break its storage from outside.
#include "chapter_run.hpp"
#include "event_receiver.hpp"
#include "registry_instance.hpp"
#include "rootfs_comparison.hpp"
#include "scripted_server.hpp"
#include "test_support.hpp"

#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/model/prometheus_text.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

using namespace harness;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// A duration in whole milliseconds: what a failed check then prints.
template <class Duration>
long long ms(Duration duration) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

const std::string program = "13_watching_the_registry";
const std::string user_agent = wbclient::HttpClient::default_user_agent;

// A registry that reports to `receiver` (timeout, threshold, backoff as given) and checks its
// storage driver and `maintenance` every second.
nlohmann::json watched_config(const EventReceiver& receiver, const std::string& maintenance,
                              std::chrono::milliseconds timeout = 1000ms, int threshold = 3,
                              std::chrono::milliseconds backoff = 1000ms) {
    nlohmann::json patch = receiver.endpoint_config("receiver", timeout, threshold, backoff);
    patch["health"] = {{"storagedriver", {{"enabled", true}, {"interval", "1s"}, {"threshold", 1}}},
                       {"file", {{{"file", maintenance}, {"interval", "1s"}}}}};
    return patch;
}

wbclient::MetricsText metrics_of(const RegistryInstance& registry) {
    wbclient::HttpClient http;
    const auto response = http.perform({.url = registry.debug_url() + "/metrics"});
    REQUIRE(response.status == 200);
    return wbclient::parse_metrics_text(response.body);
}

// The one notification endpoint's counters in /debug/vars: Pending, Events, Successes, ...
nlohmann::json endpoint_metrics(const RegistryInstance& registry) {
    wbclient::HttpClient http;
    const auto response = http.perform({.url = registry.debug_url() + "/debug/vars"});
    REQUIRE(response.status == 200);
    return nlohmann::json::parse(response.body).at("registry").at("notifications").at("endpoints").at(0).at("Metrics");
}

std::pair<long, std::string> get(const std::string& url) {
    wbclient::HttpClient http;
    const auto response = http.perform({.url = url});
    return {response.status, response.body};
}

// The handler label 2.8.2 gives a request (registry/handlers: base, blob, blob_upload, ...).
std::string handler_of(const ObservedExchange& exchange) {
    const std::string path = exchange.path();
    if (path == "/v2/") return "base";
    if (path.ends_with("/_catalog")) return "catalog";
    if (path.ends_with("/tags/list")) return "tags";
    if (path.find("/manifests/") != std::string::npos) return "manifest";
    if (path.ends_with("/blobs/uploads/")) return "blob_upload";
    if (path.find("/blobs/uploads/") != std::string::npos) return "blob_upload_chunk";
    if (path.find("/blobs/") != std::string::npos) return "blob";
    return "?";
}

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

// registry_http_requests_total by "handler method code", as moved between two readings.
std::map<std::string, double> request_deltas(const wbclient::MetricsText& before, const wbclient::MetricsText& after) {
    std::map<std::string, double> deltas;
    for (const auto& sample : after.samples)
        if (sample.name == "registry_http_requests_total")
            deltas[sample.label("handler") + " " + sample.label("method") + " " + sample.label("code")] += sample.value;
    for (const auto& sample : before.samples)
        if (sample.name == "registry_http_requests_total")
            deltas[sample.label("handler") + " " + sample.label("method") + " " + sample.label("code")] -= sample.value;
    std::erase_if(deltas, [](const auto& entry) { return entry.second == 0; });
    return deltas;
}

std::map<std::string, double> counted(const std::vector<ObservedExchange>& exchanges) {
    std::map<std::string, double> counts;
    for (const auto& exchange : exchanges)
        counts[handler_of(exchange) + " " + lower(exchange.method) + " " + std::to_string(exchange.status)] += 1;
    return counts;
}

std::string describe(const std::map<std::string, double>& counts) {
    std::string text;
    for (const auto& [key, value] : counts) text += "  " + key + ": " + std::to_string(static_cast<long>(value)) + "\n";
    return text;
}

std::string describe(const std::vector<ReceivedEvent>& events) {
    std::string text;
    for (const auto& e : events)
        text += "  " + e.action + " " + e.repository + (e.tag.empty() ? "" : ":" + e.tag) + " " + e.digest + " " +
                e.request_method + " " + e.id + "\n";
    return text;
}

// The events of `events` in `repository` with `action`.
std::vector<ReceivedEvent> with(const std::vector<ReceivedEvent>& events, const std::string& action,
                                const std::string& repository) {
    std::vector<ReceivedEvent> found;
    for (const auto& event : events)
        if (event.action == action && event.repository == repository) found.push_back(event);
    return found;
}

// A pull event each: HEAD of a blob the registry has, `count` times.
void head_blob(wbclient::RegistryClient& client, const wbclient::Digest& digest, int count) {
    for (int i = 0; i < count; ++i) REQUIRE(client.blob_size("watch/events", digest));
}

// Where every queue case starts: a watched registry (natively: these cases stop, restart or
// hang what the registry talks to), a blob in watch/events, and its push event received.
struct Watched {
    EventReceiver receiver;
    std::unique_ptr<RegistryInstance> registry;
    wbclient::RegistryClient client;
    wbclient::Digest digest;

    explicit Watched(const Workspace& workspace)
        : registry(start_registry({.role = "registry",
                                   .config_patch = watched_config(receiver, (workspace.path() / "maintenance").string())},
                                  workspace.path(), "native")),
          client(registry->host_port()),
          digest(wbclient::digest_of(std::string("an event per HEAD"))) {
        client.push_blob("watch/events", std::string("an event per HEAD"));
        REQUIRE(receiver.wait_for_events(1, 5000ms));
        // The receiver holds the event once it has read the POST, a moment before the registry
        // reads the 200: wait for the registry to count it delivered, or a case that stops the
        // receiver now cuts that answer off and the push event comes again (seen under ASan).
        REQUIRE(test_support::poll_until([&] { return endpoint_metrics(*registry).at("Successes") == 1; }, 5000ms));
    }
};

}  // namespace

TEST_CASE("chapter 13: every push, pull, HEAD, mount and delete arrives as an event; counters and health seen from outside", "[chapter13]") {
    Workspace workspace("chapter13");
    EventReceiver receiver;
    // The maintenance file lies in the registry's storage folder, which a compose registry sees
    // at /var/lib/registry: health.file names it as the registry sees it.
    const StorageFiles storage{workspace.path(), engine_from_environment()};
    const fs::path maintenance = storage.on_host("maintenance");
    auto registry = start_registry({.role = "registry",
                                    .config_patch = watched_config(receiver, storage.in_registry("maintenance")),
                                    .host_network = true},
                                   workspace.path());
    REQUIRE(registry->engine() == engine_from_environment());
    const auto before = metrics_of(*registry);
    const std::size_t log_lines = registry->access_log().size();

    const ChapterRun run = run_chapter(program, {"--debug", registry->debug_url(), "--receiver", receiver.url(),
                                                 "--maintenance-file", maintenance.string(), registry->host_port()},
                                       workspace);
    INFO(run.result.out << run.result.err << "client saw:\n" << summarize(run.transcript));
    REQUIRE(run.result.exit_code == 0);
    CHECK(run.result.err.empty());
    const auto after = metrics_of(*registry);
    std::vector<ObservedExchange> to_registry;
    for (const auto& exchange : run.transcript)
        if (exchange.host == registry->host_port()) to_registry.push_back(exchange);

    SECTION("the receiver got one event per thing done, each with the right fields, in order, within 2 s") {
        const auto events = receiver.events();
        INFO("received:\n" << describe(events));
        // What the program's requests were: the manifest PUT, the blob uploads' final PUTs.
        const auto manifest_put = select(to_registry, "PUT", "/v2/watch/app/manifests/1.0");
        REQUIRE(manifest_put.size() == 1);
        const std::string manifest_digest = manifest_put[0].response_header("Docker-Content-Digest").value_or("");
        const auto manifest_get = select(to_registry, "GET", "/v2/watch/app/manifests/1.0");
        REQUIRE(manifest_get.size() == 1);
        std::map<std::string, std::uint64_t> uploaded;  // digest -> size, as the client sent it
        for (const auto& put : select(to_registry, "PUT", "/v2/watch/app/blobs/uploads/"))
            uploaded[put.response_header("Docker-Content-Digest").value_or("")] = put.bytes_sent;
        REQUIRE(uploaded.size() == 2);

        // Pushes: both blobs (by PUT, as application/octet-stream: 2.8.2 does not know a blob's
        // type), then the manifest with its tag and type.
        const auto pushes = with(events, "push", "watch/app");
        REQUIRE(pushes.size() == 3);
        for (int i = 0; i < 2; ++i) {
            REQUIRE(uploaded.contains(pushes[i].digest));
            CHECK(pushes[i].size == uploaded[pushes[i].digest]);
            CHECK(pushes[i].media_type == "application/octet-stream");
            CHECK(pushes[i].tag.empty());
            CHECK(pushes[i].request_method == "PUT");
        }
        CHECK(pushes[2].digest == manifest_digest);
        CHECK(pushes[2].tag == "1.0");
        CHECK(pushes[2].media_type == "application/vnd.oci.image.manifest.v1+json");
        CHECK(pushes[2].size == manifest_get[0].bytes_received);
        CHECK(pushes[2].url == registry->url() + "/v2/watch/app/manifests/" + manifest_digest);

        // Pulls: the manifest by tag (GET), both blobs (GET), the manifest again (HEAD).
        const auto pulls = with(events, "pull", "watch/app");
        REQUIRE(pulls.size() == 4);
        CHECK(pulls[0].digest == manifest_digest);
        CHECK(pulls[0].tag == "1.0");
        CHECK(pulls[0].request_method == "GET");
        CHECK(std::set{pulls[1].digest, pulls[2].digest} == std::set{uploaded.begin()->first, uploaded.rbegin()->first});
        CHECK(pulls[1].request_method == "GET");
        CHECK(pulls[3].digest == manifest_digest);
        CHECK(pulls[3].request_method == "HEAD");
        CHECK(pulls[3].tag == "1.0");

        // The mount: into watch/copy, from watch/app, by POST; the layer's digest and size.
        const auto mounts = with(events, "mount", "watch/copy");
        REQUIRE(mounts.size() == 1);
        CHECK(mounts[0].from_repository == "watch/app");
        CHECK(mounts[0].request_method == "POST");
        REQUIRE(uploaded.contains(mounts[0].digest));
        CHECK(mounts[0].size == uploaded[mounts[0].digest]);

        // One DELETE by digest, two events: the manifest (digest only) and its tag (tag only).
        const auto deletes = with(events, "delete", "watch/app");
        REQUIRE(deletes.size() == 2);
        CHECK(deletes[0].digest == manifest_digest);
        CHECK(deletes[0].tag.empty());
        CHECK(deletes[0].media_type.empty());
        CHECK(deletes[1].digest.empty());
        CHECK(deletes[1].tag == "1.0");
        for (const auto& event : deletes) CHECK(event.request_method == "DELETE");

        // Nothing else, in the order done; every event names the program as the client, has its
        // own id, and arrived within 2 s of the registry making it.
        CHECK(events.size() == 10);
        std::vector<std::string> actions;
        std::set<std::string> ids;
        for (const auto& event : events) {
            actions.push_back(event.action);
            ids.insert(event.id);
            CHECK(event.user_agent == user_agent);
            // The rest of what 2.8.2 sends: the request's id, address and host, an empty actor
            // (no auth), the registry as source; a target's length repeats its size.
            CHECK(event.raw.at("request").at("id").get<std::string>().size() == 36);
            CHECK(event.raw.at("request").at("host") == registry->host_port());
            CHECK(event.raw.at("request").at("addr").get<std::string>().starts_with("127.0.0.1:"));
            CHECK(event.raw.at("actor") == nlohmann::json::object());
            CHECK(event.raw.at("source").contains("addr"));
            CHECK(event.raw.at("source").at("instanceID").get<std::string>().size() == 36);
            if (event.raw["target"].contains("size")) CHECK(event.raw["target"].at("length") == event.raw["target"].at("size"));
            CHECK(event.latency.count() >= 0);
            CHECK(ms(event.latency) < 2000);
        }
        CHECK(actions == std::vector<std::string>{"push", "push", "push", "pull", "pull", "pull", "pull", "mount", "delete", "delete"});
        CHECK(ids.size() == events.size());
        // One event per POST, as application/vnd.docker.distribution.events.v1+json from Go.
        for (const auto& delivery : receiver.deliveries()) {
            CHECK(delivery.content_type == "application/vnd.docker.distribution.events.v1+json");
            CHECK(delivery.user_agent.starts_with("Go-http-client/"));
            CHECK(delivery.envelope["events"].size() == 1);
            CHECK(delivery.target == "/events");
        }
        // From the request (as the registry logged its start) to the receiver: under 2 s too.
        const auto served = registry->access_log();
        const auto put = std::find_if(served.begin() + static_cast<long>(log_lines), served.end(), [](const ObservedExchange& e) {
            return e.method == "PUT" && e.uri == "/v2/watch/app/manifests/1.0";
        });
        REQUIRE(put != served.end());
        const auto received = receiver.deliveries()[pushes[2].delivery].received;
        CHECK(ms(received - put->started()) < 2000);
        CHECK(received >= put->started());
        // The program printed what it received, one line per event.
        CHECK_THAT(run.result.out, Catch::Contains("mount  watch/copy " + mounts[0].digest) &&
                                       Catch::Contains("from watch/app, POST by " + user_agent) && Catch::Contains("\n10 events.\n"));

        // The image it pushed, unpacked by our library, is the rootfs umoci unpacks. The program
        // deleted it, so the registry no longer serves it; its storage still holds every byte
        // (nothing collected it). In this SECTION, not beside it: a SECTION of its own would
        // run the program once more.
        const auto layout = test_support::layout_from_storage(*registry, wbclient::Digest::parse(manifest_digest),
                                                              workspace.path() / "watched.oci", "1.0");
        const auto tree = test_support::check_same_rootfs_as_umoci(layout, "1.0", workspace.path() / "unpacked");
        REQUIRE(tree.count("greeting.txt"));
        CHECK_THAT(tree.at("greeting.txt"), Catch::Contains(wbclient::digest_of("watched\n").str()));
    }

    SECTION("the program's own reading of the counters agrees with the requests it sent after its first reading") {
        // Its first reading came after its ping: 13 requests from there to its second one.
        const std::size_t ping = 0, first_metrics = 1;
        REQUIRE(run.transcript.size() > first_metrics);
        CHECK(run.transcript[ping].path() == "/v2/");
        CHECK(run.transcript[first_metrics].path() == "/metrics");
        std::size_t between = 0;
        for (std::size_t i = first_metrics + 1; i < run.transcript.size() && run.transcript[i].path() != "/metrics"; ++i)
            between += run.transcript[i].host == registry->host_port();
        CHECK_THAT(run.result.out, Catch::Contains("registry_http_requests_total moved by " + std::to_string(between) +
                                                   "; this program sent " + std::to_string(between) + " requests to the registry"));
    }

    SECTION("registry_http_requests_total moved by exactly the requests the registry served the program") {
        const auto deltas = request_deltas(before, after);
        // What the registry logged for the program (its polls of /v2/ included, which the
        // transcript leaves out), up to the 503s of maintenance: health refusals are answered
        // before the app, so neither logged nor counted.
        std::vector<ObservedExchange> served;
        const auto all = registry->access_log();
        for (std::size_t i = log_lines; i < all.size(); ++i)
            if (all[i].user_agent != harness_user_agent) served.push_back(all[i]);
        INFO("counters moved:\n" << describe(deltas) << "registry logged:\n" << describe(counted(served)));
        CHECK(deltas == counted(served));
        // Every request but the /v2/ polls is in the client's transcript, with the same status.
        std::map<std::string, double> recorded = counted(to_registry);
        std::erase_if(recorded, [](const auto& entry) { return entry.first.starts_with("base ") || entry.first.ends_with(" 503"); });
        auto without_base = deltas;
        std::erase_if(without_base, [](const auto& entry) { return entry.first.starts_with("base "); });
        CHECK(without_base == recorded);
        // The maintenance 503s the client saw were neither counted nor logged.
        CHECK(select(to_registry, "GET", "/v2/").size() >= 2);
        CHECK(std::none_of(deltas.begin(), deltas.end(), [](const auto& entry) { return entry.first.ends_with(" 503"); }));
        CHECK(deltas.at("manifest put 201") == 1);
        CHECK(deltas.at("blob_upload post 201") == 1);  // the mount
        CHECK(deltas.at("manifest delete 202") == 1);
        // The blob-descriptor cache: every lookup is a hit or a miss.
        const double requests = after.sum("registry_storage_cache_total", {{"type", "Request"}}) -
                                before.sum("registry_storage_cache_total", {{"type", "Request"}});
        const double hits = after.sum("registry_storage_cache_total", {{"type", "Hit"}}) - before.sum("registry_storage_cache_total", {{"type", "Hit"}});
        const double misses = after.sum("registry_storage_cache_total", {{"type", "Miss"}}) - before.sum("registry_storage_cache_total", {{"type", "Miss"}});
        CHECK(requests > 0);
        CHECK(requests == hits + misses);
        CHECK(after.type_of.at("registry_http_requests_total") == "counter");
    }

    SECTION("maintenance: /v2/ went 503 UNAVAILABLE and back, /debug/health named the file, nothing left behind") {
        std::vector<long> statuses;
        for (const auto& exchange : select(to_registry, "GET", "/v2/"))
            if (exchange.path() == "/v2/") statuses.push_back(exchange.status);
        CHECK(statuses == std::vector<long>{200, 503, 200});
        std::vector<long> health;
        for (const auto& exchange : select(run.transcript, "GET", "/debug/health")) health.push_back(exchange.status);
        CHECK(health == std::vector<long>{200, 503, 200});
        CHECK_FALSE(fs::exists(maintenance));
        CHECK(get(registry->debug_url() + "/debug/health") == std::pair<long, std::string>{200, "{}"});
        CHECK_THAT(run.result.out, Catch::Contains("/debug/health: 503 {\"" + storage.in_registry("maintenance") + "\":\"file exists\"}") &&
                                       Catch::Contains("GET /v2/: 503 UNAVAILABLE"));
        // A file check every second: seen within about a second each way.
        for (const std::string prefix : {"/v2/ answered 503 after ", "/v2/ answered 200 after "}) {
            const auto at = run.result.out.find(prefix);
            REQUIRE(at != std::string::npos);
            CHECK(std::stol(run.result.out.substr(at + prefix.size())) < 2500);
        }
        // The endpoint's own counters: every event delivered, none pending.
        const auto metrics = endpoint_metrics(*registry);
        CHECK(metrics.at("Pending") == 0);
        CHECK(metrics.at("Successes") == 10);
        CHECK_THAT(run.result.out, Catch::Contains("receiver " + receiver.url() + ": 10 events, 10 delivered, 0 failures, 0 errors, 0 pending"));
    }
}

TEST_CASE("chapter 13: health checks seen from outside: the maintenance file and the storage driver", "[chapter13][native-only]") {
    Workspace workspace("chapter13-health");
    EventReceiver receiver;
    const fs::path maintenance = workspace.path() / "maintenance";
    auto registry = start_registry({.role = "registry", .config_patch = watched_config(receiver, maintenance.string())},
                                   workspace.path(), "native");
    const std::string v2 = registry->url() + "/v2/";
    const std::string health = registry->debug_url() + "/debug/health";
    CHECK(get(health) == std::pair<long, std::string>{200, "{}"});

    // How long until a change is seen from outside: the check runs every second.
    const auto seen_within = [&](long status) {
        const auto started = std::chrono::steady_clock::now();
        const bool seen = test_support::poll_until([&] { return get(v2).first == status; }, 5000ms);
        const auto took = std::chrono::steady_clock::now() - started;
        CHECK(seen);
        CHECK(ms(took) < 2500);
        return took;
    };

    std::ofstream(maintenance) << "down\n";
    seen_within(503);
    const auto [status, body] = get(v2);
    CHECK(status == 503);
    CHECK(nlohmann::json::parse(body)["errors"][0]["code"] == "UNAVAILABLE");
    CHECK(nlohmann::json::parse(body)["errors"][0]["detail"] == "health check failed: please see /debug/health");
    CHECK(get(health) == std::pair<long, std::string>{503, nlohmann::json{{maintenance.string(), "file exists"}}.dump()});
    // Every route answers 503 in maintenance, not only /v2/.
    CHECK(get(registry->url() + "/v2/_catalog").first == 503);
    fs::remove(maintenance);
    seen_within(200);

    // The storage driver check: a storage root that cannot be stat'ed (a symlink loop; root
    // ignores permissions, and a missing root counts as healthy).
    const fs::path root = registry->storage_root();
    fs::rename(root, root.string() + ".away");
    fs::create_symlink(root.filename(), root);
    seen_within(503);
    const auto [bad_status, bad_body] = get(health);
    CHECK(bad_status == 503);
    const auto checks = nlohmann::json::parse(bad_body);
    REQUIRE(checks.contains("storagedriver_filesystem"));
    CHECK_THAT(checks["storagedriver_filesystem"].get<std::string>(), Catch::Contains("too many levels of symbolic links"));
    fs::remove(root);
    fs::rename(root.string() + ".away", root);
    seen_within(200);
    CHECK(get(health) == std::pair<long, std::string>{200, "{}"});
}

TEST_CASE("chapter 13: the receiver down: events queue, are retried every backoff, and none is lost when it returns", "[chapter13][native-only]") {
    Workspace workspace("chapter13-down");
    Watched watched(workspace);
    auto& [receiver, registry, client, digest] = watched;

    receiver.stop();
    const std::size_t log_before = registry->log().size();
    constexpr int count = 10;
    head_blob(client, digest, count);
    // The backlog, as an operator sees it: Pending in /debug/vars.
    CHECK(test_support::poll_until([&] { return endpoint_metrics(*registry).at("Pending") == count; }, 5000ms));
    std::this_thread::sleep_for(3500ms);
    const auto down = endpoint_metrics(*registry);
    INFO("while down: " << down.dump());
    CHECK(down.at("Pending") == count);
    CHECK(down.at("Successes") == 1);
    // Connection refused is an error (no status), not a failure: threshold errors in a row, then
    // one more try per backoff (1 s): about 3 + 3.5 in 3.5 s.
    CHECK(down.at("Errors").get<int>() >= 4);
    CHECK(down.at("Errors").get<int>() <= 10);
    CHECK(down.at("Failures") == 0);
    const std::string log = registry->log().substr(log_before);
    CHECK_THAT(log, Catch::Contains("retryingsink: error writing events") && Catch::Contains("connect: connection refused") &&
                        Catch::Contains("encountered too many errors, backing off"));

    const auto back = std::chrono::steady_clock::now();
    receiver.start();
    REQUIRE(receiver.wait_for_events(1 + count, 5000ms));
    const auto first_delivery = receiver.deliveries()[1].received_steady;
    // The next try after the receiver returned: within one backoff.
    CHECK(ms(first_delivery - back) < 1500);
    std::this_thread::sleep_for(1000ms);  // anything more would come now
    const auto events = receiver.events();
    INFO(describe(events));
    // Every queued event exactly once, in the order the HEADs were made. At-least-once would
    // allow a duplicate (an event whose 200 the registry did not see); a refused connection
    // never reaches the receiver, so none is.
    REQUIRE(events.size() == 1 + count);
    std::set<std::string> ids;
    for (int i = 1; i <= count; ++i) {
        CHECK(events[i].action == "pull");
        CHECK(events[i].request_method == "HEAD");
        ids.insert(events[i].id);
        if (i > 1) CHECK(parse_event_time(events[i].timestamp) >= parse_event_time(events[i - 1].timestamp));
    }
    CHECK(ids.size() == count);
    const auto after = endpoint_metrics(*registry);
    CHECK(after.at("Pending") == 0);
    CHECK(after.at("Successes") == 1 + count);
}

TEST_CASE("chapter 13: a receiver answering 500 gets each event again until it takes it", "[chapter13][native-only]") {
    Workspace workspace("chapter13-500");
    Watched watched(workspace);
    auto& [receiver, registry, client, digest] = watched;

    receiver.set_mode(EventReceiver::Mode::fail);
    head_blob(client, digest, 3);
    REQUIRE(receiver.wait_for_deliveries(1 + 5, 10000ms));
    const auto failing = endpoint_metrics(*registry);
    INFO("while failing: " << failing.dump());
    // A 500 is a failure (a status came back), counted by status; the event stays queued.
    CHECK(failing.at("Failures").get<int>() >= 5);
    CHECK(failing.at("Statuses").at("500 Internal Server Error").get<int>() >= 5);
    CHECK(failing.at("Pending") == 3);
    CHECK(test_support::poll_until([&] { return registry->log().find("response status 500 Internal Server Error unaccepted") != std::string::npos; },
                                   3000ms));
    // Head of line: every failed POST carried the first queued event, never the ones behind it.
    const auto deliveries = receiver.deliveries();
    const std::string first_id = deliveries[1].envelope["events"][0]["id"];
    for (std::size_t i = 1; i < deliveries.size(); ++i) CHECK(deliveries[i].envelope["events"][0]["id"] == first_id);

    receiver.set_mode(EventReceiver::Mode::accept);
    REQUIRE(receiver.wait_for_events(1 + 3, 5000ms));
    std::this_thread::sleep_for(1000ms);
    const auto events = receiver.events();
    REQUIRE(events.size() == 4);
    CHECK(events[1].id == first_id);
    // The receiver saw the first event several times (once per 500) and took it once: a receiver
    // that acts before it answers must be idempotent on the event id.
    std::map<std::string, int> posted;
    for (const auto& delivery : receiver.deliveries()) ++posted[delivery.envelope["events"][0]["id"]];
    CHECK(posted[first_id] >= 6);
    CHECK(posted[events[2].id] == 1);
    CHECK(posted[events[3].id] == 1);
    CHECK(endpoint_metrics(*registry).at("Pending") == 0);
}

TEST_CASE("chapter 13: a receiver that never answers blocks the queue, not the clients", "[chapter13][native-only]") {
    Workspace workspace("chapter13-hung");
    Watched watched(workspace);
    auto& [receiver, registry, client, digest] = watched;

    receiver.set_mode(EventReceiver::Mode::never_answer);
    // The clients do not wait for the receiver: each HEAD is answered at once.
    for (int i = 0; i < 5; ++i) {
        const auto started = std::chrono::steady_clock::now();
        head_blob(client, digest, 1);
        CHECK(ms(std::chrono::steady_clock::now() - started) < 500);
    }
    // The registry gives up on each POST after the endpoint's timeout (1 s) and tries again.
    REQUIRE(receiver.wait_for_deliveries(1 + 3, 8000ms));
    const auto deliveries = receiver.deliveries();
    const auto gap = deliveries[3].received_steady - deliveries[2].received_steady;
    CHECK(ms(gap) >= 900);
    CHECK(ms(gap) < 2500);
    const std::string first_id = deliveries[1].envelope["events"][0]["id"];
    for (std::size_t i = 1; i < deliveries.size(); ++i) {
        CHECK(deliveries[i].answered == 0);
        CHECK(deliveries[i].envelope["events"][0]["id"] == first_id);
    }
    const auto hung = endpoint_metrics(*registry);
    INFO("while hung: " << hung.dump());
    CHECK(hung.at("Pending") == 5);
    CHECK(hung.at("Errors").get<int>() >= 2);
    // (The registry logs the timeout after it gave up: the line can trail the next POST.)
    CHECK(test_support::poll_until([&] { return registry->log().find("Client.Timeout exceeded while awaiting headers") != std::string::npos; },
                                   3000ms));

    receiver.set_mode(EventReceiver::Mode::accept);
    REQUIRE(receiver.wait_for_events(1 + 5, 5000ms));
    std::this_thread::sleep_for(1000ms);
    const auto events = receiver.events();
    CHECK(events.size() == 6);
    CHECK(events[1].id == first_id);
    CHECK(endpoint_metrics(*registry).at("Pending") == 0);
}

TEST_CASE("chapter 13: events queued when the registry restarts are lost", "[chapter13][native-only]") {
    Workspace workspace("chapter13-restart");
    Watched watched(workspace);
    auto& [receiver, registry, client, digest] = watched;

    receiver.stop();
    head_blob(client, digest, 5);
    REQUIRE(test_support::poll_until([&] { return endpoint_metrics(*registry).at("Pending") == 5; }, 5000ms));
    // A clean shutdown (SIGTERM), as an operator restarts: the queue lives in memory only.
    registry->stop();
    registry->start();
    receiver.start();
    std::this_thread::sleep_for(3000ms);  // three backoffs: a surviving event would be here
    CHECK(receiver.events().size() == 1);
    const auto metrics = endpoint_metrics(*registry);
    CHECK(metrics.at("Pending") == 0);
    CHECK(metrics.at("Events") == 0);
    // What a receiver does after a gap: reconcile from the registry itself. The catalog still
    // lists the repository whose five pulls were never reported.
    CHECK_THAT(get(registry->url() + "/v2/_catalog").second, Catch::Contains("watch/events"));
    // The new registry reports again at once.
    head_blob(client, digest, 1);
    CHECK(receiver.wait_for_events(2, 5000ms));
}

TEST_CASE("chapter 13: bad input gets a one-line error and a non-zero exit, and leaves no maintenance file", "[chapter13][native-only]") {
    Workspace workspace("chapter13-bad");
    EventReceiver receiver;
    const fs::path maintenance = workspace.path() / "maintenance";
    auto registry = start_registry({.role = "registry", .config_patch = watched_config(receiver, maintenance.string())},
                                   workspace.path(), "native");
    const std::string debug = registry->debug_url();
    const std::string r = registry->host_port();
    const std::string m = maintenance.string();
    // A debug address whose /metrics is garbage.
    ScriptedServer garbage([](const std::string&, const std::string&) {
        return ScriptedResponse{.status = 200, .body = "registry_http_requests_total{code=\"200\" 7\n"};
    });
    // A debug address whose metrics and vars are the registry's, and whose health stalls.
    ScriptedServer stalled(RequestHandler([&](const ScriptedRequest& request) {
        if (request.target == "/debug/health") return ScriptedResponse{.delivery = ScriptedResponse::Delivery::never_answer};
        const auto [status, body] = get(debug + request.target);
        return ScriptedResponse{.status = static_cast<unsigned>(status), .body = body};
    }));
    // A registry whose configuration names no receiver: the events never come.
    auto unwatched = start_registry({.role = "registry"}, workspace.path() / "unwatched", "native");
    const fs::path existing = workspace.path() / "already-there";
    std::ofstream(existing) << "x";

    struct Case {
        std::vector<std::string> args;
        std::string expected;
        bool before_output = true;
    };
    const std::vector<Case> cases = {
        {{"--debug", debug, "--receiver", receiver.url(), r}, "no maintenance file: give --maintenance-file FILE"},
        {{"--debug", debug, "--receiver", "not a url", "--maintenance-file", m, r}, "'not a url' is not an http(s) URL"},
        {{"--debug", "ftp://127.0.0.1/", "--receiver", receiver.url(), "--maintenance-file", m, r}, "'ftp://127.0.0.1/' is not an http(s) URL"},
        {{"--debug", debug, "--receiver", receiver.url(), "--maintenance-file", existing.string(), r},
         existing.string() + " exists: the registry is in maintenance already"},
        {{"--debug", debug, "--receiver", receiver.url(), "--maintenance-file", (workspace.path() / "no/such/folder/m").string(), r},
         "its folder does not exist"},
        // The registry's own URL is no receiver: its answer is no list of events.
        {{"--debug", debug, "--receiver", registry->url() + "/v2/", "--maintenance-file", m, r}, "did not answer with a receiver's list of events"},
        {{"--debug", "http://" + garbage.host_port(), "--receiver", receiver.url(), "--maintenance-file", m, r}, "metrics line 1: "},
        {{"--debug", "http://" + stalled.host_port(), "--receiver", receiver.url(), "--maintenance-file", m, r},
         "the server stalled", false},
        {{"--debug", unwatched->debug_url(), "--receiver", receiver.url(), "--maintenance-file", m, unwatched->host_port()},
         "got no event for the delete within 15 s (it got 0): does the registry's notifications.endpoints name it?", false},
    };
    for (const auto& c : cases) {
        const ChapterRun run = run_chapter(program, c.args, workspace,
                                           {{"WORKBOOK_MAINTENANCE_FILE", ""}, {"WORKBOOK_STALL_SECONDS", "2"}}, 60s);
        INFO(c.expected << ": " << run.result.err);
        test_support::check_refused(program, run.result, c.expected);
        if (c.before_output) CHECK(run.result.out.empty());
        CHECK_FALSE(fs::exists(maintenance));
    }
    CHECK(get(registry->url() + "/v2/").first == 200);

    for (const std::vector<std::string>& wrong : {std::vector<std::string>{"--verbose"}, {"a", "b"}, {"--receiver"}}) {
        std::vector<std::string> argv{chapter_program(program).string()};
        argv.insert(argv.end(), wrong.begin(), wrong.end());
        const RunResult usage = run_program(argv);
        CHECK(usage.exit_code == 1);
        CHECK(is_one_line(usage.err));
        CHECK_THAT(usage.err, Catch::StartsWith("usage: ") && Catch::Contains("[--debug URL] [--receiver URL] [--maintenance-file FILE] [registry]"));
    }
}
