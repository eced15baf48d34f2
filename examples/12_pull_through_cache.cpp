// Chapter 12: a pull-through cache. Pull busybox through a mirror twice and read, in the
// upstream's own log, what reached the upstream each time; then what a mirror refuses, and the
// deadlines it keeps in scheduler-state.json under its storage.
//
// Usage: 12_pull_through_cache [--upstream-log FILE] [--mirror-storage DIR] [mirror]
//   e.g. 12_pull_through_cache --upstream-log upstream/registry.log --mirror-storage mirror/storage localhost:5004
//   (defaults: $WORKBOOK_UPSTREAM_LOG, $WORKBOOK_MIRROR_STORAGE, $WORKBOOK_MIRROR or localhost:5004)
#include "program_options.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/registry_error.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/transfer/image_transfer.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

using namespace wbclient;
namespace fs = std::filesystem;

namespace {

const char* const usage = "[--upstream-log FILE] [--mirror-storage DIR] [mirror]";

// One request the upstream logged: "GET /v2/library/busybox/manifests/latest 200".
struct LoggedRequest {
    std::string method, uri, user_agent;
    long status = 0;
    std::uint64_t written = 0;  // response bytes
};

// The upstream's log (JSON lines, as 2.8.2 writes them with log.formatter: json), read from an
// offset: what it logged while this program did one thing.
class UpstreamLog {
public:
    explicit UpstreamLog(fs::path file) : file_(std::move(file)) {
        if (!fs::is_regular_file(file_)) throw std::invalid_argument(file_.string() + " is not a file: give the upstream's log as --upstream-log FILE");
    }
    std::uintmax_t size() const { return fs::file_size(file_); }
    // The registry logs a request after answering it, so its last line can land a moment after
    // the mirror answered us: wait until the file has not grown for 300 ms (at most 5 s).
    std::vector<LoggedRequest> requests_since(std::uintmax_t offset) const {
        std::uintmax_t seen = size();
        for (int quiet_ms = 0, waited_ms = 0; quiet_ms < 300 && waited_ms < 5000; waited_ms += 50) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            const std::uintmax_t now = size();
            quiet_ms = now == seen ? quiet_ms + 50 : 0;
            seen = now;
        }
        std::ifstream in(file_);
        in.seekg(static_cast<std::streamoff>(offset));
        std::vector<LoggedRequest> requests;
        for (std::string line; std::getline(in, line);) {
            const nlohmann::json entry = nlohmann::json::parse(line, nullptr, false);
            if (entry.is_discarded() || !entry.is_object() || !entry.contains("http.request.method")) continue;
            requests.push_back({entry.value("http.request.method", ""), entry.value("http.request.uri", ""),
                                entry.value("http.request.useragent", ""), entry.value("http.response.status", 0L),
                                entry.value("http.response.written", std::uint64_t{0})});
        }
        return requests;
    }

private:
    fs::path file_;
};

void print_requests(const std::vector<LoggedRequest>& requests) {
    std::uint64_t bytes = 0;
    for (const LoggedRequest& request : requests) {
        std::cout << "    " << request.method << " " << request.uri << " " << request.status << "  ("
                  << request.written << " bytes, " << request.user_agent << ")\n";
        bytes += request.written;
    }
    std::cout << "  " << requests.size() << " requests reached the upstream, " << bytes << " bytes answered\n";
}

// "2026-12-14T15:42:47.305813023Z" (Go's time.Time in JSON) -> seconds since the epoch.
std::time_t parse_expiry(const std::string& text) {
    std::tm tm{};
    std::istringstream in(text.substr(0, 19));
    in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
    if (in.fail()) throw std::runtime_error("scheduler-state.json: '" + text + "' is not a time");
    std::time_t seconds = timegm(&tm);
    // Go writes the zone as Z or +hh:mm after the fraction.
    const auto zone = text.find_first_of("Z+-", 19);
    if (zone != std::string::npos && text[zone] != 'Z' && text.size() >= zone + 6) {
        const int offset = std::stoi(text.substr(zone + 1, 2)) * 3600 + std::stoi(text.substr(zone + 4, 2)) * 60;
        seconds += text[zone] == '+' ? -offset : offset;
    }
    return seconds;
}

}  // namespace

int main(int argc, char* argv[]) try {
    std::string log_file = workbook::environment_value("WORKBOOK_UPSTREAM_LOG");
    std::string storage = workbook::environment_value("WORKBOOK_MIRROR_STORAGE");
    std::string mirror = workbook::environment_value("WORKBOOK_MIRROR");
    if (mirror.empty()) mirror = "localhost:5004";
    for (int i = 1, positional = 0; i < argc; ++i) {
        const std::string argument = argv[i];
        if ((argument == "--upstream-log" || argument == "--mirror-storage") && i + 1 < argc)
            (argument == "--upstream-log" ? log_file : storage) = argv[++i];
        else if (argument.starts_with("-") || positional++ > 0) {
            std::cerr << "usage: " << argv[0] << " " << usage << "   e.g. --upstream-log upstream/registry.log --mirror-storage mirror/storage localhost:5004\n";
            return EXIT_FAILURE;
        } else mirror = argument;
    }
    if (log_file.empty()) throw std::invalid_argument("no upstream log: give --upstream-log FILE or set WORKBOOK_UPSTREAM_LOG");
    if (storage.empty()) throw std::invalid_argument("no mirror storage: give --mirror-storage DIR or set WORKBOOK_MIRROR_STORAGE");

    //! [open]
    // Every input is checked before a word of output: the upstream's log must be a file, the
    // mirror's storage a folder, and the mirror must answer GET /v2/.
    const UpstreamLog upstream_log(log_file);
    if (!fs::is_directory(storage)) throw std::invalid_argument(storage + " is not a folder: give the mirror's storage as --mirror-storage DIR");
    RegistryClient client(mirror, workbook::client_options());
    client.ping();
    const Reference busybox = Reference::parse(mirror + "/library/busybox:latest");
    const fs::path layout = "busybox-from-mirror.oci";
    //! [open]

    //! [pull_twice]
    // `docker pull` through the mirror, twice, each into a fresh layout with every byte verified;
    // after each, the lines the upstream's log gained while it ran.
    std::optional<Digest> first;
    std::set<std::string> pulled_keys;  // "library/busybox@sha256:...", as the mirror's schedule names them
    for (int pull = 1; pull <= 2; ++pull) {
        const std::uintmax_t offset = upstream_log.size();
        if (fs::exists(layout)) {
            if (!fs::exists(layout / "oci-layout")) throw std::runtime_error(layout.string() + " exists and is not an OCI layout; refusing to delete it");
            fs::remove_all(layout);
        }
        std::cout << "== Pull " << pull << ": " << busybox.str() << "\n";
        const Digest pulled = pull_to_layout(client, busybox, layout, [&](const BlobEvent& event) {
            std::cout << "  pulled " << event.blob.digest.str() << " (" << event.blob.size << " bytes)\n";
            pulled_keys.insert(busybox.repository + "@" + event.blob.digest.str());
        });
        pulled_keys.insert(busybox.repository + "@" + pulled.str());
        std::cout << "  manifest " << pulled.str() << ", " << verify_oci_layout(layout) << " blobs verified\n"
                  << "  The upstream's log meanwhile:\n";
        print_requests(upstream_log.requests_since(offset));
        if (!first) first = pulled;
        else if (pulled != *first) throw std::runtime_error("the second pull got another manifest: " + pulled.str());
    }
    //! [pull_twice]

    //! [refusals]
    // What a mirror cannot do: serve a tag its upstream lacks, or take a push.
    std::cout << "\n== What the mirror refuses\n";
    const std::uintmax_t before_refusals = upstream_log.size();
    try {
        client.get_manifest("library/busybox", "no-such-tag");
        throw std::runtime_error("the mirror served library/busybox:no-such-tag, which the upstream lacks");
    } catch (const RegistryError& error) {
        std::cout << "GET manifests/no-such-tag: " << error.status() << " " << error.code() << "\n";
    }
    const Request push{.method = "POST", .url = client.url("library/busybox", "blobs/uploads/")};
    try {
        perform_expecting(client.http(), push, {202});
        throw std::runtime_error("the mirror accepted a push (POST blobs/uploads/ 202)");
    } catch (const RegistryError& error) {
        std::cout << "POST blobs/uploads/: " << error.status() << " " << error.code()
                  << (error.errors().empty() ? "" : " (" + error.errors().front().message + ")") << "\n";
    }
    std::cout << "  The upstream's log meanwhile:\n";
    print_requests(upstream_log.requests_since(before_refusals));
    //! [refusals]

    //! [scheduler_state]
    // The mirror's deadlines: one entry per blob and manifest it pulled through, with the time
    // it will remove it (2.8.2: seven days after it was cached, not configurable).
    const fs::path state_file = fs::path(storage) / "scheduler-state.json";
    std::cout << "\n== " << state_file.filename().string() << " under the mirror's storage\n";
    // 2.8.2 writes the file at most every 5 seconds: wait (up to 15 s) until it names all we pulled.
    nlohmann::json state;
    for (int waited_ms = 0;; waited_ms += 100) {
        std::ifstream in(state_file);
        state = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
        const bool complete = state.is_object() && std::all_of(pulled_keys.begin(), pulled_keys.end(),
                                                               [&](const std::string& key) { return state.contains(key); });
        if (complete) break;
        if (waited_ms >= 15000)
            throw std::runtime_error(state_file.string() + " does not list what was pulled through " + mirror +
                                     " after 15 s: is it a mirror (proxy.remoteurl)?");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const std::time_t now = std::time(nullptr);
    for (const auto& [key, entry] : state.items()) {
        const std::string expiry = entry.at("ExpiryData").get<std::string>();
        const double days = std::difftime(parse_expiry(expiry), now) / 86400.0;
        std::cout << "  " << (entry.at("EntryType").get<int>() == 0 ? "blob     " : "manifest ") << key << "\n      expires "
                  << expiry << ", in " << std::fixed << std::setprecision(1) << days << " days\n";
    }
    //! [scheduler_state]
    std::cout << state.size() << " entries.\n";
    return EXIT_SUCCESS;
} catch (const std::exception& error) {
    std::cerr << "12_pull_through_cache: " << error.what() << "\n";
    return EXIT_FAILURE;
}
