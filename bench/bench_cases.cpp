#include "bench_cases.hpp"

#include "wbclient/model/digest.hpp"
#include "wbclient/image/oci_layout.hpp"
#include "wbclient/distribution/registry_client.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bench {
namespace fs = std::filesystem;

namespace {

// Quoted for bash: the scripts below are generated, so every value goes in single quotes.
std::string quote(const std::string& text) {
    std::string quoted = "'";
    for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
}

// ---- The bound: what curl does when it knows every digest and runs every blob at once ----

// The shell around the per-blob commands: all blobs started at once, each waited for, so
// one failure fails the script (set -e), then the manifest last, as the registry requires.
std::string parallel_blobs(const std::string& function, const std::vector<std::string>& calls,
                           const std::string& after) {
    std::string script = "set -euo pipefail\n" + function + "\npids=()\n";
    for (const auto& call : calls) script += call + " & pids+=($!)\n";
    script += "for pid in \"${pids[@]}\"; do wait \"$pid\"; done\n" + after + "\n";
    return script;
}

std::string manifest_put(const std::string& url, const std::string& media_type,
                         const std::string& body) {
    return "curl -sS -f -o /dev/null -X PUT -H " + quote("Content-Type: " + media_type) +
           " --data-binary " + body + " " + quote(url);
}

// Push: POST for a session, then one PUT ?digest= streaming the file (--upload-file; with
// --data-binary @file curl first reads all 128 MiB into memory, and was slower here). No
// Expect: 100-continue round trip.
std::string push_script(const std::string& registry, const std::string& repository,
                        const BenchImage& image) {
    const std::string function =
        "push_blob() {\n"
        "  local location\n"
        "  location=$(curl -sS -f -X POST -o /dev/null -w '%header{location}' " +
        quote(registry + "/v2/" + repository + "/blobs/uploads/") +
        ")\n"
        "  curl -sS -f -o /dev/null -X PUT -H 'Expect:' -H 'Content-Type: "
        "application/octet-stream' --upload-file \"$2\" \"$location&digest=$1\"\n"
        "}";
    std::vector<std::string> calls;
    for (const auto& blob : image.blobs)
        calls.push_back("push_blob " + blob.digest.str() + " " +
                        quote(image.blob_file(blob.digest).string()));
    return parallel_blobs(
        function, calls,
        manifest_put(registry + "/v2/" + repository + "/manifests/" + image.tag,
                     image.manifest.media_type, "@" + quote(image.manifest_file().string())));
}

// Pull: the manifest, then every blob at once, each straight into a file.
std::string pull_script(const std::string& registry, const std::string& repository,
                        const BenchImage& image, const fs::path& folder) {
    std::string script = "set -euo pipefail\nmkdir -p " + quote(folder.string()) + "\n";
    script += "curl -sS -f -o " + quote((folder / "manifest.json").string()) + " -H " +
              quote("Accept: " + image.manifest.media_type) + " " +
              quote(registry + "/v2/" + repository + "/manifests/" + image.tag) + "\n";
    std::vector<std::string> calls;
    for (const auto& blob : image.blobs)
        calls.push_back("curl -sS -f -o " + quote((folder / blob.digest.hex()).string()) + " " +
                        quote(registry + "/v2/" + repository + "/blobs/" + blob.digest.str()));
    return script + parallel_blobs("", calls, "");
}

// Copy between registries: each blob's GET piped into its PUT (chunked), all at once.
std::string copy_script(const std::string& from, const std::string& from_repository,
                        const std::string& to, const std::string& to_repository,
                        const BenchImage& image) {
    const std::string function =
        "copy_blob() {\n"
        "  local location\n"
        "  location=$(curl -sS -f -X POST -o /dev/null -w '%header{location}' " +
        quote(to + "/v2/" + to_repository + "/blobs/uploads/") +
        ")\n"
        "  curl -sS -f " + quote(from + "/v2/" + from_repository + "/blobs/") +
        "\"$1\" | curl -sS -f -o /dev/null -X PUT -H 'Expect:' -H 'Content-Type: "
        "application/octet-stream' -T - \"$location&digest=$1\"\n"
        "}";
    std::vector<std::string> calls;
    for (const auto& blob : image.blobs) calls.push_back("copy_blob " + blob.digest.str());
    const std::string manifest =
        "curl -sS -f -H " + quote("Accept: " + image.manifest.media_type) + " " +
        quote(from + "/v2/" + from_repository + "/manifests/" + image.tag) + " | " +
        manifest_put(to + "/v2/" + to_repository + "/manifests/" + image.tag,
                     image.manifest.media_type, "@-");
    return parallel_blobs(function, calls, manifest);
}

// Copy within one registry: a cross-repository mount per blob (201, no bytes), then the
// manifest.
std::string mount_script(const std::string& registry, const std::string& from_repository,
                         const std::string& to_repository, const BenchImage& image) {
    const std::string function =
        "mount_blob() {\n"
        "  local status\n"
        "  status=$(curl -sS -o /dev/null -w '%{http_code}' -X POST " +
        quote(registry + "/v2/" + to_repository + "/blobs/uploads/?mount=") + "\"$1\"" +
        quote("&from=" + from_repository) +
        ")\n"
        "  [ \"$status\" = 201 ] || { echo \"mount of $1 answered $status\" >&2; return 1; }\n"
        "}";
    std::vector<std::string> calls;
    for (const auto& blob : image.blobs) calls.push_back("mount_blob " + blob.digest.str());
    const std::string manifest =
        "curl -sS -f -H " + quote("Accept: " + image.manifest.media_type) + " " +
        quote(registry + "/v2/" + from_repository + "/manifests/" + image.tag) + " | " +
        manifest_put(registry + "/v2/" + to_repository + "/manifests/" + image.tag,
                     image.manifest.media_type, "@-");
    return parallel_blobs(function, calls, manifest);
}

// ---- Checks, after the clock stopped ----

std::set<std::string> blob_digests(const BenchImage& image) {
    std::set<std::string> digests;
    for (const auto& blob : image.blobs) digests.insert(blob.digest.str());
    return digests;
}

// curl's files: each must hash to the digest it was asked for.
void check_files(const fs::path& folder, const BenchImage& image, const std::string& what) {
    for (const auto& blob : image.blobs)
        if (wbclient::digest_of_file(folder / blob.digest.hex()) != blob.digest)
            throw std::runtime_error(what + ": " + blob.digest.str() + " did not verify");
    if (wbclient::digest_of_file(folder / "manifest.json") != image.manifest.digest)
        throw std::runtime_error(what + ": the manifest did not verify");
}

double median_of(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

// The registry serves the image under its tag: a manifest naming exactly our blobs, and
// every blob at its full size. skopeo may re-serialise the manifest; the blobs must match.
void check_registry_has(const std::string& registry, const std::string& repository,
                        const BenchImage& image, const std::string& what) {
    wbclient::RegistryClient client(registry);
    const auto manifest = client.get_manifest(repository, image.tag);
    std::set<std::string> named;
    for (const auto& blob : manifest.parsed.references()) named.insert(blob.digest.str());
    if (named != blob_digests(image))
        throw std::runtime_error(what + ": the registry's manifest names other blobs");
    for (const auto& blob : image.blobs)
        if (client.blob_size(repository, blob.digest) != blob.size)
            throw std::runtime_error(what + ": the registry lacks " + blob.digest.str());
}

// A pulled OCI layout: every blob index.json reaches re-hashed (wbclient::verify_oci_layout).
void check_layout(const fs::path& layout, const BenchImage& image, const std::string& what) {
    const std::size_t verified = wbclient::verify_oci_layout(layout);
    if (verified != image.blobs.size() + 1)
        throw std::runtime_error(what + ": the layout holds " + std::to_string(verified) +
                                 " verified blobs, expected " +
                                 std::to_string(image.blobs.size() + 1));
}

FreshRegistry::FreshRegistry(const fs::path& directory, const harness::RegistrySpec& spec)
    : directory_(directory) {
    fs::create_directories(directory_);
    // Always the native engine: the benchmark measures the registry binary, not Docker.
    instance_ = harness::start_registry(spec, directory_, "native");
}

FreshRegistry::~FreshRegistry() {
    instance_.reset();
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
}

BenchRunner::BenchRunner(fs::path work, fs::path transfer_program)
    : work_(std::move(work)), transfer_program_(std::move(transfer_program)) {
    scratch_ = work_ / "captured";
    fs::create_directories(scratch_);
    // skopeo offline and on its own: a policy that accepts anything (there are no signatures
    // here; without a policy skopeo refuses to copy), no registries.conf of the machine's,
    // an empty auth file, and its temporary files in our scratch space. Plain HTTP comes from
    // --src/--dest-tls-verify=false, which let it fall back from HTTPS.
    const fs::path config = work_ / "skopeo";
    fs::create_directories(config / "tmp");
    skopeo_policy_ = config / "policy.json";
    std::ofstream(skopeo_policy_) << R"({"default":[{"type":"insecureAcceptAnything"}]})" << '\n';
    std::ofstream(config / "registries.conf") << "unqualified-search-registries = []\n";
    std::ofstream(config / "auth.json") << R"({"auths":{}})" << '\n';
    skopeo_options_.scratch = scratch_;
    skopeo_options_.environment = {
        {"CONTAINERS_REGISTRIES_CONF", (config / "registries.conf").string()},
        {"REGISTRY_AUTH_FILE", (config / "auth.json").string()},
        {"TMPDIR", (config / "tmp").string()}};
}

std::unique_ptr<FreshRegistry> BenchRunner::fresh_registry(const harness::RegistrySpec& spec) {
    return std::make_unique<FreshRegistry>(next_folder(spec.role), spec);
}

// A new repository name for every run: skopeo remembers where it saw blobs (its blob info
// cache), and must not find an earlier run's copy to mount from.
std::string BenchRunner::next_repository() { return "bench/run-" + std::to_string(++counter_); }

fs::path BenchRunner::next_folder(const std::string& what) {
    return work_ / (what + "-" + std::to_string(++counter_));
}

TimedRun BenchRunner::checked(const std::string& what, const std::vector<std::string>& argv) {
    TimedRun run = run_timed(argv, {.scratch = scratch_});
    if (run.exit_code != 0)
        throw std::runtime_error(what + " failed (exit " + std::to_string(run.exit_code) +
                                 "): " + first_line(run.err + run.out));
    return run;
}

TimedRun BenchRunner::ours(const std::string& what, const std::vector<std::string>& args) {
    std::vector<std::string> argv{transfer_program_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return checked(what, argv);
}

TimedRun BenchRunner::skopeo(const std::string& what, const std::string& source,
                             const std::string& destination) {
    TimedRun run = run_timed({"skopeo", "--policy", skopeo_policy_.string(), "copy", "--quiet",
                              "--src-tls-verify=false", "--dest-tls-verify=false", source,
                              destination},
                             skopeo_options_);
    if (run.exit_code != 0)
        throw std::runtime_error(what + " failed (exit " + std::to_string(run.exit_code) +
                                 "): " + first_line(run.err + run.out));
    return run;
}

TimedRun BenchRunner::script(const std::string& what, const std::string& bash_script) {
    const fs::path file = scratch_ / ("script-" + std::to_string(++counter_) + ".sh");
    std::ofstream(file) << bash_script;
    return checked(what, {"bash", file.string()});
}

void BenchRunner::seed(const FreshRegistry& registry, const BenchImage& image,
                       const std::string& repository) {
    ours("seeding", {"push", image.layout.string(),
                     registry.host_port() + "/" + repository + ":" + image.tag});
}

std::vector<Measurement> BenchRunner::run_cases(const BenchImage& image, unsigned reps,
                                                bool progress) {
    const char* names[] = {"", "push layout -> registry", "pull registry -> layout",
                           "copy registry -> registry", "copy within a registry"};
    std::vector<Measurement> results;
    const auto slot = [&](int number, const std::string& tool) -> Measurement& {
        for (auto& m : results)
            if (m.case_number == number && m.tool == tool) return m;
        results.push_back({.case_number = number, .case_name = names[number], .tool = tool,
                           .bytes = image.total_bytes()});
        return results.back();
    };
    const auto record = [&](int number, const std::string& tool, const TimedRun& run) {
        Measurement& m = slot(number, tool);
        m.seconds.push_back(run.seconds);
        m.peak_rss_kib.push_back(run.peak_rss_kib);
        if (progress)
            std::cerr << "  case " << number << " " << tool << ": " << run.seconds << " s\n";
    };
    const std::string ref_tail = ":" + image.tag;

    // 1. Push: a fresh registry for every run, so nothing is there yet.
    for (unsigned rep = 0; rep < reps; ++rep)
        for (const auto& tool : tools) {
            const auto registry = fresh_registry();
            const std::string repository = next_repository();
            const std::string target = registry->host_port() + "/" + repository + ref_tail;
            const std::string what = "case 1 (push) by " + tool;
            TimedRun run =
                tool == "ours"     ? ours(what, {"push", image.layout.string(), target})
                : tool == "skopeo" ? skopeo(what, "oci:" + image.layout.string() + ref_tail,
                                            "docker://" + target)
                                   : script(what, push_script(registry->url(), repository, image));
            check_registry_has(registry->host_port(), repository, image, what);
            record(1, tool, run);
        }

    // 2. Pull: one seeded registry (a pull changes nothing there), a new folder every run.
    {
        const auto registry = fresh_registry();
        const std::string repository = next_repository();
        seed(*registry, image, repository);
        const std::string source = registry->host_port() + "/" + repository + ref_tail;
        for (unsigned rep = 0; rep < reps; ++rep)
            for (const auto& tool : tools) {
                const fs::path folder = next_folder("pulled");
                const std::string what = "case 2 (pull) by " + tool;
                if (tool == "ours") {
                    record(2, tool, ours(what, {"pull", source, folder.string()}));
                    check_layout(folder, image, what);
                } else if (tool == "skopeo") {
                    record(2, tool, skopeo(what, "docker://" + source,
                                           "oci:" + folder.string() + ref_tail));
                    check_layout(folder, image, what);
                } else {
                    record(2, tool,
                           script(what, pull_script(registry->url(), repository, image, folder)));
                    check_files(folder, image, what);
                }
                fs::remove_all(folder);
            }
    }

    // 3. Copy between registries: one seeded source, a fresh destination every run.
    {
        const auto source_registry = fresh_registry();
        const std::string source_repository = next_repository();
        seed(*source_registry, image, source_repository);
        const std::string source = source_registry->host_port() + "/" + source_repository;
        for (unsigned rep = 0; rep < reps; ++rep)
            for (const auto& tool : tools) {
                const auto registry = fresh_registry();
                const std::string repository = next_repository();
                const std::string target = registry->host_port() + "/" + repository;
                const std::string what = "case 3 (copy between registries) by " + tool;
                TimedRun run =
                    tool == "ours" ? ours(what, {"copy", source + ref_tail, target + ref_tail})
                    : tool == "skopeo"
                        ? skopeo(what, "docker://" + source + ref_tail,
                                 "docker://" + target + ref_tail)
                        : script(what, copy_script(source_registry->url(), source_repository,
                                                   registry->url(), repository, image));
                check_registry_has(registry->host_port(), repository, image, what);
                record(3, tool, run);
            }
    }

    // 4. Copy within one registry to another repository: a fresh, seeded registry every run.
    for (unsigned rep = 0; rep < reps; ++rep)
        for (const auto& tool : tools) {
            const auto registry = fresh_registry();
            const std::string from = next_repository();
            const std::string to = next_repository();
            seed(*registry, image, from);
            const std::string base = registry->host_port() + "/";
            const std::string what = "case 4 (copy within a registry) by " + tool;
            TimedRun run =
                tool == "ours" ? ours(what, {"copy", base + from + ref_tail, base + to + ref_tail})
                : tool == "skopeo"
                    ? skopeo(what, "docker://" + base + from + ref_tail,
                             "docker://" + base + to + ref_tail)
                    : script(what, mount_script(registry->url(), from, to, image));
            check_registry_has(registry->host_port(), to, image, what);
            record(4, tool, run);
        }
    return results;
}

HeadsResult BenchRunner::run_heads(const BenchImage& image, unsigned count, unsigned reps) {
    const auto registry = fresh_registry();
    const std::string repository = next_repository();
    seed(*registry, image, repository);
    const std::regex cost(R"(([0-9.]+) ms per request; connections opened: ([0-9]+) \(([0-9]+))");
    std::vector<std::pair<double, HeadsResult>> runs;
    for (unsigned rep = 0; rep < reps; ++rep) {
        const TimedRun run = ours("heads", {"heads", registry->host_port() + "/" + repository +
                                                         ":" + image.tag,
                                            std::to_string(count)});
        std::smatch match;
        const std::string line = first_line(run.out);
        if (!std::regex_search(line, match, cost))
            throw std::runtime_error("cannot read workbook_transfer heads: " + line);
        HeadsResult result{.count = count,
                           .per_request_ms = std::stod(match[1]),
                           .connections_opened = std::stol(match[2]),
                           .opened_during_heads = std::stol(match[3]),
                           .line = line};
        runs.emplace_back(result.per_request_ms, result);
    }
    std::sort(runs.begin(), runs.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<double> costs;
    for (const auto& run : runs) costs.push_back(run.first);
    HeadsResult median = runs[runs.size() / 2].second;
    median.per_request_ms = median_of(costs);

    // curl -I with several URLs keeps one connection; its start-up cancels out.
    const std::string blob_url = registry->url() + "/v2/" + repository + "/blobs/" +
                                 image.blobs.back().digest.str();
    const auto heads_by_curl = [&](unsigned urls) {
        std::vector<std::string> argv{"curl", "-sS", "-f", "-I", "-o", "/dev/null"};
        for (unsigned i = 0; i < urls; ++i) argv.push_back(blob_url);
        return checked("curl HEADs", argv).seconds;
    };
    std::vector<double> curl_costs;
    for (unsigned rep = 0; rep < reps; ++rep)
        curl_costs.push_back((heads_by_curl(count + 1) - heads_by_curl(1)) * 1e3 / count);
    median.curl_per_request_ms = median_of(curl_costs);

    std::vector<double> server_costs;
    for (const auto& exchange : registry->access_log())
        if (exchange.method == "HEAD" && exchange.status == 200)
            server_costs.push_back(std::chrono::duration<double, std::milli>(exchange.duration).count());
    if (server_costs.empty()) throw std::runtime_error("the registry logged no HEAD answered 200");
    median.registry_per_request_ms = median_of(server_costs);
    return median;
}

BigLayerResult BenchRunner::run_big_layer(const BenchImage& image) {
    BigLayerResult result{.bytes = image.total_bytes()};
    const auto registry = fresh_registry();
    const std::string repository = next_repository();
    const std::string reference = registry->host_port() + "/" + repository + ":" + image.tag;
    result.push = ours("the big push", {"push", image.layout.string(), reference});
    check_registry_has(registry->host_port(), repository, image, "the big push");
    const fs::path folder = next_folder("pulled-big");
    result.pull = ours("the big pull", {"pull", reference, folder.string()});
    check_layout(folder, image, "the big pull");
    fs::remove_all(folder);
    return result;
}

namespace {

// A mirror answers a blob it lacks from the upstream while a second fetch of its own stores
// the blob in the background (registry 2.8.2's proxy blob store), so our pull can end before
// the mirror has kept everything. Waits until every blob's data and the repository's link to
// it are on the mirror's disk; the registry moves a finished upload into place, so a data
// file there is whole.
void wait_until_stored(const harness::RegistryInstance& mirror, const std::string& repository,
                       const BenchImage& image) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    const fs::path layers =
        mirror.storage_root() / "docker/registry/v2/repositories" / repository / "_layers/sha256";
    const auto stored = [&](const wbclient::Descriptor& blob) {
        std::error_code error;
        return fs::file_size(mirror.blob_data(blob.digest), error) == blob.size && !error &&
               fs::exists(layers / std::string(blob.digest.hex()) / "link", error);
    };
    while (!std::all_of(image.blobs.begin(), image.blobs.end(), stored)) {
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("the mirror had not stored every blob 120 s after the pull");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

}  // namespace

MirrorResult BenchRunner::run_mirror(const BenchImage& image, unsigned reps, bool progress) {
    MirrorResult result;
    result.blob_count = image.blobs.size();
    result.direct.case_name = "mirror: direct pull from the upstream";
    result.cold.case_name = "mirror: first pull through a fresh mirror (cold)";
    result.cached.case_name = "mirror: second pull through the mirror (cached)";
    for (Measurement* m : {&result.direct, &result.cold, &result.cached}) {
        m->case_number = 5;
        m->tool = "ours";
        m->bytes = image.total_bytes();
    }
    // The upstream plays Docker Hub: seeded once; pulls change nothing there.
    const auto upstream = fresh_registry({.role = "upstream"});
    const std::string repository = next_repository();
    seed(*upstream, image, repository);
    const std::string image_path = "/" + repository + ":" + image.tag;

    const auto pull = [&](Measurement& into, const std::string& registry, const std::string& what) {
        const fs::path folder = next_folder("pulled");
        const TimedRun run = ours(what, {"pull", registry + image_path, folder.string()});
        check_layout(folder, image, what);
        fs::remove_all(folder);
        into.seconds.push_back(run.seconds);
        into.peak_rss_kib.push_back(run.peak_rss_kib);
        if (progress) std::cerr << "  mirror, " << what << ": " << run.seconds << " s\n";
    };
    // What the upstream answered from its log line number `from` on: every request, and the
    // blob GETs among them.
    const std::string blobs_path = "/v2/" + repository + "/blobs/";
    const auto upstream_served = [&](std::size_t from) {
        const auto log = upstream->access_log();
        unsigned requests = 0, blob_gets = 0;
        for (std::size_t i = from; i < log.size(); ++i, ++requests)
            if (log[i].method == "GET" && log[i].path().starts_with(blobs_path)) ++blob_gets;
        return std::pair{requests, blob_gets};
    };

    for (unsigned rep = 0; rep < reps; ++rep) {
        // The direct pull goes first in even repetitions and last in odd ones, so neither
        // side of the comparison always runs first.
        if (rep % 2 == 0) pull(result.direct, upstream->host_port(), "direct pull from the upstream");

        // Cold: a new mirror with empty storage every repetition, so it must fetch everything,
        // as a mirror does the first time anyone pulls an image through it.
        const auto mirror = fresh_registry(harness::mirror_of(upstream->instance()));
        std::size_t logged = upstream->access_log().size();
        pull(result.cold, mirror->host_port(), "first pull through a fresh mirror");
        const auto pulled = std::chrono::steady_clock::now();
        wait_until_stored(mirror->instance(), repository, image);
        result.store_lag_seconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - pulled).count());
        // The upstream logs a GET once its last byte is sent, an instant after the mirror has
        // it: read the count until it holds still.
        auto served = upstream_served(logged);
        for (int settle = 0; settle < 20; ++settle) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            const auto again = upstream_served(logged);
            if (again == served && settle >= 2) break;
            served = again;
        }
        result.cold_upstream_blob_gets.push_back(served.second);

        // Cached: the same mirror again, now holding every blob and the manifest.
        logged = upstream->access_log().size();
        pull(result.cached, mirror->host_port(), "second pull through the mirror");
        served = upstream_served(logged);
        const auto log = upstream->access_log();
        result.cached_upstream_seen.clear();
        for (std::size_t i = logged; i < log.size(); ++i)
            result.cached_upstream_seen.push_back(log[i].method + " " + log[i].path() + " " +
                                                  std::to_string(log[i].status));
        result.cached_upstream_requests.push_back(served.first);
        result.cached_upstream_blob_gets.push_back(served.second);
        if (served.second != 0)
            throw std::runtime_error("the cached pull through the mirror made the upstream serve " +
                                     std::to_string(served.second) + " blob(s)");
        if (rep % 2 == 1) pull(result.direct, upstream->host_port(), "direct pull from the upstream");
    }
    return result;
}

}  // namespace bench
