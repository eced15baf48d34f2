// Chapter 13: watching the registry. Do the things clients do (push, pull, HEAD, mount,
// delete), then look at them the three ways an operator can without reading the log: the
// events the registry POSTed to a receiver, the Prometheus counters on its debug address, and
// its health checks, including a maintenance file that takes it out of service and back.
//
// Usage: 13_watching_the_registry [--debug URL] [--receiver URL] [--maintenance-file FILE] [registry]
//   e.g. 13_watching_the_registry --debug http://localhost:5006 --receiver http://localhost:5007/events
//        --maintenance-file /srv/registry/maintenance localhost:5000
//   (defaults: $WORKBOOK_DEBUG_URL or http://localhost:5006, $WORKBOOK_RECEIVER or
//   http://localhost:5007/events, $WORKBOOK_MAINTENANCE_FILE, $WORKBOOK_REGISTRY or localhost:5000)
// The registry's config.yml must name the receiver under notifications.endpoints, and the
// maintenance file under health.file. The receiver answers GET with the list of what it got.
#include "program_options.hpp"
#include "wbclient/distribution/debug_server.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/http/url.hpp"
#include "wbclient/image/image_builder.hpp"
#include "wbclient/model/prometheus_text.hpp"
#include "wbclient/transfer/image_transfer.hpp"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

using namespace wbclient;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const char* const usage = "[--debug URL] [--receiver URL] [--maintenance-file FILE] [registry]";

struct ScratchFolder {
    fs::path path = fs::temp_directory_path() / ("watch-demo-" + std::to_string(::getpid()));
    ScratchFolder() { fs::create_directories(path); }
    ~ScratchFolder() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

// The maintenance file exists exactly as long as this does: an error half-way never leaves
// the registry out of service.
struct MaintenanceFile {
    fs::path path;
    explicit MaintenanceFile(fs::path file) : path(std::move(file)) {
        std::ofstream(path) << "down for maintenance\n";
        if (!fs::exists(path)) throw std::runtime_error("cannot create " + path.string());
    }
    ~MaintenanceFile() {
        std::error_code ignored;
        fs::remove(path, ignored);
    }
};

// "2026-12-07T18:47:20.693722345Z" (Go's RFC 3339, UTC, nanoseconds) -> microseconds since the epoch.
long long unix_microseconds(const std::string& text) {
    std::tm tm{};
    std::istringstream in(text.substr(0, 19));
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    if (in.fail() || text.size() < 20 || text.back() != 'Z') throw std::runtime_error("event timestamp '" + text + "' is not RFC 3339 in UTC");
    std::string fraction = text[19] == '.' ? text.substr(20, text.size() - 21) : "";
    fraction.resize(6, '0');  // Go drops trailing zeros; we keep microseconds
    return static_cast<long long>(timegm(&tm)) * 1'000'000 + std::stoll(fraction);
}

// What the receiver got after the first `from` POSTs: its GET ?from=N answers
// {"count": POSTs in all, "deliveries": [...]}, each delivery with when it arrived
// (received_unix_us), how it was answered and the envelope the registry sent.
nlohmann::json receiver_deliveries(HttpClient& http, const Url& receiver, std::size_t from) {
    const Response response = perform_expecting(http, {.method = "GET", .url = receiver.str() + "?from=" + std::to_string(from)}, {200});
    const nlohmann::json answer = nlohmann::json::parse(response.body, nullptr, false);
    if (!answer.is_object() || !answer.contains("count") || !answer["count"].is_number_unsigned() || !answer.contains("deliveries") ||
        !answer["deliveries"].is_array())
        throw std::runtime_error(receiver.str() + " did not answer with a receiver's list of events");
    return answer;
}

// The events of the deliveries the receiver accepted (200), each with the time its envelope arrived.
std::vector<nlohmann::json> accepted_events(const nlohmann::json& deliveries) {
    std::vector<nlohmann::json> events;
    for (const nlohmann::json& delivery : deliveries) {
        if (delivery.value("answered", 0) != 200) continue;
        for (nlohmann::json event : delivery.at("envelope").at("events")) {
            event["received_unix_us"] = delivery.at("received_unix_us");
            events.push_back(std::move(event));
        }
    }
    return events;
}

// One counter family's samples by their labels: `registry_http_requests_total` keyed by
// {code="200",handler="blob",method="get"}.
std::map<std::string, double> by_labels(const MetricsText& metrics, const std::string& name) {
    std::map<std::string, double> values;
    for (const MetricSample& sample : metrics.samples) {
        if (sample.name != name) continue;
        std::string key;
        for (const auto& [label, value] : sample.labels) key += (key.empty() ? "" : ",") + label + "=\"" + value + "\"";
        values[key] += sample.value;
    }
    return values;
}

// Prints what moved between two readings of one counter family; returns the total.
double print_deltas(const MetricsText& before, const MetricsText& after, const std::string& name) {
    const auto old_values = by_labels(before, name);
    double total = 0;
    for (const auto& [labels, value] : by_labels(after, name)) {
        const auto old_value = old_values.find(labels);
        const double delta = value - (old_value == old_values.end() ? 0 : old_value->second);
        if (delta == 0) continue;
        std::cout << "  " << name << "{" << labels << "}  +" << static_cast<long long>(delta) << "\n";
        total += delta;
    }
    return total;
}

// Polls GET /v2/ with a client of its own (not recorded: the number of polls differs each run)
// until it answers `status`; returns how long that took, or throws after `limit`.
// The poller is a client of its own with no observers: its many GETs are neither recorded nor
// counted against the metrics.
std::chrono::milliseconds time_until_v2_answers(RegistryClient& poller, long status, std::chrono::seconds limit, const std::string& why) {
    const auto started = Clock::now();
    while (ping_checking_scheme(poller).status != status) {
        if (Clock::now() - started > limit) throw std::runtime_error(why);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
}

}  // namespace

int main(int argc, char* argv[]) try {
    std::string debug_text = workbook::environment_value("WORKBOOK_DEBUG_URL");
    std::string receiver_text = workbook::environment_value("WORKBOOK_RECEIVER");
    std::string maintenance_text = workbook::environment_value("WORKBOOK_MAINTENANCE_FILE");
    if (debug_text.empty()) debug_text = "http://localhost:5006";
    if (receiver_text.empty()) receiver_text = "http://localhost:5007/events";
    std::string registry = workbook::default_registry();
    for (int i = 1, positional = 0; i < argc; ++i) {
        const std::string argument = argv[i];
        if ((argument == "--debug" || argument == "--receiver" || argument == "--maintenance-file") && i + 1 < argc)
            (argument == "--debug" ? debug_text : argument == "--receiver" ? receiver_text : maintenance_text) = argv[++i];
        else if (argument.starts_with("-") || positional++ > 0) {
            std::cerr << "usage: " << argv[0] << " " << usage << "   e.g. --debug http://localhost:5006 --receiver http://localhost:5007/events --maintenance-file /srv/registry/maintenance localhost:5000\n";
            return EXIT_FAILURE;
        } else registry = argument;
    }
    if (maintenance_text.empty()) throw std::invalid_argument("no maintenance file: give --maintenance-file FILE (the registry's health.file) or set WORKBOOK_MAINTENANCE_FILE");

    //! [open]
    // Every input is checked before a word of output: two URLs, a maintenance file that does
    // not exist yet (else the registry is in maintenance already), a registry that answers, a
    // receiver that lists events and a debug address that serves metrics.
    const Url receiver(receiver_text);
    const Url debug(debug_text);
    const fs::path maintenance = maintenance_text;
    if (fs::exists(maintenance)) throw std::invalid_argument(maintenance_text + " exists: the registry is in maintenance already; remove it first");
    if (!fs::is_directory(fs::absolute(maintenance).parent_path())) throw std::invalid_argument(maintenance_text + ": its folder does not exist");
    // The registry's requests are counted here, so the counters can be checked against them.
    std::map<std::string, int> sent;
    ClientOptions options = workbook::client_options();
    options.observers.push_back([&](const Exchange& exchange) { ++sent[exchange.method]; });
    RegistryClient client(registry, options);
    client.ping();
    HttpClient debug_http(workbook::client_options());  // recorded, not counted
    HttpClient receiver_http;                            // polled, so neither
    const std::size_t seen_before = receiver_deliveries(receiver_http, receiver, 0)["count"].get<std::size_t>();
    const MetricsText before = fetch_metrics(debug_http, debug.str());
    sent.clear();  // from here on, every request the registry serves us should be counted
    //! [open]

    //! [traffic]
    // What clients do all day: push an image, pull it, HEAD it, mount its layer into another
    // repository, delete it.
    const ScratchFolder scratch;
    LayerBuilder files;
    files.add_file("greeting.txt", "watched\n");
    const BuiltImage image = assemble_image({}, {{files.write(scratch.path / "layer.tar.gz"), "ADD greeting.txt /"}});
    const std::string host = Url(client.base_url()).authority();
    std::cout << "== Traffic: push, pull, HEAD, mount, delete\n";
    push_image(client, Reference::parse(host + "/watch/app:1.0"), image);
    const FetchedManifest pulled = client.get_manifest("watch/app", "1.0");
    for (const Descriptor& blob : pulled.parsed.references()) client.fetch_blob("watch/app", blob, [](const char*, std::size_t) {});
    const ManifestSummary head = head_manifest(client, "watch/app", "1.0");
    const Descriptor& layer = image.layers[0].built.blob;
    if (!request_mount(client, "watch/copy", layer.digest, "watch/app").mounted)
        throw std::runtime_error("the registry did not mount " + layer.digest.str() + " from watch/app");
    delete_manifest(client, "watch/app", pulled.digest);
    std::cout << "pushed, pulled and deleted watch/app:1.0 " << pulled.digest.str() << " (HEAD: " << head.size
              << " bytes), mounted its layer into watch/copy\n";
    //! [traffic]

    //! [events]
    // The registry POSTs each event to the receiver from a queue of its own, after answering
    // the client. Wait (up to 15 s) for the last thing we did, the delete of the tag.
    std::cout << "\n== Events the receiver got\n";
    std::vector<nlohmann::json> events;
    for (const auto started = Clock::now();; std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
        events = accepted_events(receiver_deliveries(receiver_http, receiver, seen_before)["deliveries"]);
        const bool done = std::any_of(events.begin(), events.end(), [](const nlohmann::json& event) {
            return event.value("action", "") == "delete" && event["target"].value("tag", "") == "1.0";
        });
        if (done) break;
        if (Clock::now() - started > std::chrono::seconds(15))
            throw std::runtime_error("the receiver " + receiver.str() + " got no event for the delete within 15 s (it got " +
                                     std::to_string(events.size()) + "): does the registry's notifications.endpoints name it?");
    }
    for (const nlohmann::json& event : events) {
        const nlohmann::json& target = event["target"];
        const nlohmann::json& request = event["request"];
        const double latency_ms = (event["received_unix_us"].get<long long>() - unix_microseconds(event["timestamp"])) / 1000.0;
        std::cout << std::left << std::setw(7) << event.value("action", "") << target.value("repository", "")
                  << (target.contains("tag") ? ":" + target.value("tag", "") : "")
                  << (target.contains("digest") ? " " + target.value("digest", "") : "") << "\n        ";
        if (target.contains("mediaType")) std::cout << target.value("mediaType", "") << ", " << target.value("size", 0) << " bytes, ";
        if (target.contains("fromRepository")) std::cout << "from " << target.value("fromRepository", "") << ", ";
        std::cout << request.value("method", "") << " by " << request.value("useragent", "") << ", delivered after "
                  << std::fixed << std::setprecision(1) << latency_ms << " ms\n";
    }
    std::cout << events.size() << " events.\n";
    //! [events]

    //! [metrics]
    // The counters on the debug address, read before and after: what moved, by handler,
    // method and status, against the requests this program sent to the registry.
    const MetricsText after = fetch_metrics(debug_http, debug.str());
    std::cout << "\n== /metrics: what moved\n";
    const double counted = print_deltas(before, after, "registry_http_requests_total");
    print_deltas(before, after, "registry_storage_cache_total");
    int total_sent = 0;
    for (const auto& [method, count] : sent) total_sent += count;
    std::cout << "registry_http_requests_total moved by " << static_cast<long long>(counted) << "; this program sent "
              << total_sent << " requests to the registry\n";
    //! [metrics]

    //! [health]
    // /debug/health lists the checks that fail, with why; {} and 200 when none does. A file
    // check fails while its file exists: the operator's switch for maintenance.
    std::cout << "\n== Health\n";
    HealthReport health = fetch_health(debug_http, debug.str());
    std::cout << "/debug/health: " << health.status << " " << health.checks.dump() << "\n";
    ClientOptions unobserved = workbook::client_options();
    unobserved.observers.clear();
    RegistryClient poller(registry, unobserved);
    {
        const MaintenanceFile file(maintenance);
        const auto down = time_until_v2_answers(poller, 503, std::chrono::seconds(15),
                                                "the registry did not go into maintenance within 15 s of creating " + maintenance_text +
                                                    ": does its config.yml name it under health.file?");
        std::cout << "created " << maintenance.filename().string() << ": /v2/ answered 503 after " << down.count() << " ms\n";
        try {
            client.ping();
            throw std::runtime_error("/v2/ answered 200 in maintenance");
        } catch (const RegistryError& error) {
            std::cout << "GET /v2/: " << error.status() << " " << error.code() << "\n";
        }
        health = fetch_health(debug_http, debug.str());
        std::cout << "/debug/health: " << health.status << " " << health.checks.dump() << "\n";
    }
    const auto up = time_until_v2_answers(poller, 200, std::chrono::seconds(15), "the registry stayed in maintenance 15 s after " + maintenance_text + " was removed");
    std::cout << "removed it: /v2/ answered 200 after " << up.count() << " ms\n";
    client.ping();
    health = fetch_health(debug_http, debug.str());
    std::cout << "/debug/health: " << health.status << " " << health.checks.dump() << "\n";
    //! [health]

    //! [vars]
    // /debug/vars (Go's expvar): per endpoint, how many events were sent, failed and are
    // still queued. Pending that grows is the backlog an operator watches for.
    std::cout << "\n== /debug/vars: the notification endpoints\n";
    const nlohmann::json vars = fetch_debug_vars(debug_http, debug.str());
    for (const nlohmann::json& endpoint : vars.at("registry").at("notifications").at("endpoints")) {
        const nlohmann::json& metrics = endpoint.at("Metrics");
        std::cout << endpoint.value("name", "") << " " << endpoint.value("url", "") << ": " << metrics.value("Events", 0) << " events, "
                  << metrics.value("Successes", 0) << " delivered, " << metrics.value("Failures", 0) << " failures, "
                  << metrics.value("Errors", 0) << " errors, " << metrics.value("Pending", 0) << " pending\n";
    }
    //! [vars]
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "13_watching_the_registry: " << error.what() << "\n";
    return EXIT_FAILURE;
}
